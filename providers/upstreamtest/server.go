// Package upstreamtest is the mock upstream of the Go tests: an httptest server that records every
// request it receives and answers as the test scripts it, and writers for well-formed answers,
// streams and errors in each of the three wire protocols (OpenAI Chat Completions, Anthropic
// Messages, Gemini generateContent). The provider packages' tests, the whole-program tests at the
// module root and the SDK tests in sdktest all use it.
package upstreamtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The wire protocols, named as the backends that speak them.
const (
	OpenAI    = "openai-compatible"
	Anthropic = "anthropic"
	Gemini    = "gemini"
)

// Request is one request as the upstream received it.
type Request struct {
	// N is the request's 0-based number on its server.
	N      int
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	// Proto is the wire protocol the path speaks (OpenAI, Anthropic, Gemini), or "".
	Proto string
	// Stream is whether a streamed answer was asked for ("stream": true, or Gemini's
	// :streamGenerateContent).
	Stream bool
}

// JSON decodes the body; the test fails when it is not a JSON object.
func (r Request) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("the upstream received invalid JSON %s: %v", r.Body, err)
	}
	return m
}

// Handler answers one request. r's body can still be read: it holds the bytes in got.Body.
type Handler func(w http.ResponseWriter, r *http.Request, got Request)

// Server is a mock upstream.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	got    []Request
	handle Handler
}

// New starts a mock upstream answering with h, closed when the test ends.
func New(t testing.TB, h Handler) *Server {
	t.Helper()
	s := &Server{handle: h}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// NewTLS is New over TLS with HTTP/2 offered; the server's Client() trusts it.
func NewTLS(t testing.TB, h Handler) *Server {
	t.Helper()
	s := &Server{handle: h}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	got := ReadRequest(r)
	s.mu.Lock()
	got.N = len(s.got)
	s.got = append(s.got, got)
	h := s.handle
	s.mu.Unlock()
	h(w, r, got)
}

// Handle replaces how the server answers from the next request on.
func (s *Server) Handle(h Handler) {
	s.mu.Lock()
	s.handle = h
	s.mu.Unlock()
}

// Requests is what the server received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.got...)
}

// Calls is how many requests the server received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// Last is the most recent request; the test fails when there was none.
func (s *Server) Last(t testing.TB) Request {
	t.Helper()
	got := s.Requests()
	if len(got) == 0 {
		t.Fatal("the upstream received nothing")
	}
	return got[len(got)-1]
}

// ReadRequest reads r (its body is put back for the handler to read again).
func ReadRequest(r *http.Request) Request {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	got := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: b,
		Proto: Proto(r)}
	switch got.Proto {
	case Gemini:
		got.Stream = strings.Contains(r.URL.Path, ":streamGenerateContent")
	default:
		var m struct {
			Stream bool `json:"stream"`
		}
		json.Unmarshal(b, &m)
		got.Stream = m.Stream
	}
	return got
}

// Proto names the wire protocol a request's path speaks, or "".
func Proto(r *http.Request) string {
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/chat/completions"):
		return OpenAI
	case strings.HasSuffix(p, "/v1/messages"):
		return Anthropic
	case strings.Contains(p, "/v1beta/models/"):
		return Gemini
	}
	return ""
}

// JSON is a handler answering status with a JSON body and the given header name/value pairs.
func JSON(status int, body string, headers ...string) Handler {
	return func(w http.ResponseWriter, _ *http.Request, _ Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		WriteJSON(w, status, body)
	}
}

// SSE is a handler answering with an event stream of the given events, each written as given
// (its "event:"/"data:" lines and the blank line) and flushed.
func SSE(events ...string) Handler {
	return func(w http.ResponseWriter, _ *http.Request, _ Request) { WriteSSE(w, events...) }
}

// WriteJSON answers status with body, as application/json unless a Content-Type is set.
func WriteJSON(w http.ResponseWriter, status int, body string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// WriteSSE answers with an event stream, flushing after every event.
func WriteSSE(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, ev := range events {
		io.WriteString(w, ev)
		w.(http.Flusher).Flush()
	}
}
