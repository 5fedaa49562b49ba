package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/db/pgtest"
)

// pgCounts are the rows a restart must not add to: accounts, tokens, clients, migrations.
func pgCounts(t *testing.T, dsn string) map[string]int {
	t.Helper()
	ctx := context.Background()
	bdb, _, err := db.Connect(ctx, db.Options{Driver: db.DriverPostgres, URL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	out := map[string]int{}
	for _, table := range []string{"admin_user", "admin_token", "client", "bun_migrations"} {
		n, err := bdb.NewSelect().Table(table).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out[table] = int(n)
	}
	return out
}

// The whole program on PostgreSQL (database.driver postgres): the first launch creates the tables
// and the admin account, a chat request is served through the upstream and shows in the request
// history; a restart on the same database prints no password, creates nothing, and keeps the
// history and the admin's browser session. The database password is never printed.
func TestPostgresWholeProgram(t *testing.T) {
	const dbPassword = "pg-SECRET-pw-41c7" // trust auth: the server never asks for it
	u, err := url.Parse(pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	dsn := u.String()
	env := map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": dsn}

	up := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		mockAnswerWrite(w, readMockRequest(r), mockReply{texts: []string{"served on postgres"}, input: 11, output: 4}) //nolint:errcheck
	})
	g := startRelGateway(t, env, "")
	g.createClient(beOpenAI, up.URL, nil)

	first := g.out.String()
	for _, want := range []string{"AI Gateway first launch:", "created tables in   postgres://postgres:xxxxx@127.0.0.1:5432/", "  username: admin"} {
		if !strings.Contains(first, want) {
			t.Errorf("first launch output lacks %q:\n%s", want, first)
		}
	}
	m := passwordLine.FindAllStringSubmatch(first, -1)
	if len(m) != 1 {
		t.Fatalf("want the admin password printed exactly once:\n%s", first)
	}
	password := m[0][1]
	if _, err := os.Stat(g.dbPath); err == nil {
		t.Errorf("a SQLite file %s was created with driver postgres", g.dbPath)
	}
	if _, err := os.Stat(filepath.Join(g.dir, "data", "master.key")); err != nil {
		t.Errorf("no master key in the data directory: %v", err)
	}

	resp, body := g.call(relOpenAI, beOpenAI, false, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "served on postgres") {
		t.Fatalf("chat request: %d %s", resp.StatusCode, body)
	}
	requestID := resp.Header.Get("X-Request-Id")
	var history struct {
		Requests []struct {
			RequestID    string `json:"request_id"`
			Status       int    `json:"status"`
			InputTokens  int64  `json:"input_tokens"`
			OutputTokens int64  `json:"output_tokens"`
		} `json:"requests"`
	}
	inHistory := func() bool {
		status, body := g.admin(http.MethodGet, "/admin/api/v1/requests", nil)
		if status != http.StatusOK || json.Unmarshal([]byte(body), &history) != nil {
			t.Fatalf("request history: %d %s", status, body)
		}
		return len(history.Requests) == 1 && history.Requests[0].RequestID == requestID
	}
	relWaitFor(t, "the request in the history", 10*time.Second, inHistory)
	if r := history.Requests[0]; r.Status != 200 || r.InputTokens != 11 || r.OutputTokens != 4 {
		t.Errorf("history row %+v, want status 200 with 11 input and 4 output tokens", r)
	}

	browser := noRedirects()
	if resp := login(t, browser, g.url, "admin", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the printed password: %d", resp.StatusCode)
	}
	before := pgCounts(t, dsn)
	if before["admin_user"] != 1 || before["admin_token"] != 1 || before["client"] != 1 || before["bun_migrations"] == 0 {
		t.Fatalf("rows after the first launch: %v", before)
	}

	g.restart()
	second := g.out.String()
	for _, leak := range []string{password, "password:", "first launch", "created"} {
		if strings.Contains(second, leak) {
			t.Errorf("the restart printed %q:\n%s", leak, second)
		}
	}
	if after := pgCounts(t, dsn); !maps.Equal(before, after) {
		t.Errorf("the restart changed the rows: before %v, after %v", before, after)
	}
	if !inHistory() {
		t.Errorf("the request left the history after the restart: %+v", history.Requests)
	}
	resp2, err := browser.Get(g.url + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusOK {
		t.Errorf("the admin session after the restart: GET /admin %d, want 200", resp2.StatusCode)
	}

	for _, out := range []string{first, second} {
		if strings.Contains(out, dbPassword) {
			t.Errorf("the database password was printed:\n%s", out)
		}
	}
}
