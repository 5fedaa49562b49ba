package migrations

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The two databases run the same list of migrations: a dialect's own file has a twin in the other
// dialect and none among the shared files, and each dialect sees every migration, up and down.
func TestEveryDialectHasEveryMigration(t *testing.T) {
	sqliteOwn, err := fs.Sub(files, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pgOwn, err := fs.Sub(files, Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := names(t, sqliteOwn), names(t, pgOwn); !slices.Equal(a, b) {
		t.Fatalf("dialect files differ:\nsqlite:   %v\npostgres: %v", a, b)
	}
	shared, err := fs.Glob(files, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names(t, sqliteOwn) {
		if slices.Contains(shared, n) {
			t.Errorf("%s is both shared and sqlite's own", n)
		}
	}

	sqlite, err := For(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := For(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	a, b := names(t, sqlite), names(t, pg)
	if !slices.Equal(a, b) {
		t.Fatalf("migration lists differ:\nsqlite:   %v\npostgres: %v", a, b)
	}
	if len(a) != len(shared)+len(names(t, sqliteOwn)) || len(a)%2 != 0 {
		t.Fatalf("%d files for %d shared and %d own", len(a), len(shared), len(names(t, sqliteOwn)))
	}
	for i := 0; i < len(a); i += 2 { // sorted: NAME.down.sql, then NAME.up.sql
		down, up := a[i], a[i+1]
		if stem, ok := strings.CutSuffix(down, ".down.sql"); !ok || up != stem+".up.sql" {
			t.Errorf("%s and %s are not one migration's down and up", down, up)
		}
	}

	// Each dialect reads its own init, not the other's.
	sqliteInit, err := fs.ReadFile(sqlite, "20261126000001_init.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	pgInit, err := fs.ReadFile(pg, "20261126000001_init.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sqliteInit, []byte("PRIMARY KEY AUTOINCREMENT")) || !bytes.Contains(pgInit, []byte("BIGSERIAL")) ||
		bytes.Contains(pgInit, []byte("PRIMARY KEY AUTOINCREMENT")) {
		t.Fatal("a dialect reads the other dialect's init migration")
	}

	if _, err := For("mysql"); err == nil {
		t.Fatal("For accepted an unknown dialect")
	}
}
