package main

// The harness of the reliability and security tests: the whole program started through run,
// three clients (one per wire protocol) pointed at an httptest upstream that speaks each
// protocol exactly and misbehaves on purpose, and helpers for the three front doors.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// Backends of the three test clients, one per wire protocol.
const (
	beOpenAI    = "openai-compatible"
	beAnthropic = "anthropic"
	beGemini    = "gemini"
)

var relBackends = []string{beOpenAI, beAnthropic, beGemini}

// upstreamSecretOf is each client's upstream key: tests grep every output for it.
func upstreamSecretOf(backend string) string {
	return "sk-UPSTREAM-SECRET-" + strings.ReplaceAll(backend, "-", "") + "-7f3a9c"
}

// jsonStr is s as a JSON string.
func jsonStr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// relGateway is the whole program with one admin token and one client per backend.
type relGateway struct {
	*server
	t       *testing.T
	dir     string
	cfgPath string
	dbPath  string
	env     map[string]string
	token   string
	// keys maps a backend to its client's gateway key; ids to its client id.
	keys map[string]string
	ids  map[string]int64
}

// relNoLimits keeps the rate limits and quotas out of the way of the fault tests.
var relNoLimits = map[string]any{
	"rate_limit": map[string]int{"requests_per_minute": 0, "requests_per_hour": 0, "requests_per_day": 0},
	"quota": map[string]int{"max_input_tokens_per_day": 0, "max_output_tokens_per_day": 0, "max_requests_per_day": 0,
		"max_input_tokens": 0, "max_output_tokens": 0},
}

// startRelGateway starts the program in a new directory with env, and creates the three clients
// with upstream as their base URL (empty: no clients).
func startRelGateway(t *testing.T, env map[string]string, upstream string) *relGateway {
	t.Helper()
	dir := t.TempDir()
	g := &relGateway{t: t, dir: dir, cfgPath: filepath.Join(dir, "config.yaml"), dbPath: filepath.Join(dir, "data", "gateway.db"),
		env: env, keys: map[string]string{}, ids: map[string]int64{}}
	g.server = start(t, env, g.args()...)
	out, err := runCmd(t, env, "admin", "token", "create", "--name", "tests", "-config", g.cfgPath)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	g.token = regexp.MustCompile(`(?m)^aigw_\w+$`).FindString(out)
	if g.token == "" {
		t.Fatalf("no token in:\n%s", out)
	}
	if upstream != "" {
		for _, b := range relBackends {
			g.createClient(b, upstream, nil)
		}
	}
	return g
}

func (g *relGateway) args() []string {
	return []string{"-config", g.cfgPath, "-host", "127.0.0.1", "-port", "0"}
}

// restart stops the program (if running) and runs it again on the same directory.
func (g *relGateway) restart() {
	g.t.Helper()
	if err := g.stop(); err != nil {
		g.t.Fatalf("stop: %v", err)
	}
	g.server = start(g.t, g.env, g.args()...)
}

// createClient creates the client for backend with base URL upstream; extra fields are merged
// in. It records the key under the backend's name (the last one created wins).
func (g *relGateway) createClient(backend, upstream string, extra map[string]any) map[string]any {
	g.t.Helper()
	base := upstream
	if backend == beOpenAI {
		base += "/v1"
	}
	body := map[string]any{"name": "app-" + backend, "backend": backend, "base_url": base,
		"upstream_key": upstreamSecretOf(backend), "default_model": "m"}
	for k, v := range relNoLimits {
		body[k] = v
	}
	for k, v := range extra {
		body[k] = v
	}
	status, resp := g.admin(http.MethodPost, "/admin/api/v1/clients", body)
	if status != http.StatusCreated {
		g.t.Fatalf("create %s client: %d %s", backend, status, resp)
	}
	var out map[string]any
	json.Unmarshal([]byte(resp), &out)
	g.keys[backend], _ = out["key"].(string)
	if id, ok := out["id"].(float64); ok {
		g.ids[backend] = int64(id)
	}
	return out
}

// admin calls the admin JSON API with the admin token.
func (g *relGateway) admin(method, path string, body any) (int, string) {
	g.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url+path, r)
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// openDB opens the program's database (WAL: fine while it runs).
func (g *relGateway) openDB() *relDB {
	g.t.Helper()
	bdb, err := db.Open(context.Background(), g.dbPath)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { bdb.Close() })
	return &relDB{t: g.t, DB: bdb}
}

type relDB struct {
	t *testing.T
	*bun.DB
}

// requestLogs reads every request_log row, oldest first.
func (h *relDB) requestLogs() []db.RequestLog {
	h.t.Helper()
	var rows []db.RequestLog
	if err := h.NewSelect().Model(&rows).OrderExpr("id").Scan(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	return rows
}

// usageTotals sums usage_daily over every day and model, per client id.
func (h *relDB) usageTotals() map[int64]db.UsageDaily {
	h.t.Helper()
	var rows []db.UsageDaily
	if err := h.NewSelect().Model(&rows).Scan(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	out := map[int64]db.UsageDaily{}
	for _, r := range rows {
		t := out[r.ClientID]
		t.ClientID = r.ClientID
		t.Requests += r.Requests
		t.Errors += r.Errors
		t.InputTokens += r.InputTokens
		t.OutputTokens += r.OutputTokens
		out[r.ClientID] = t
	}
	return out
}

// A front door: how a client of that protocol asks for an answer.
type relDoor struct {
	name string
	// path is the endpoint for a (non-)streamed request.
	path func(stream bool) string
	// body is a minimal valid request; the Gemini body has no model or stream field (the path has).
	body func(stream bool) string
	// auth sets the key the way that protocol's SDKs do.
	auth func(h http.Header, key string)
}

var (
	relOpenAI = relDoor{
		name: "openai",
		path: func(bool) string { return "/v1/chat/completions" },
		body: func(stream bool) string {
			return fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"hello there"}],"stream":%t}`, stream)
		},
		auth: func(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) },
	}
	relAnthropic = relDoor{
		name: "anthropic",
		path: func(bool) string { return "/v1/messages" },
		body: func(stream bool) string {
			return fmt.Sprintf(`{"model":"m","max_tokens":256,"messages":[{"role":"user","content":"hello there"}],"stream":%t}`, stream)
		},
		auth: func(h http.Header, key string) { h.Set("x-api-key", key); h.Set("anthropic-version", "2023-06-01") },
	}
	relGemini = relDoor{
		name: "gemini",
		path: func(stream bool) string {
			if stream {
				return "/v1beta/models/m:streamGenerateContent?alt=sse"
			}
			return "/v1beta/models/m:generateContent"
		},
		body: func(bool) string { return `{"contents":[{"role":"user","parts":[{"text":"hello there"}]}]}` },
		auth: func(h http.Header, key string) { h.Set("x-goog-api-key", key) },
	}
	relDoors = []relDoor{relOpenAI, relAnthropic, relGemini}
)

// newRequest builds a front-door request with the client's key.
func (g *relGateway) newRequest(ctx context.Context, d relDoor, backend string, stream bool, body string) *http.Request {
	g.t.Helper()
	if body == "" {
		body = d.body(stream)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url+d.path(stream), strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	d.auth(req.Header, g.keys[backend])
	return req
}

// call sends a request and reads the whole answer.
func (g *relGateway) call(d relDoor, backend string, stream bool, body string) (*http.Response, string) {
	g.t.Helper()
	resp, err := http.DefaultClient.Do(g.newRequest(context.Background(), d, backend, stream, body))
	if err != nil {
		g.t.Fatalf("%s → %s: %v", d.name, backend, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatalf("%s → %s: reading the answer: %v", d.name, backend, err)
	}
	return resp, string(b)
}

// relStreamedText extracts the answer text from a front door's streamed body (SSE), and reports
// whether the stream carried an error event.
func relStreamedText(t *testing.T, d relDoor, body string) (text string, sawError bool) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 16<<20)
	var sb strings.Builder
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Errorf("%s: stream event is not JSON: %.200q", d.name, data)
			continue
		}
		if _, ok := ev["error"]; ok {
			sawError = true
		}
		sb.WriteString(relTextOf(d, ev))
	}
	return sb.String(), sawError
}

// relTextOf is the answer text in one front-door message or stream event.
func relTextOf(d relDoor, ev map[string]any) string {
	var sb strings.Builder
	switch d.name {
	case "openai":
		choices, _ := ev["choices"].([]any)
		for _, c := range choices {
			cm, _ := c.(map[string]any)
			for _, k := range []string{"delta", "message"} {
				if m, ok := cm[k].(map[string]any); ok {
					s, _ := m["content"].(string)
					sb.WriteString(s)
				}
			}
		}
	case "anthropic":
		if delta, ok := ev["delta"].(map[string]any); ok {
			s, _ := delta["text"].(string)
			sb.WriteString(s)
		}
		content, _ := ev["content"].([]any)
		for _, c := range content {
			cm, _ := c.(map[string]any)
			s, _ := cm["text"].(string)
			sb.WriteString(s)
		}
	case "gemini":
		cands, _ := ev["candidates"].([]any)
		for _, c := range cands {
			cm, _ := c.(map[string]any)
			content, _ := cm["content"].(map[string]any)
			parts, _ := content["parts"].([]any)
			for _, p := range parts {
				pm, _ := p.(map[string]any)
				s, _ := pm["text"].(string)
				sb.WriteString(s)
			}
		}
	}
	return sb.String()
}

// relErrorMessage checks body is the front door's error shape and returns its message.
func relErrorMessage(t *testing.T, d relDoor, body string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Errorf("%s: error body is not JSON: %.300q", d.name, body)
		return ""
	}
	e, _ := m["error"].(map[string]any)
	msg, _ := e["message"].(string)
	switch d.name {
	case "openai":
		if _, ok := e["type"].(string); !ok || msg == "" {
			t.Errorf("openai: not {\"error\":{\"message\",\"type\",...}}: %.300s", body)
		}
	case "anthropic":
		if m["type"] != "error" || e["type"] == nil || msg == "" {
			t.Errorf("anthropic: not {\"type\":\"error\",\"error\":{\"type\",\"message\"}}: %.300s", body)
		}
	case "gemini":
		if _, ok := e["code"].(float64); !ok || e["status"] == nil || msg == "" {
			t.Errorf("gemini: not {\"error\":{\"code\",\"message\",\"status\"}}: %.300s", body)
		}
	}
	return msg
}

// relCounter is a concurrency-safe tally the mocks keep.
type relCounter struct{ n atomic.Int64 }

func (c *relCounter) add(d int64) { c.n.Add(d) }
func (c *relCounter) get() int64  { return c.n.Load() }

// relWaitFor polls cond until it holds or the deadline passes; for effects of the background
// writer, which flushes on its own schedule.
func relWaitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newRelMock starts a mock upstream with h (which can read the body the mock recorded).
func newRelMock(t *testing.T, h http.HandlerFunc) *upstreamtest.Server {
	t.Helper()
	return upstreamtest.New(t, func(w http.ResponseWriter, r *http.Request, _ upstreamtest.Request) { h(w, r) })
}
