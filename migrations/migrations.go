// Package migrations holds the SQL migrations, embedded into the binary.
//
// One list of migrations serves every database the gateway supports (SPEC §17). A migration whose
// SQL is portable is one file here; one that needs each database's own SQL has a twin of the same
// name in sqlite/ and in postgres/ instead. TestEveryDialectHasEveryMigration keeps the lists equal.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Dialects the migrations are written for, named as their folders are.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

//go:embed *.sql sqlite/*.sql postgres/*.sql
var files embed.FS

// For returns the migrations of dialect (SQLite or Postgres): the shared files with the dialect's
// own files beside them, as one flat folder for bun's migrate.Migrations.Discover.
func For(dialect string) (fs.FS, error) {
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	own, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, err
	}
	return overlay{shared: files, own: own}, nil
}

// overlay is the shared top-level files and one dialect's files, seen as one folder. A name in
// both is the dialect's (TestEveryDialectHasEveryMigration refuses such a pair all the same).
type overlay struct {
	shared, own fs.FS
}

// Open opens name from the dialect's files first, then from the shared ones; "." is the folder.
func (o overlay) Open(name string) (fs.File, error) {
	if name == "." {
		return o.shared.Open(name)
	}
	if strings.Contains(name, "/") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if f, err := o.own.Open(name); err == nil {
		return f, nil
	}
	return o.shared.Open(name)
}

// ReadDir lists the folder: the files of both, by name, without the dialects' sub-folders.
func (o overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	seen := map[string]bool{}
	for _, fsys := range []fs.FS{o.own, o.shared} {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() && !seen[e.Name()] {
				seen[e.Name()] = true
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}
