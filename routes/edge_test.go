package routes

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/static"
)

// edgeClock is the injectable clock of the edge tests.
type edgeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *edgeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *edgeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// edge is the whole HTTP edge over a real SQLite file, with a fake clock and a log buffer.
type edge struct {
	t       testing.TB
	app     *fiber.App
	deps    Deps
	clock   *edgeClock
	logs    *edgeLogBuffer
	changed int
	mu      sync.Mutex
}

type edgeLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *edgeLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *edgeLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const edgePassword = "test-password-0123456789"

func newEdge(t testing.TB, tweak ...func(*Deps)) *edge {
	t.Helper()
	ctx := context.Background()
	bdb, err := db.Open(ctx, filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	keyring, err := db.NewKeyring(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	users := db.NewAdminUsers(bdb)
	if _, err := users.Create(ctx, "admin", edgePassword); err != nil {
		t.Fatal(err)
	}
	e := &edge{t: t, clock: &edgeClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}, logs: &edgeLogBuffer{}}
	e.deps = Deps{
		Config:      gateway.DefaultConfig(),
		DB:          bdb,
		Clients:     db.NewClients(bdb),
		AdminUsers:  users,
		Sessions:    db.NewAdminSessions(bdb),
		Tokens:      db.NewAdminTokens(bdb),
		Audit:       db.NewAuditLogs(bdb),
		Settings:    db.NewSettings(bdb),
		RequestLogs: db.NewRequestLogStore(bdb),
		Keyring:     keyring,
		Assets:      assets,
		Logger:      slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         e.clock.Now,
		ClientsChanged: func(context.Context) error {
			e.mu.Lock()
			e.changed++
			e.mu.Unlock()
			return nil
		},
	}
	for _, f := range tweak {
		f(&e.deps)
	}
	e.app = New(e.deps)
	return e
}

func (e *edge) changes() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.changed
}

// do sends req through the app and returns the response with its body read.
func (e *edge) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp, string(b)
}

func newReq(method, target string, body string, headers ...string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// edgeSession is a logged-in browser: its cookie and the CSRF token of the page it was shown.
// listen serves the app on a real loopback port until the test ends and returns its base URL.
func (e *edge) listen() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.app.Listener(ln)
	}()
	e.t.Cleanup(func() {
		e.app.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String()
}

type edgeSession struct {
	cookie string
	csrf   string
}

// login goes through the real login form and returns the browser's session.
func (e *edge) login() edgeSession {
	e.t.Helper()
	csrfCookie, token := e.loginForm()
	resp, body := e.postLogin(csrfCookie, token, "admin", edgePassword)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: status %d, body %s", resp.StatusCode, body)
	}
	var value string
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			value = c.Value
		}
	}
	if value == "" {
		e.t.Fatal("login set no session cookie")
	}
	s := edgeSession{cookie: value}
	resp, body = e.do(newReq("GET", "/admin", "", "Cookie", sessionCookie+"="+value))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("dashboard after login: %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	s.csrf, _ = doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if s.csrf == "" {
		e.t.Fatal("no CSRF token on the dashboard")
	}
	return s
}

// loginForm loads the login page and returns its CSRF cookie and hidden token.
func (e *edge) loginForm() (cookie, token string) {
	e.t.Helper()
	resp, body := e.do(newReq("GET", "/admin/login", ""))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login page: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == loginCSRFCookie {
			cookie = c.Value
		}
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	token, _ = doc.Find(`form[data-testid="login-form"] input[name="csrf_token"]`).Attr("value")
	return cookie, token
}

func (e *edge) postLogin(csrfCookie, token, user, pass string) (*http.Response, string) {
	form := url.Values{"username": {user}, "password": {pass}, "csrf_token": {token}}
	req := newReq("POST", "/admin/login", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if csrfCookie != "" {
		req.Header.Set("Cookie", loginCSRFCookie+"="+csrfCookie)
	}
	return e.do(req)
}

// adminToken creates an admin API token directly in the store.
func (e *edge) adminToken() string {
	e.t.Helper()
	tok, _, err := e.deps.Tokens.Create(context.Background(), "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// api calls the admin JSON API with a bearer token and decodes the JSON answer (if any) into out.
func (e *edge) api(token, method, path, body string, out any) *http.Response {
	e.t.Helper()
	req := newReq(method, path, body, "Authorization", "Bearer "+token, "Content-Type", "application/json")
	resp, raw := e.do(req)
	if out != nil && raw != "" {
		if err := json.Unmarshal([]byte(raw), out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp
}

type edgeAPIError struct {
	Error struct {
		Message string            `json:"message"`
		Code    string            `json:"code"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func edgeID(id int64) string { return strconv.FormatInt(id, 10) }

// client reads a client straight from the store.
func (e *edge) client(id int64) *db.Client {
	e.t.Helper()
	c, err := e.deps.Clients.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *edge) clientRows() []db.Client {
	e.t.Helper()
	cs, err := e.deps.Clients.List(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}
