package db

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/uptrace/bun"
)

// tempDB opens a fresh, migrated SQLite file in the test's temp dir.
func tempDB(t *testing.T) *bun.DB { return sqliteDB(t) }

var specTables = []string{"admin_session", "admin_token", "admin_user", "audit_log", "client", "mcp_server", "model_price", "request_log", "response", "setting", "usage_daily", "written_batch"}

func TestMigrationsUpDownUp(t *testing.T) { eachDB(t, testMigrationsUpDownUp) }

func testMigrationsUpDownUp(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	if got := tables(t, d); !slices.Equal(got, specTables) {
		t.Fatalf("after up: tables %v, want %v", got, specTables)
	}

	m, err := Migrator(d)
	if err != nil {
		t.Fatal(err)
	}
	for {
		group, err := m.Rollback(ctx)
		if err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if group.IsZero() {
			break
		}
	}
	if got := tables(t, d); len(got) != 0 {
		t.Fatalf("after down: tables %v remain", got)
	}

	if err := Migrate(ctx, d); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := tables(t, d); !slices.Equal(got, specTables) {
		t.Fatalf("after up again: tables %v, want %v", got, specTables)
	}
	// The schema works after the round trip, not just exists.
	if _, err := NewClients(d).Create(ctx, &Client{Name: "after", Backend: "openai"}); err != nil {
		t.Fatal(err)
	}
}

// A second process (the CLI) opening the same file while the server holds it must work.
func TestOpenTwiceSameFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gw.db")
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := NewAdminUsers(b).Create(ctx, "second", "password-123456789012"); err != nil {
		t.Fatal(err)
	}
	if n, err := NewAdminUsers(a).Count(ctx); err != nil || n != 1 {
		t.Fatalf("first handle sees %d users (%v), want 1", n, err)
	}
}

// columns lists each table's columns (bun's own tables left out), "table.column", sorted.
func columns(t *testing.T, d *bun.DB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, table := range tables(t, d) {
		var names []string
		q := d.NewRaw("SELECT name FROM pragma_table_info(?)", table)
		if isPostgres(d) {
			q = d.NewRaw("SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?", table)
		}
		if err := q.Scan(ctx, &names); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			out = append(out, table+"."+n)
		}
	}
	slices.Sort(out)
	return out
}

// The dialects' own migrations build the same tables with the same columns.
func TestDialectsBuildTheSameSchema(t *testing.T) {
	sqlite, pg := columns(t, sqliteDB(t)), columns(t, postgresDB(t))
	if !slices.Equal(sqlite, pg) {
		t.Fatalf("columns differ:\nsqlite:   %v\npostgres: %v", sqlite, pg)
	}
	if len(sqlite) < 50 {
		t.Fatalf("only %d columns: %v", len(sqlite), sqlite)
	}
}
