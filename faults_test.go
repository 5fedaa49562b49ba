package main

// Upstream faults (SPEC §4, §10; issue 10): whatever the upstream does, the caller gets the
// truth in its own front door's shape, nothing panics, and the accounting keeps what was seen.

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// eachRelRoute runs f for every front door × backend, as parallel subtests, and returns when
// they are all done.
func eachRelRoute(t *testing.T, f func(t *testing.T, d relDoor, backend string)) {
	t.Run("each door", func(t *testing.T) {
		for _, d := range relDoors {
			for _, b := range relBackends {
				t.Run(d.name+"→"+b, func(t *testing.T) {
					t.Parallel()
					f(t, d, b)
				})
			}
		}
	})
}

func TestUpstreamConnectionRefusedIs502(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused

	// Every request reaches the upstream: no circuit breaker answers for it (SPEC §15).
	g := startRelGateway(t, map[string]string{"AIGW_UPSTREAM_BREAKER_FAILURES": "0"}, closed)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		for _, stream := range []bool{false, true} {
			resp, body := g.call(d, backend, stream, "")
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("stream=%v: status %d, want 502: %s", stream, resp.StatusCode, body)
			}
			if msg := relErrorMessage(t, d, body); !strings.Contains(msg, "unreachable") {
				t.Errorf("stream=%v: message %q does not say the upstream is unreachable", stream, msg)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		}
	})
}

func TestUpstreamHangBeforeFirstByteIs504(t *testing.T) {
	released := make(chan struct{}, 64)
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		upstreamtest.ReadRequest(r)
		<-r.Context().Done() // never answers; the gateway must give up and hang up
		released <- struct{}{}
	})
	const timeout = 300 * time.Millisecond
	g := startRelGateway(t, map[string]string{"AIGW_UPSTREAM_HEADER_TIMEOUT": timeout.String(),
		"AIGW_UPSTREAM_BREAKER_FAILURES": "0"}, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		for _, stream := range []bool{false, true} {
			start := time.Now()
			resp, body := g.call(d, backend, stream, "")
			took := time.Since(start)
			if resp.StatusCode != http.StatusGatewayTimeout {
				t.Errorf("stream=%v: status %d, want 504: %s", stream, resp.StatusCode, body)
			}
			if msg := relErrorMessage(t, d, body); !strings.Contains(msg, "timed out") {
				t.Errorf("stream=%v: message %q does not say the upstream timed out", stream, msg)
			}
			if took < timeout {
				t.Errorf("stream=%v: answered after %v, before the %v header timeout", stream, took, timeout)
			}
		}
	})
	// Every hung upstream request was hung up on (18 = 3 doors × 3 backends × 2).
	for range 18 {
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatal("the gateway did not cancel a timed-out upstream request")
		}
	}
}

func TestUpstreamResetMidStream(t *testing.T) {
	testUpstreamCutMidStream(t, func(w http.ResponseWriter) { upstreamtest.Reset(t, w) })
}

// TestUpstreamStreamEndsUnfinished: the upstream ends its body cleanly, but before the answer's
// end (no [DONE] or finish reason, no message_stop, no finishReason): as cut as a reset.
func TestUpstreamStreamEndsUnfinished(t *testing.T) {
	testUpstreamCutMidStream(t, func(http.ResponseWriter) {})
}

func testUpstreamCutMidStream(t *testing.T, cut func(w http.ResponseWriter)) {
	texts := []string{"alpha ", "beta ", "gamma "}
	const input = 17
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		upstreamtest.WriteStreamHead(w, u.Proto, input)
		for i, s := range texts {
			upstreamtest.WriteStreamText(w, u.Proto, s, input, i+1)
		}
		cut(w)
	})
	g := startRelGateway(t, nil, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		resp, body := g.call(d, backend, true, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d (the stream had started): %s", resp.StatusCode, body)
		}
		text, sawError := relStreamedText(t, d, body)
		if text != strings.Join(texts, "") {
			t.Errorf("relayed text %q, want everything sent before the reset", text)
		}
		if !sawError {
			t.Errorf("no in-band error event after the reset:\n%s", body)
		}
		if d.name == "openai" && strings.Contains(body, "[DONE]") {
			t.Error("a cut stream ended with [DONE], as if it were complete")
		}
		if d.name == "anthropic" && strings.Contains(body, "event: message_stop") {
			t.Error("a cut stream ended with message_stop, as if it were complete")
		}
	})

	// Stopping flushes the log; each cut stream is one row with the error and the tokens seen.
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	rows := g.openDB().requestLogs()
	if len(rows) != 9 {
		t.Fatalf("%d request_log rows, want 9", len(rows))
	}
	for _, r := range rows {
		if r.Status < 500 || r.ErrorClass == "" || r.ErrorMessage == "" {
			t.Errorf("row %s %s: status %d, error %q %q; want the upstream failure", r.Provider, r.Endpoint, r.Status, r.ErrorClass, r.ErrorMessage)
		}
		if r.InputTokens <= 0 || r.OutputTokens <= 0 {
			t.Errorf("row %s %s: tokens in %d out %d; want what was seen before the reset", r.Provider, r.Endpoint, r.InputTokens, r.OutputTokens)
		}
		if r.Provider != beOpenAI && r.InputTokens != input {
			t.Errorf("row %s %s: input tokens %d, want the %d the upstream reported before the reset", r.Provider, r.Endpoint, r.InputTokens, input)
		}
	}
	for id, u := range g.openDB().usageTotals() {
		if u.Requests != 3 || u.Errors != 3 || u.InputTokens == 0 || u.OutputTokens == 0 {
			t.Errorf("usage of client %d: %+v; want 3 requests, 3 errors and the tokens seen", id, u)
		}
	}
}

func TestUpstreamMalformedAnswers(t *testing.T) {
	truncated := map[string]string{
		beOpenAI:    `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hel`,
		beAnthropic: `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hel`,
		beGemini:    `{"candidates":[{"content":{"role":"model","parts":[{"text":"hel`,
	}
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if !u.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, truncated[u.Proto])
			return
		}
		upstreamtest.WriteStreamHead(w, u.Proto, 5)
		upstreamtest.WriteStreamText(w, u.Proto, "fine ", 5, 1)
		// Then garbage where an event's JSON should be, and a normal end.
		if u.Proto == beAnthropic {
			fmt.Fprint(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\n\n")
		} else {
			fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\n\n")
		}
		upstreamtest.WriteStreamTail(w, u.Proto, 5, 2)
	})
	g := startRelGateway(t, nil, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		resp, body := g.call(d, backend, false, "")
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("truncated JSON answer: status %d, want 502: %.300s", resp.StatusCode, body)
		} else if msg := relErrorMessage(t, d, body); msg == "" {
			t.Error("truncated JSON answer: no message")
		}

		resp, body = g.call(d, backend, true, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("malformed SSE: status %d (the stream had started): %.300s", resp.StatusCode, body)
		}
		text, sawError := relStreamedText(t, d, body)
		if !strings.HasPrefix(text, "fine ") {
			t.Errorf("malformed SSE: the good event before it was lost: %q", text)
		}
		if !sawError {
			t.Errorf("malformed SSE: no in-band error event:\n%s", body)
		}
	})
	if strings.Contains(g.out.String(), "panic") {
		t.Errorf("the server panicked:\n%s", g.out.String())
	}
}

func TestUpstreamOneMegabyteSSELineRelayedIntact(t *testing.T) {
	raw := make([]byte, 1<<20)
	rand.Read(raw)
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	for i := range raw {
		raw[i] = letters[int(raw[i])%len(letters)]
	}
	big := string(raw)
	var mu sync.Mutex
	sentLines := map[string]string{} // proto → the big data line as sent
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		upstreamtest.WriteStreamHead(w, u.Proto, 3)
		rec := &relLineRecorder{ResponseWriter: w}
		upstreamtest.WriteStreamText(rec, u.Proto, big, 3, 1)
		mu.Lock()
		sentLines[u.Proto] = rec.String()
		mu.Unlock()
		upstreamtest.WriteStreamTail(w, u.Proto, 3, 262144)
	})
	g := startRelGateway(t, nil, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		resp, body := g.call(d, backend, true, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.300s", resp.StatusCode, body)
		}
		text, sawError := relStreamedText(t, d, body)
		if sawError || text != big {
			t.Fatalf("the 1 MB event did not arrive intact (error event %v, %d bytes of text, want %d)", sawError, len(text), len(big))
		}
		// Same protocol: the line itself, byte for byte (Gemini's CRLF framing aside).
		if d.name == "openai" && backend == beOpenAI || d.name == "anthropic" && backend == beAnthropic {
			mu.Lock()
			line := sentLines[backend]
			mu.Unlock()
			if !strings.Contains(body, line) {
				t.Error("same-protocol stream: the 1 MB event was not relayed byte for byte")
			}
		}
	})
}

// An upstream silent for longer than the keepalive wait, right after its headers and again in
// the middle of the stream: each door relays the whole answer, keepalives between. In process,
// so that under -race the relay's keepalive timer and its goroutine are checked against each
// other before anything else orders them (sdktest's binary is not built with the race detector).
func TestUpstreamSilenceRelayedWithKeepalives(t *testing.T) {
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(500 * time.Millisecond) // more than two keepalive waits, before any event
		upstreamtest.WriteStreamHead(w, u.Proto, 3)
		upstreamtest.WriteStreamText(w, u.Proto, "Hel", 3, 1)
		w.(http.Flusher).Flush()
		time.Sleep(500 * time.Millisecond) // and in the middle
		upstreamtest.WriteStreamText(w, u.Proto, "lo", 3, 2)
		upstreamtest.WriteStreamTail(w, u.Proto, 3, 2)
	})
	g := startRelGateway(t, nil, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		resp, body := g.call(d, backend, true, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.300s", resp.StatusCode, body)
		}
		if text, sawError := relStreamedText(t, d, body); sawError || text != "Hello" {
			t.Fatalf("streamed text %q (error event %v), want %q", text, sawError, "Hello")
		}
	})
}

// relLineRecorder keeps a copy of what a handler writes.
type relLineRecorder struct {
	http.ResponseWriter
	sb strings.Builder
}

func (l *relLineRecorder) Write(p []byte) (int, error) {
	l.sb.Write(p)
	return l.ResponseWriter.Write(p)
}
func (l *relLineRecorder) Flush()         { l.ResponseWriter.(http.Flusher).Flush() }
func (l *relLineRecorder) String() string { return strings.TrimRight(l.sb.String(), "\r\n") }

func TestUpstreamRetryAfterPassedOn(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
				u := upstreamtest.ReadRequest(r)
				upstreamtest.WriteError(w, u.Proto, status, "17", "slow down, please")
			})
			g := startRelGateway(t, nil, mock.URL)
			eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
				for _, stream := range []bool{false, true} {
					resp, body := g.call(d, backend, stream, "")
					if resp.StatusCode != status {
						t.Errorf("stream=%v: status %d, want the upstream's %d: %s", stream, resp.StatusCode, status, body)
					}
					if got := resp.Header.Get("Retry-After"); got != "17" {
						t.Errorf("stream=%v: Retry-After %q, want the upstream's \"17\"", stream, got)
					}
					if msg := relErrorMessage(t, d, body); !strings.Contains(msg, "slow down, please") {
						t.Errorf("stream=%v: message %q lost the upstream's", stream, msg)
					}
				}
			})
		})
	}
}
