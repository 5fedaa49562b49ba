package openai

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// hit is one request the mock upstream received.
type hit struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// bodyMap decodes the received JSON body.
func (h hit) bodyMap(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(h.body, &m); err != nil {
		t.Fatalf("upstream received invalid JSON %s: %v", h.body, err)
	}
	return m
}

// upstream is an in-process server speaking the Chat Completions wire format. It records what it
// received and answers with reply.
type upstream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hits  []hit
	reply func(w http.ResponseWriter, r *http.Request, h hit)
}

func newUpstream(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, h hit)) *upstream {
	t.Helper()
	u := &upstream{reply: reply}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hit{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		u.mu.Lock()
		u.hits = append(u.hits, h)
		u.mu.Unlock()
		u.reply(w, r, h)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) last(t *testing.T) hit {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.hits) == 0 {
		t.Fatal("the upstream received nothing")
	}
	return u.hits[len(u.hits)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.hits)
}

// jsonReply answers with a JSON body.
func jsonReply(status int, body string, headers ...string) func(http.ResponseWriter, *http.Request, hit) {
	return func(w http.ResponseWriter, _ *http.Request, _ hit) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// sseReply answers with an event stream, flushing after each event.
func sseReply(events ...string) func(http.ResponseWriter, *http.Request, hit) {
	return func(w http.ResponseWriter, _ *http.Request, _ hit) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, e := range events {
			io.WriteString(w, e)
			w.(http.Flusher).Flush()
		}
	}
}

const testKey = "sk-test-0123456789-secret"

// newTestClient builds a client for backend against the mock, with base URL srv.URL+suffix.
func newTestClient(t *testing.T, u *upstream, backend, suffix, key string) *Client {
	t.Helper()
	c, err := New(providers.Config{Backend: backend, BaseURL: u.srv.URL + suffix, APIKey: key,
		HTTPClient: u.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const completionJSON = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m-up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":1}}}`
