package main

// Mock upstreams for the routing tests (SPEC §15): each records what it received and behaves as
// the test scripts it, call by call.

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// routeMock is a mock upstream that behaves as the test scripts it, call by call.
type routeMock struct{ *upstreamtest.Server }

// newRouteMock starts a mock; behave gets the 0-based number of the call.
func newRouteMock(t *testing.T, behave func(n int, w http.ResponseWriter, r *http.Request, u upstreamtest.Request)) *routeMock {
	t.Helper()
	return &routeMock{upstreamtest.New(t, adaptBehave(behave))}
}

func adaptBehave(behave func(n int, w http.ResponseWriter, r *http.Request, u upstreamtest.Request)) upstreamtest.Handler {
	return func(w http.ResponseWriter, r *http.Request, got upstreamtest.Request) { behave(got.N, w, r, got) }
}

// setBehave changes how the mock answers from the next request on.
func (m *routeMock) setBehave(b func(n int, w http.ResponseWriter, r *http.Request, u upstreamtest.Request)) {
	m.Handle(adaptBehave(b))
}

// calls is how many requests the mock received.
func (m *routeMock) calls() int { return m.Calls() }

// paths are the URL paths of the requests received.
func (m *routeMock) paths() []string {
	var out []string
	for _, r := range m.Requests() {
		out = append(out, r.Path)
	}
	return out
}

// received is each request's body and the upstream key it carried, whatever the protocol.
func (m *routeMock) received() (bodies [][]byte, keys []string) {
	for _, r := range m.Requests() {
		bodies = append(bodies, r.Body)
		keys = append(keys, r.Header.Get("x-api-key")+r.Header.Get("x-goog-api-key")+
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}
	return bodies, keys
}

// answerWell answers every request with text.
func answerWell(text string) func(int, http.ResponseWriter, *http.Request, upstreamtest.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request, u upstreamtest.Request) {
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{text}, Input: 7, Output: 3})
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
