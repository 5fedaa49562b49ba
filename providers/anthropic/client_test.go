package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers"
)

const testKey = "sk-ant-api03-secret"

// received is one request the mock upstream got.
type received struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// upstream is a mock Anthropic API: it records every request and answers with handle.
type upstream struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	handle func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newUpstream(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *upstream {
	u := &upstream{t: t, handle: handle}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		u.mu.Unlock()
		u.handle(w, r, body)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) requests() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.got...)
}

func (u *upstream) client(t *testing.T, base string) *Client {
	t.Helper()
	c, err := New(providers.Config{Backend: "anthropic", BaseURL: base, APIKey: testKey, HTTPClient: u.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeSSE writes an SSE body event by event, flushing each, as the real API does.
func writeSSE(w http.ResponseWriter, sse string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, ev := range strings.SplitAfter(sse, "\n\n") {
		io.WriteString(w, ev)
		w.(http.Flusher).Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func checkAuth(t *testing.T, r received) {
	t.Helper()
	if r.header.Get("x-api-key") != testKey || r.header.Get("anthropic-version") != "2023-06-01" {
		t.Errorf("auth headers x-api-key=%q anthropic-version=%q", r.header.Get("x-api-key"), r.header.Get("anthropic-version"))
	}
	if r.header.Get("Authorization") != "" {
		t.Errorf("unexpected Authorization header")
	}
}

func TestClientChat(t *testing.T) {
	answer, _ := os.ReadFile("testdata/response_tools.json")
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeJSON(w, 200, string(answer)) })
	c := u.client(t, u.srv.URL+"/v1/") // a trailing /v1/ is tolerated

	req := toolHistory()
	req.Stream = true // Chat must not stream whatever the request says
	resp, err := c.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := u.requests()
	if len(got) != 1 || got[0].method != http.MethodPost || got[0].path != "/v1/messages" {
		t.Fatalf("requests = %+v", got)
	}
	checkAuth(t, got[0])
	if ct := got[0].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	req.Stream = false
	want, _ := EncodeRequest(req)
	if !bytes.Equal(got[0].body, want) {
		t.Errorf("upstream body\n%s\nwant\n%s", got[0].body, want)
	}
	if resp.ID != "msg_01XFDUDYJgAACzvnptvVoYEL" || resp.Created == 0 || len(resp.Choices[0].Message.ToolCalls) != 2 || resp.Usage.InputTokens != 2121 {
		t.Errorf("response = %+v", resp)
	}
}

func TestClientStream(t *testing.T) {
	sse, _ := os.ReadFile("testdata/stream_parallel_tools.sse")
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeSSE(w, string(sse)) })
	c := u.client(t, u.srv.URL)

	st, err := c.Stream(context.Background(), toolHistory())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []providers.StreamEvent
	for {
		ev, err := st.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	golden(t, "stream_parallel_tools", dumpEvents(t, evs))

	r := u.requests()[0]
	checkAuth(t, r)
	if r.header.Get("Accept") != "text/event-stream" {
		t.Errorf("accept %q", r.header.Get("Accept"))
	}
	var body map[string]any
	json.Unmarshal(r.body, &body)
	if body["stream"] != true {
		t.Errorf("stream flag not sent: %s", r.body)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestClientStreamErrors(t *testing.T) {
	overloaded := "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	text := "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"

	t.Run("error event before any content fails Stream", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeSSE(w, overloaded) })
		_, err := u.client(t, u.srv.URL).Stream(context.Background(), toolHistory())
		var e *providers.Error
		if !errors.As(err, &e) || e.Status() != 529 || e.Type != "overloaded_error" || e.Provider != "anthropic" {
			t.Errorf("err = %+v", err)
		}
	})
	t.Run("error event mid-stream", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeSSE(w, sseStart+text+overloaded) })
		st, err := u.client(t, u.srv.URL).Stream(context.Background(), toolHistory())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var text string
		for {
			ev, err := st.Next()
			if err != nil {
				var e *providers.Error
				if !errors.As(err, &e) || e.Status() != 529 || e.Message != "Overloaded" {
					t.Errorf("err = %+v", err)
				}
				break
			}
			text += ev.Text
		}
		if text != "Hel" {
			t.Errorf("text before the error %q", text)
		}
	})
	t.Run("429 with retry-after", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("Retry-After", "17")
			writeJSON(w, 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"},"request_id":"req_1"}`)
		})
		c := u.client(t, u.srv.URL)
		_, err1 := c.Stream(context.Background(), toolHistory())
		_, err2 := c.Chat(context.Background(), toolHistory())
		for _, err := range []error{err1, err2} {
			var e *providers.Error
			if !errors.As(err, &e) || e.Status() != 429 || e.Kind != providers.KindRateLimited || e.RetryAfter != "17" ||
				e.Message != "Rate limited" || e.Type != "rate_limit_error" || e.Provider != "anthropic" {
				t.Errorf("err = %+v", err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Error("the upstream key leaked into the error")
			}
		}
	})
}

func TestClientErrorNeverCarriesTheKey(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key `+r.Header.Get("x-api-key")+`"}}`)
	})
	_, err := u.client(t, u.srv.URL).Chat(context.Background(), toolHistory())
	var e *providers.Error
	if !errors.As(err, &e) || e.Status() != 401 || e.Message != "invalid x-api-key [redacted]" {
		t.Errorf("err = %+v", err)
	}
}

func TestClientTransportErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {})
		c := u.client(t, u.srv.URL)
		u.srv.Close()
		_, err := c.Chat(context.Background(), toolHistory())
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindUnavailable || e.Status() != 502 || e.Provider != "anthropic" {
			t.Errorf("err = %+v", err)
		}
	})
	t.Run("header timeout", func(t *testing.T) {
		release := make(chan struct{})
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		c, _ := New(providers.Config{BaseURL: u.srv.URL, APIKey: testKey, HTTPClient: u.srv.Client(), HeaderTimeout: 20 * time.Millisecond})
		_, err := c.Stream(context.Background(), toolHistory())
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindTimeout || e.Status() != 504 {
			t.Errorf("err = %+v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { <-r.Context().Done() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := u.client(t, u.srv.URL).Chat(ctx, toolHistory())
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindCanceled {
			t.Errorf("err = %+v", err)
		}
	})
	t.Run("invalid success body", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeJSON(w, 200, `{"content":"nope"`) })
		_, err := u.client(t, u.srv.URL).Chat(context.Background(), toolHistory())
		var e *providers.Error
		if !errors.As(err, &e) || e.Status() != 502 || e.Provider != "anthropic" {
			t.Errorf("err = %+v", err)
		}
	})
	t.Run("bad request is not sent", func(t *testing.T) {
		u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { t.Error("request sent") })
		bad := &providers.Request{Messages: []providers.Message{{Role: "function"}}}
		_, err := u.client(t, u.srv.URL).Chat(context.Background(), bad)
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || e.Provider != "anthropic" {
			t.Errorf("err = %+v", err)
		}
	})
}

func TestClientModels(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Query().Get("after_id") {
		case "":
			writeJSON(w, 200, `{"data":[{"type":"model","id":"claude-opus-4-1","display_name":"Claude Opus 4.1","created_at":"2025-08-05T00:00:00Z"},
				{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],
				"has_more":true,"first_id":"claude-opus-4-1","last_id":"claude-sonnet-4-5"}`)
		case "claude-sonnet-4-5":
			writeJSON(w, 200, `{"data":[{"type":"model","id":"claude-haiku-4-5","display_name":"Claude Haiku 4.5","created_at":"bad"}],"has_more":false,"first_id":"claude-haiku-4-5","last_id":"claude-haiku-4-5"}`)
		default:
			writeJSON(w, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"bad after_id"}}`)
		}
	})
	models, err := u.client(t, u.srv.URL).Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Model{
		{ID: "claude-opus-4-1", DisplayName: "Claude Opus 4.1", OwnedBy: "anthropic", Created: 1754352000},
		{ID: "claude-sonnet-4-5", DisplayName: "Claude Sonnet 4.5", OwnedBy: "anthropic", Created: 1759104000},
		{ID: "claude-haiku-4-5", DisplayName: "Claude Haiku 4.5", OwnedBy: "anthropic"},
	}
	if len(models) != len(want) {
		t.Fatalf("models = %+v", models)
	}
	for i := range want {
		if models[i] != want[i] {
			t.Errorf("model %d = %+v, want %+v", i, models[i], want[i])
		}
	}
	got := u.requests()
	if len(got) != 2 || got[0].method != http.MethodGet || got[0].path != "/v1/models" || got[0].query != "limit=1000" || got[1].query != "limit=1000&after_id=claude-sonnet-4-5" {
		t.Errorf("requests = %+v", got)
	}
	checkAuth(t, got[0])
}

func TestClientModelsStopsOnRepeatedPage(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 200, `{"data":[{"id":"m"}],"has_more":true,"last_id":"m"}`)
	})
	models, err := u.client(t, u.srv.URL).Models(context.Background())
	if err != nil || len(models) != 2 || len(u.requests()) != 2 {
		t.Errorf("models %v err %v after %d requests", models, err, len(u.requests()))
	}
}

func TestClientCountTokens(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeJSON(w, 200, `{"input_tokens":42}`) })
	n, err := u.client(t, u.srv.URL).CountTokens(context.Background(), toolHistory())
	if err != nil || n != 42 {
		t.Fatalf("n %d err %v", n, err)
	}
	r := u.requests()[0]
	checkAuth(t, r)
	var body map[string]json.RawMessage
	json.Unmarshal(r.body, &body)
	if r.path != "/v1/messages/count_tokens" {
		t.Errorf("path %s", r.path)
	}
	for _, k := range []string{"max_tokens", "stream", "temperature", "top_p", "top_k", "stop_sequences", "metadata"} {
		if _, ok := body[k]; ok {
			t.Errorf("count_tokens body has %s, which the endpoint rejects", k)
		}
	}
	for _, k := range []string{"model", "messages", "system", "tools", "tool_choice"} {
		if _, ok := body[k]; !ok {
			t.Errorf("count_tokens body lacks %s", k)
		}
	}
}

func TestClientForward(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"messages: Field required"}}`)
	})
	c := u.client(t, u.srv.URL)
	body := []byte(`{"model":"claude-sonnet-4-5", "max_tokens":5, "unknown_field":{"kept":true}}`)
	resp, err := c.DoWith(context.Background(), "messages?beta=true", body, true,
		ForwardOptions{Beta: "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14", Version: "2026-10-21"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	errBody, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(errBody), "messages: Field required") {
		t.Errorf("forward response %d %s", resp.StatusCode, errBody)
	}
	r := u.requests()[0]
	if !bytes.Equal(r.body, body) || r.path != "/v1/messages" || r.query != "beta=true" {
		t.Errorf("forwarded %s %s?%s %s", r.method, r.path, r.query, r.body)
	}
	if r.header.Get("anthropic-beta") != "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14" ||
		r.header.Get("anthropic-version") != "2026-10-21" || r.header.Get("x-api-key") != testKey || r.header.Get("Accept") != "text/event-stream" {
		t.Errorf("headers %v", r.header)
	}

	resp, err = c.Do(context.Background(), "messages/count_tokens", body, false)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r = u.requests()[1]
	checkAuth(t, r)
	if r.path != "/v1/messages/count_tokens" || r.header.Get("anthropic-beta") != "" {
		t.Errorf("forward without options: %s %v", r.path, r.header)
	}

	for _, op := range []string{"", "/messages", "../admin", "messages#x", "http://evil/messages"} {
		if _, err := c.Do(context.Background(), op, body, false); err == nil {
			t.Errorf("op %q accepted", op)
		}
	}
	if _, err := c.DoWith(context.Background(), "messages", body, false, ForwardOptions{Beta: "a\r\nx-api-key: stolen"}); err == nil {
		t.Error("header injection accepted")
	}
	if n := len(u.requests()); n != 2 {
		t.Errorf("%d requests reached the upstream, want 2", n)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		base, want string
		ok         bool
	}{
		{"", DefaultBaseURL, true},
		{"https://proxy.example.com/anthropic/", "https://proxy.example.com/anthropic", true},
		{"https://proxy.example.com/v1", "https://proxy.example.com", true},
		{"http://localhost:1234", "http://localhost:1234", true},
		{"ftp://x", "", false},
		{"api.anthropic.com", "", false},
		{"https://user:secret@host?x=1", "", false},
	}
	for _, tt := range tests {
		c, err := New(providers.Config{BaseURL: tt.base})
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) err = %v", tt.base, err)
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error repeats the base URL: %v", err)
			}
			continue
		}
		if c.base != tt.want || c.cfg.Backend != "anthropic" {
			t.Errorf("New(%q) base %q backend %q", tt.base, c.base, c.cfg.Backend)
		}
	}
}
