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
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aigateway/ai-gateway/db"
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

// mockProto names the wire protocol an upstream request speaks, from its path.
func mockProto(r *http.Request) string {
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		return beOpenAI
	case strings.HasSuffix(r.URL.Path, "/v1/messages"):
		return beAnthropic
	case strings.Contains(r.URL.Path, "/v1beta/models/"):
		return beGemini
	}
	return ""
}

// mockRequest is what the mock read from one request.
type mockRequest struct {
	proto  string
	stream bool
	body   []byte
}

func readMockRequest(r *http.Request) mockRequest {
	b, _ := io.ReadAll(r.Body)
	u := mockRequest{proto: mockProto(r), body: b}
	switch u.proto {
	case beGemini:
		u.stream = strings.Contains(r.URL.Path, ":streamGenerateContent")
	default:
		var m struct {
			Stream bool `json:"stream"`
		}
		json.Unmarshal(b, &m)
		u.stream = m.Stream
	}
	return u
}

// mockReply is what a well-behaved upstream sends: texts as content events (or one message),
// and the usage it reports.
type mockReply struct {
	texts  []string
	input  int
	output int
}

func (a mockReply) joined() string { return strings.Join(a.texts, "") }

// mockSSE writes one event in the protocol's framing and flushes it.
func mockSSE(w http.ResponseWriter, proto, name, data string) error {
	var err error
	switch proto {
	case beAnthropic:
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
	case beGemini:
		_, err = fmt.Fprintf(w, "data: %s\r\n\r\n", data)
	default:
		_, err = fmt.Fprintf(w, "data: %s\n\n", data)
	}
	w.(http.Flusher).Flush()
	return err
}

func jsonStr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// mockStreamHead writes the events before the content (OpenAI's role chunk, Anthropic's
// message_start with the input tokens, nothing for Gemini).
func mockStreamHead(w http.ResponseWriter, proto string, input int) error {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	switch proto {
	case beOpenAI:
		return mockSSE(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`)
	case beAnthropic:
		if err := mockSSE(w, proto, "message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":1}}}`, input)); err != nil {
			return err
		}
		return mockSSE(w, proto, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	}
	return nil
}

// mockStreamText writes one content event.
func mockStreamText(w http.ResponseWriter, proto, text string, input, outputSoFar int) error {
	switch proto {
	case beOpenAI:
		return mockSSE(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":`+jsonStr(text)+`},"logprobs":null,"finish_reason":null}]}`)
	case beAnthropic:
		return mockSSE(w, proto, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+jsonStr(text)+`}}`)
	}
	return mockSSE(w, proto, "", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
		jsonStr(text), input, outputSoFar, input+outputSoFar))
}

// mockStreamTail ends a stream normally with the final usage.
func mockStreamTail(w http.ResponseWriter, proto string, input, output int) error {
	switch proto {
	case beOpenAI:
		if err := mockSSE(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`); err != nil {
			return err
		}
		if err := mockSSE(w, proto, "", fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, input, output, input+output)); err != nil {
			return err
		}
		return mockSSE(w, proto, "", "[DONE]")
	case beAnthropic:
		mockSSE(w, proto, "content_block_stop", `{"type":"content_block_stop","index":0}`)
		mockSSE(w, proto, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, output))
		return mockSSE(w, proto, "message_stop", `{"type":"message_stop"}`)
	}
	return mockSSE(w, proto, "", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
		input, output, input+output))
}

// mockAnswerWrite answers a request well: streamed event by event, or as one message.
func mockAnswerWrite(w http.ResponseWriter, u mockRequest, a mockReply) error {
	if u.stream {
		if err := mockStreamHead(w, u.proto, a.input); err != nil {
			return err
		}
		for i, t := range a.texts {
			if err := mockStreamText(w, u.proto, t, a.input, i+1); err != nil {
				return err
			}
		}
		return mockStreamTail(w, u.proto, a.input, a.output)
	}
	w.Header().Set("Content-Type", "application/json")
	text := jsonStr(a.joined())
	var body string
	switch u.proto {
	case beOpenAI:
		body = fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, text, a.input, a.output, a.input+a.output)
	case beAnthropic:
		body = fmt.Sprintf(`{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`, text, a.input, a.output)
	default:
		body = fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`, text, a.input, a.output, a.input+a.output)
	}
	_, err := io.WriteString(w, body)
	return err
}

// mockUpstreamError answers with status and the protocol's error body carrying message.
func mockUpstreamError(w http.ResponseWriter, proto string, status int, retryAfter, message string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch proto {
	case beOpenAI:
		fmt.Fprintf(w, `{"error":{"message":%s,"type":"server_error","param":null,"code":null}}`, jsonStr(message))
	case beAnthropic:
		typ := "api_error"
		switch status {
		case 429:
			typ = "rate_limit_error"
		case 503, 529:
			typ = "overloaded_error"
		case 401:
			typ = "authentication_error"
		}
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%s}}`, typ, jsonStr(message))
	default:
		st := "INTERNAL"
		switch status {
		case 429:
			st = "RESOURCE_EXHAUSTED"
		case 503:
			st = "UNAVAILABLE"
		case 401:
			st = "UNAUTHENTICATED"
		}
		fmt.Fprintf(w, `{"error":{"code":%d,"message":%s,"status":%q}}`, status, jsonStr(message), st)
	}
}

// mockReset cuts the connection under a handler: buffered bytes are flushed, then the socket is
// closed with an RST.
func mockReset(t testing.TB, w http.ResponseWriter) {
	w.(http.Flusher).Flush()
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
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

// newRelMock starts an httptest upstream with h.
func newRelMock(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
