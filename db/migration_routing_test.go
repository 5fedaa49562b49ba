package db

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/aigateway/ai-gateway/migrations"
)

// releaseMigrations are the migrations of the release before routing (SPEC §15): a database it
// created holds exactly these.
func releaseMigrations(t *testing.T) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	fsys, err := migrations.For(migrations.SQLite) // the release ran on SQLite only
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n < "20261204" {
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = &fstest.MapFile{Data: b}
		}
	}
	if len(out) != 4 {
		t.Fatalf("release migrations: %d files, want 4", len(out))
	}
	return out
}

// A database created by the release before routing keeps every client setting through the
// routing migration: the backend columns become the client's first (and only) target, with no
// further key and no fallback, and the request log keeps its rows.
func TestRoutingMigrationKeepsReleaseDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gateway.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Undo everything, then migrate with the release's files only.
	m, err := Migrator(d)
	if err != nil {
		t.Fatal(err)
	}
	for {
		g, err := m.Rollback(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g.IsZero() {
			break
		}
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(releaseMigrations(t)); err != nil {
		t.Fatal(err)
	}
	old := migrate.NewMigrator(d, ms)
	if err := old.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The release's rows, written as the release wrote them (its columns only).
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if _, err := d.ExecContext(ctx, `INSERT INTO client (name, description, active, key_hash, key_prefix, key_hint,
		backend, base_url, upstream_key, upstream_key_hint, azure_api_version, default_model, model_whitelist,
		models_cache, system_prompt, tool_mode, requests_per_minute, requests_per_hour, requests_per_day,
		max_input_tokens_per_day, max_output_tokens_per_day, max_requests_per_day, max_input_tokens,
		max_output_tokens, created_at, updated_at) VALUES ('app', 'd', 1, 'abc', 'gm_', 'wxyz', 'azure',
		'https://x.openai.azure.com', X'00010203', 'k123', '2024-10-21', 'gpt-4o', '["gpt-4o"]', '[]', 'be brief',
		'passthrough', 1, 2, 3, 4, 5, 6, 7, 8, ?, ?)`, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO request_log (time, request_id, client_id, endpoint, status,
		provider) VALUES (?, 'r1', 1, '/v1/chat/completions', 200, 'azure')`, now); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d, err = Open(ctx, path) // the new binary's start: runs the routing migration
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := NewClients(d).Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "app" || c.Backend != "azure" || c.BaseURL != "https://x.openai.azure.com" ||
		string(c.UpstreamKey) != "\x00\x01\x02\x03" || c.UpstreamKeyHint != "k123" || c.AzureAPIVersion != "2024-10-21" ||
		c.DefaultModel != "gpt-4o" || strings.Join(c.ModelWhitelist, ",") != "gpt-4o" || c.SystemPrompt != "be brief" ||
		c.RequestsPerMinute != 1 || c.MaxOutputTokens != 8 || !c.CreatedAt.Equal(now) {
		t.Fatalf("client changed by the migration: %+v", c)
	}
	if len(c.UpstreamKeys) != 0 || len(c.Fallbacks) != 0 {
		t.Fatalf("migrated client has keys %v / fallbacks %v, want none", c.UpstreamKeys, c.Fallbacks)
	}
	rows, err := NewRequestLogStore(d).List(ctx, RequestLogFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].RequestID != "r1" || rows[0].Provider != "azure" || len(rows[0].Attempts) != 0 {
		t.Fatalf("request log after migration: %+v", rows)
	}
	// The new columns round-trip.
	c.Fallbacks = Targets{{Backend: "gemini", Model: "gemini-2.5-flash", Keys: []SealedKey{{Ciphertext: []byte{9, 8}, Hint: "abcd"}}}}
	c.UpstreamKeys = SealedKeys{{Ciphertext: []byte{7}, Hint: "efgh"}}
	if err := NewClients(d).Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := NewClients(d).Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fallbacks) != 1 || got.Fallbacks[0].Model != "gemini-2.5-flash" || string(got.Fallbacks[0].Keys[0].Ciphertext) != "\x09\x08" ||
		len(got.UpstreamKeys) != 1 || got.UpstreamKeys[0].Hint != "efgh" {
		t.Fatalf("targets did not round-trip: %+v %+v", got.Fallbacks, got.UpstreamKeys)
	}
}
