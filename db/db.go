// Package db opens the database, runs the migrations and holds the bun models and their stores.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)

	"github.com/aigateway/ai-gateway/migrations"
)

// Drivers the gateway stores its data with (database.driver, SPEC §17).
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Options says which database to open: a SQLite file at Path (the default driver), or the
// PostgreSQL database at the DSN URL.
type Options struct {
	Driver string
	Path   string
	URL    string
}

// Name is the database as messages show it: the SQLite file, or the PostgreSQL DSN without its
// password.
func (o Options) Name() string {
	if o.Driver == DriverPostgres {
		return RedactDSN(o.URL)
	}
	return o.Path
}

// Connect opens the database o names and runs every pending migration. created reports that
// the database held no migrated schema before: a first launch.
func Connect(ctx context.Context, o Options) (d *bun.DB, created bool, err error) {
	switch o.Driver {
	case DriverPostgres:
		d, err = connectPostgres(ctx, o.URL)
	case DriverSQLite, "":
		d, err = connectSQLite(ctx, o.Path)
	default:
		return nil, false, fmt.Errorf("database.driver: %q is not sqlite or postgres", o.Driver)
	}
	if err != nil {
		return nil, false, err
	}
	created, err = migrateSchema(ctx, d)
	if err != nil {
		d.Close()
		return nil, false, err
	}
	return d, created, nil
}

// Open opens (creating if needed) the SQLite database at path and runs every pending migration.
func Open(ctx context.Context, path string) (*bun.DB, error) {
	d, _, err := Connect(ctx, Options{Driver: DriverSQLite, Path: path})
	return d, err
}

// connectSQLite opens the SQLite database at path, creating its directory.
//
// Pragmas go in the DSN so every pooled connection gets them: busy_timeout first (so a second
// process such as `ai-gateway admin reset-password` waits instead of failing), WAL, foreign
// keys and synchronous=NORMAL. Writes are few and batched, so one connection is enough and
// avoids SQLITE_BUSY between our own writers.
func connectSQLite(ctx context.Context, path string) (*bun.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(1)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// dialectOf names db's migrations folder.
func dialectOf(db bun.IDB) string {
	if db.Dialect().Name() == dialect.PG {
		return migrations.Postgres
	}
	return migrations.SQLite
}

// Migrator returns bun's migrator over the embedded SQL files of db's dialect.
func Migrator(db *bun.DB) (*migrate.Migrator, error) {
	fsys, err := migrations.For(dialectOf(db))
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	return migrate.NewMigrator(db, ms), nil
}

// Migrate applies every pending migration.
func Migrate(ctx context.Context, db *bun.DB) error {
	_, err := migrateSchema(ctx, db)
	return err
}

// migrateSchema applies every pending migration and reports whether none had been applied
// before. On PostgreSQL, where several instances may start at once on one database, it holds an
// advisory lock meanwhile, so one instance migrates and the others wait and find nothing to do.
func migrateSchema(ctx context.Context, db *bun.DB) (fresh bool, err error) {
	m, err := Migrator(db)
	if err != nil {
		return false, err
	}
	if db.Dialect().Name() == dialect.PG {
		unlock, err := advisoryLock(ctx, db, "ai-gateway migrate")
		if err != nil {
			return false, err
		}
		defer unlock()
	}
	if err := m.Init(ctx); err != nil {
		return false, fmt.Errorf("init migrations: %w", err)
	}
	applied, err := m.AppliedMigrations(ctx)
	if err != nil {
		return false, fmt.Errorf("read migration status: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return false, fmt.Errorf("lock migrations: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck
	if _, err := m.Migrate(ctx); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	return len(applied) == 0, nil
}

// isPostgres reports whether db speaks PostgreSQL, for the few statements spelt differently.
func isPostgres(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }
