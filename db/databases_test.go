package db

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/aigateway/ai-gateway/db/pgtest"
)

// eachDB runs test on a fresh, migrated database of every driver: a SQLite file in the test's
// temp dir, and a PostgreSQL schema of its own (skipped with the reason when the test server is
// unreachable, failed under CI).
func eachDB(t *testing.T, test func(t *testing.T, d *bun.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteDB(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresDB(t)) })
}

// sqliteDB opens a fresh, migrated SQLite file in the test's temp dir.
func sqliteDB(t testing.TB) *bun.DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "data", "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// postgresDB opens a fresh, migrated PostgreSQL schema (see pgtest.Schema).
func postgresDB(t testing.TB) *bun.DB {
	t.Helper()
	d, _, err := Connect(context.Background(), Options{Driver: DriverPostgres, URL: pgtest.Schema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() }) // before pgtest drops the schema: cleanups run last-in first-out
	return d
}

// tables lists the gateway's tables (bun's own left out), by name.
func tables(t *testing.T, d *bun.DB) []string {
	t.Helper()
	var names []string
	q := d.NewSelect().Table("sqlite_master").Column("name").
		Where("type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'bun_%'")
	if isPostgres(d) {
		q = d.NewSelect().Table("information_schema.tables").ColumnExpr("table_name::text").
			Where("table_schema = current_schema() AND table_name NOT LIKE 'bun_%'")
	}
	if err := q.OrderExpr("1").Scan(context.Background(), &names); err != nil {
		t.Fatal(err)
	}
	return names
}
