package main

// Mock upstreams for the routing tests (SPEC §15): each records what it received and behaves as
// the test scripts it, call by call.

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// routeMock is an upstream that records every request and answers as behave says.
type routeMock struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	keys   []string
	urls   []string
	behave func(n int, w http.ResponseWriter, r *http.Request, u mockRequest)
}

// newRouteMock starts a mock; behave gets the 0-based number of the call.
func newRouteMock(t *testing.T, behave func(n int, w http.ResponseWriter, r *http.Request, u mockRequest)) *routeMock {
	t.Helper()
	m := &routeMock{behave: behave}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := readMockRequest(r)
		key := r.Header.Get("x-api-key") + r.Header.Get("x-goog-api-key") + bytesAfter(r.Header.Get("Authorization"), "Bearer ")
		m.mu.Lock()
		n := len(m.bodies)
		m.bodies = append(m.bodies, bytes.Clone(u.body))
		m.keys = append(m.keys, key)
		m.urls = append(m.urls, r.URL.Path)
		behave := m.behave
		m.mu.Unlock()
		behave(n, w, r, u)
	}))
	t.Cleanup(m.Close)
	return m
}

func bytesAfter(s, prefix string) string {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return ""
}

// setBehave changes how the mock answers from the next request on.
func (m *routeMock) setBehave(b func(n int, w http.ResponseWriter, r *http.Request, u mockRequest)) {
	m.mu.Lock()
	m.behave = b
	m.mu.Unlock()
}

// calls is how many requests the mock received.
func (m *routeMock) calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bodies)
}

// paths are the URL paths of the requests received.
func (m *routeMock) paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.urls...)
}

func (m *routeMock) received() (bodies [][]byte, keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.bodies...), append([]string(nil), m.keys...)
}

// answerWell answers every request with text.
func answerWell(text string) func(int, http.ResponseWriter, *http.Request, mockRequest) {
	return func(_ int, w http.ResponseWriter, _ *http.Request, u mockRequest) {
		mockAnswerWrite(w, u, mockReply{texts: []string{text}, input: 7, output: 3})
	}
}

// refusedURL is a base URL where nothing listens: connection refused.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}
