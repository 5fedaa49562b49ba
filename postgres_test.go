package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/db/pgtest"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
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
// history; `ai-gateway migrate` finds it up to date; a restart on the same database prints no
// password, creates nothing, and keeps the history and the admin's browser session. The database
// password is never printed.
func TestPostgresWholeProgram(t *testing.T) {
	const dbPassword = "pg-SECRET-pw-41c7" // trust auth: the server never asks for it
	u, err := url.Parse(pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	dsn := u.String()
	env := map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": dsn}

	up := upstreamtest.New(t, func(w http.ResponseWriter, _ *http.Request, got upstreamtest.Request) {
		upstreamtest.WriteAnswer(w, got, upstreamtest.Reply{Texts: []string{"served on postgres"}, Input: 11, Output: 4}) //nolint:errcheck
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

	migrated, err := runCmd(t, env, "migrate", "-config", g.cfgPath)
	if err != nil || !strings.Contains(migrated, "database postgres://postgres:xxxxx@127.0.0.1:5432/") ||
		!strings.Contains(migrated, fmt.Sprintf("is up to date (%d migrations applied)", before["bun_migrations"])) {
		t.Errorf("ai-gateway migrate on PostgreSQL: %v\n%s", err, migrated)
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

	for _, out := range []string{first, migrated, second} {
		if strings.Contains(out, dbPassword) {
			t.Errorf("the database password was printed:\n%s", out)
		}
	}
}

// Three instances started at once on one new PostgreSQL database, each with a data directory of
// its own and the shared master key: one migrates while the others wait, exactly one creates the
// admin account and prints its password, and every one serves; an admin session made on one is
// accepted by the others. A fourth instance with no master key is refused with the reason instead
// of generating a key of its own.
func TestPostgresInstancesStartTogether(t *testing.T) {
	dsn := pgtest.Schema(t)
	key := strings.Repeat("c4", 32)
	env := map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": dsn, "AIGW_MASTER_KEY": key}

	type started struct {
		out  *output
		url  string
		err  error
		stop func() error
	}
	results := make(chan started, 3)
	for range 3 {
		dir := t.TempDir()
		go func() {
			ctx, cancel := context.WithCancel(context.Background())
			out := newOutput()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"ai-gateway", "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0"}, envOf(env), out)
			}()
			stop := func() error { cancel(); return <-done }
			select {
			case u := <-out.listening:
				results <- started{out: out, url: u, stop: stop}
			case err := <-done:
				cancel()
				results <- started{out: out, err: err, stop: func() error { return err }}
			case <-time.After(60 * time.Second):
				results <- started{out: out, err: errors.New("not listening after 60s"), stop: stop}
			}
		}()
	}
	var passwords []string
	var urls []string // the instance that printed the password first
	for range 3 {
		s := <-results
		t.Cleanup(func() { s.stop() })
		if s.err != nil {
			t.Fatalf("an instance did not start: %v\n%s", s.err, s.out.String())
		}
		printed := passwordLine.FindAllStringSubmatch(s.out.String(), -1)
		for _, m := range printed {
			passwords = append(passwords, m[1])
		}
		if len(printed) > 0 {
			urls = append([]string{s.url}, urls...)
		} else {
			urls = append(urls, s.url)
		}
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /readyz: %d", resp.StatusCode)
		}
	}
	if len(passwords) != 1 {
		t.Fatalf("%d instances printed an admin password, want exactly one", len(passwords))
	}
	if n := pgCounts(t, dsn)["admin_user"]; n != 1 {
		t.Errorf("%d admin accounts, want 1", n)
	}
	// A session made on one instance is accepted by the others (the cookie is the same host's).
	browser := noRedirects()
	if resp := login(t, browser, urls[0], "admin", passwords[0]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the printed password: %d", resp.StatusCode)
	}
	for _, u := range urls[1:] {
		resp, err := browser.Get(u + "/admin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the session from %s on %s: GET /admin %d, want 200", urls[0], u, resp.StatusCode)
		}
	}

	noKey := map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": dsn}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a start that is not refused ends here
	defer cancel()
	out := newOutput()
	err := run(ctx, []string{"ai-gateway", "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0"}, envOf(noKey), out)
	if err == nil || !strings.Contains(err.Error(), "give it the same master key as the others (AIGW_MASTER_KEY") {
		t.Fatalf("an instance without the master key: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the refused instance wrote a master key")
	}
}

// PostgreSQL becomes unreachable under the running program (a proxy between them cuts every
// connection and refuses new ones): chat requests keep being answered from the key cache, and
// once the database is reachable again every one of them is in the request history.
func TestPostgresOutageWholeProgram(t *testing.T) {
	proxy := pgtest.NewProxy(t, pgtest.ServerAddr())
	env := map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": proxy.Via(pgtest.Schema(t))}
	up := upstreamtest.New(t, func(w http.ResponseWriter, _ *http.Request, got upstreamtest.Request) {
		upstreamtest.WriteAnswer(w, got, upstreamtest.Reply{Texts: []string{"still here"}, Input: 5, Output: 2}) //nolint:errcheck
	})
	g := startRelGateway(t, env, "")
	g.createClient(beOpenAI, up.URL, nil)
	countHistory := func() int {
		status, body := g.admin(http.MethodGet, "/admin/api/v1/requests?limit=100", nil)
		var h struct {
			Requests []json.RawMessage `json:"requests"`
		}
		if status != http.StatusOK || json.Unmarshal([]byte(body), &h) != nil {
			return -1
		}
		return len(h.Requests)
	}
	if resp, body := g.call(relOpenAI, beOpenAI, false, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("before the outage: %d %s", resp.StatusCode, body)
	}
	relWaitFor(t, "the first request in the history", 10*time.Second, func() bool { return countHistory() == 1 })

	proxy.Cut()
	const during = 5
	for i := range during {
		resp, body := g.call(relOpenAI, beOpenAI, i%2 == 1, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "still here") {
			t.Fatalf("request %d with PostgreSQL unreachable: %d %s", i, resp.StatusCode, body)
		}
	}
	// The cut is real: what needs the database (the history, readiness) fails meanwhile.
	if status, _ := g.admin(http.MethodGet, "/admin/api/v1/requests", nil); status == http.StatusOK {
		t.Error("the request history answered 200 with PostgreSQL unreachable")
	}
	if status := readyz(t, g.url); status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with PostgreSQL unreachable: %d, want 503", status)
	}

	proxy.Restore()
	relWaitFor(t, "every request in the history after the outage", 30*time.Second, func() bool { return countHistory() == 1+during })
	if status := readyz(t, g.url); status != http.StatusOK {
		t.Errorf("GET /readyz after the outage: %d, want 200", status)
	}
}

func readyz(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A PostgreSQL server that is not there stops the start with a message naming the database
// without its password.
func TestPostgresUnreachableAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	env := map[string]string{"AIGW_DATABASE_DRIVER": "postgres",
		"AIGW_DATABASE_URL": "postgres://gw:pg-SECRET-pw-83a1@" + addr + "/gw?sslmode=disable"}
	out, err := runCmd(t, env, "migrate", "-config", filepath.Join(t.TempDir(), "config.yaml"))
	if err == nil || !strings.Contains(err.Error(), "open database postgres://gw:xxxxx@"+addr+"/gw") {
		t.Fatalf("migrate against no server: %v\n%s", err, out)
	}
	if strings.Contains(err.Error()+out, "pg-SECRET-pw-83a1") {
		t.Errorf("the password was printed: %v\n%s", err, out)
	}
}
