// Package pgtest gives tests a PostgreSQL database of their own: a fresh schema in the test
// server, dropped when the test ends.
//
// The server is the one at $AIGW_TEST_POSTGRES_URL, by default the development and CI machines'
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable (trust auth). When it cannot be reached
// a test skips with the reason, and fails instead when CI=true: CI must run every test.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// DefaultURL is the test server when $AIGW_TEST_POSTGRES_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL is the test server's DSN.
func ServerURL() string {
	if u := os.Getenv("AIGW_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a schema of its own for t in the test server and returns a DSN whose sessions
// use it (search_path). The schema and everything in it are dropped at t's cleanup.
func Schema(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	admin, err := open(server)
	if err != nil {
		unreachable(t, err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		unreachable(t, err)
	}
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // never fails
	schema := "test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Available reports whether the test server answers, for tests that choose between databases.
func Available() bool {
	db, err := open(ServerURL())
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

func open(dsn string) (*sql.DB, error) {
	if _, err := url.Parse(dsn); err != nil {
		return nil, err
	}
	return sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithTracing(false))), nil
}

// unreachable skips t, or fails it under CI, which must run every test.
func unreachable(t testing.TB, err error) {
	t.Helper()
	msg := "PostgreSQL not reachable at " + redacted(ServerURL()) + " (start it, or set AIGW_TEST_POSTGRES_URL): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// ServerAddr is the test server's host:port.
func ServerAddr() string {
	u, err := url.Parse(ServerURL())
	if err != nil || u.Host == "" {
		return "127.0.0.1:5432"
	}
	return u.Host
}
