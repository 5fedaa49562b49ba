package db

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// maxPostgresConns bounds one instance's connections: writes are batched by one background
// writer, so the pool serves the admin UI's reads and the key cache's misses.
const maxPostgresConns = 10

// connectPostgres opens the PostgreSQL database at dsn (postgres://user:password@host:port/db?
// sslmode=disable&search_path=schema; parameters pgdriver does not know are sent to the server
// as session settings). Sessions run in UTC, as the times are stored.
func connectPostgres(ctx context.Context, dsn string) (*bun.DB, error) {
	if _, err := url.Parse(dsn); err != nil || !(strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")) {
		return nil, fmt.Errorf("database.url: %q is not a postgres:// URL", RedactDSN(dsn))
	}
	connector := pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithTracing(false), sessionInUTC)
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(maxPostgresConns)
	sqldb.SetMaxIdleConns(maxPostgresConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute) // several instances share the server's connection slots
	db := bun.NewDB(sqldb, pgdialect.New())
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", RedactDSN(dsn), err)
	}
	return db, nil
}

// sessionInUTC sets the session's time zone to UTC unless the DSN names one.
func sessionInUTC(c *pgdriver.Config) {
	params := map[string]any{}
	for k, v := range c.ConnParams {
		if strings.EqualFold(k, "timezone") {
			return
		}
		params[k] = v
	}
	params["TimeZone"] = "UTC"
	c.ConnParams = params
}

// RedactDSN returns dsn with its password replaced, for messages and logs. A DSN that does not
// parse is not shown at all: it might be nothing but a secret.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(unparsable database URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// advisoryLock takes a PostgreSQL session-level advisory lock named name on one connection of db,
// waiting while another session holds it, and returns its release.
func advisoryLock(ctx context.Context, db *bun.DB, name string) (unlock func(), err error) {
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", key) //nolint:errcheck // closing the session releases it too
		conn.Close()
	}, nil
}
