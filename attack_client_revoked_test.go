package main

// Issue #14 item 9: deleting or disabling a client through the admin API ends the calls its key
// has running — streams on every front door (SSE and Gemini's JSON array, forwarded and
// translated) and non-streamed calls still waiting on the upstream — with the door's error, and
// the request log keeps what was served.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// endlessUpstream streams a text event every 20ms and holds non-streamed answers, until the
// request is cancelled or the test ends. It counts the requests it holds.
type endlessUpstream struct {
	held atomic.Int64
	quit chan struct{}
}

func (u *endlessUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := upstreamtest.ReadRequest(r)
	u.held.Add(1)
	if !req.Stream {
		select {
		case <-r.Context().Done():
		case <-u.quit:
		}
		return
	}
	upstreamtest.WriteStreamHead(w, req.Proto, 7)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 1; ; i++ {
		if upstreamtest.WriteStreamText(w, req.Proto, "tok ", 7, i) != nil {
			return
		}
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		case <-u.quit:
			return
		}
	}
}

// revokedCall is one request of the attack and what its client saw.
type revokedCall struct {
	name   string
	door   relDoor
	stream bool
	// path overrides the door's path (Gemini's JSON-array stream).
	path string

	status int
	body   string
	err    error
}

func TestAttackDeletedClientStreamEnds(t *testing.T) {
	testRevokedClientCallsEnd(t, "deleted", func(g *relGateway, id int64) (int, string) {
		return g.admin(http.MethodDelete, fmt.Sprintf("/admin/api/v1/clients/%d", id), nil)
	})
}

func TestAttackDisabledClientStreamEnds(t *testing.T) {
	testRevokedClientCallsEnd(t, "disabled", func(g *relGateway, id int64) (int, string) {
		return g.admin(http.MethodPatch, fmt.Sprintf("/admin/api/v1/clients/%d", id), map[string]any{"active": false})
	})
}

// A key rotated because it leaked is expected to stop working at once, mid-stream too.
func TestRotatedClientKeyEndsItsCalls(t *testing.T) {
	testRevokedClientCallsEnd(t, "replaced by a new key", func(g *relGateway, id int64) (int, string) {
		return g.admin(http.MethodPost, fmt.Sprintf("/admin/api/v1/clients/%d/rotate-key", id), nil)
	})
}

func testRevokedClientCallsEnd(t *testing.T, what string, revoke func(g *relGateway, id int64) (int, string)) {
	up := &endlessUpstream{quit: make(chan struct{})}
	mock := newRelMock(t, up.ServeHTTP)
	g := startRelGateway(t, nil, mock.URL)
	// Cleanups run last first: the upstream lets go before the program stops, then it closes.
	t.Cleanup(func() { close(up.quit) })

	var calls []*revokedCall
	for _, backend := range relBackends {
		for _, d := range relDoors {
			calls = append(calls,
				&revokedCall{name: d.name + " stream → " + backend, door: d, stream: true},
				&revokedCall{name: d.name + " → " + backend, door: d})
		}
		calls = append(calls, &revokedCall{name: "gemini JSON-array stream → " + backend, door: relGemini, stream: true,
			path: "/v1beta/models/m:streamGenerateContent"})
	}
	// Each stream reports once its first text reached the client, then reads to the end.
	started := make(chan struct{}, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		backend := relBackends[i/(2*len(relDoors)+1)]
		req := g.newRequest(context.Background(), c.door, backend, c.stream, "")
		if c.path != "" {
			req.URL.Path, req.URL.RawQuery = c.path, ""
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				c.err = err
				started <- struct{}{}
				return
			}
			defer resp.Body.Close()
			c.status = resp.StatusCode
			if !c.stream {
				b, err := io.ReadAll(resp.Body)
				c.body, c.err = string(b), err
				return
			}
			var sb strings.Builder
			br := bufio.NewReader(resp.Body)
			signalled := false
			for {
				line, err := br.ReadString('\n')
				sb.WriteString(line)
				if !signalled && strings.Contains(line, "tok ") {
					signalled = true
					started <- struct{}{}
				}
				if err != nil {
					break
				}
			}
			c.body = sb.String()
			if !signalled {
				started <- struct{}{}
			}
		}()
	}
	streams := 0
	for _, c := range calls {
		if c.stream {
			streams++
		}
	}
	for range streams {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the streams did not all start")
		}
	}
	relWaitFor(t, "the upstream to hold every request", 10*time.Second, func() bool { return up.held.Load() == int64(len(calls)) })

	for _, backend := range relBackends {
		if status, body := revoke(g, g.ids[backend]); status >= 300 {
			t.Fatalf("%s the %s client: %d %s", what, backend, status, body)
		}
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(15 * time.Second):
		t.Fatalf("15s after the clients were %s, their calls are still running", what)
	}

	want := what + " by an administrator"
	for _, c := range calls {
		switch {
		case c.err != nil:
			t.Errorf("%s: %v", c.name, c.err)
		case !c.stream:
			if c.status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401 once the key was %s: %.300s", c.name, c.status, what, c.body)
			} else if msg := relErrorMessage(t, c.door, c.body); !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not say the key was %s", c.name, msg, what)
			}
		default:
			if c.status != http.StatusOK || streamEnded(c.door, c.body) || !strings.Contains(c.body, want) ||
				!strings.Contains(c.body, "error") {
				t.Errorf("%s: status %d; the stream did not end with the door's error saying the key was %s:\n%.300s …\n%.600s",
					c.name, c.status, what, c.body, c.body[max(0, len(c.body)-600):])
			}
		}
	}

	h := g.openDB()
	relWaitFor(t, "a request_log row per call", 10*time.Second, func() bool { return len(h.requestLogs()) >= len(calls) })
	rows := h.requestLogs()
	if len(rows) != len(calls) {
		t.Fatalf("%d request_log rows, want %d", len(rows), len(calls))
	}
	for _, r := range rows {
		if r.Status != http.StatusUnauthorized || r.ErrorClass != "auth" || !strings.Contains(r.ErrorMessage, want) {
			t.Errorf("row %s %s stream=%t: status %d class %q message %q; want the call recorded as ended by the admin",
				r.Provider, r.Endpoint, r.Stream, r.Status, r.ErrorClass, r.ErrorMessage)
		}
		if r.Stream && r.OutputTokens == 0 {
			t.Errorf("row %s %s: a stream that served text is logged with 0 output tokens", r.Provider, r.Endpoint)
		}
	}
}
