// Package migrations holds the SQL migrations, embedded into the binary.
package migrations

import "embed"

// FS holds the *.up.sql / *.down.sql files, discovered by bun's migrate.Migrations.Discover.
//
//go:embed *.sql
var FS embed.FS
