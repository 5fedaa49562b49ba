package main

// Client faults (SPEC §10, §11; issue 10): a client that goes away, reads slowly or sends
// garbage costs the gateway nothing it cannot bound, and gets a truthful answer in its own
// front door's shape.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

func TestClientDisconnectMidStreamCancelsUpstream(t *testing.T) {
	type hangup struct {
		proto string
		at    time.Time
	}
	hangups := make(chan hangup, 16)
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		upstreamtest.WriteStreamHead(w, u.Proto, 4)
		// An endless answer: one event every 20 ms until the gateway hangs up.
		for i := 1; ; i++ {
			if upstreamtest.WriteStreamText(w, u.Proto, "tick ", 4, i) != nil {
				break
			}
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Millisecond):
				continue
			}
			break
		}
		hangups <- hangup{u.Proto, time.Now()}
	})
	g := startRelGateway(t, nil, mock.URL)
	for _, d := range relDoors {
		for _, backend := range relBackends {
			t.Run(d.name+"→"+backend, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				resp, err := http.DefaultClient.Do(g.newRequest(ctx, d, backend, true, ""))
				if err != nil {
					t.Fatal(err)
				}
				// Read until the first content arrived, then hang up.
				br := bufio.NewReader(resp.Body)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						t.Fatalf("stream ended before any content: %v", err)
					}
					if strings.Contains(line, "tick") {
						break
					}
				}
				cancel()
				resp.Body.Close()
				gone := time.Now()
				select {
				case h := <-hangups:
					if h.proto != backend {
						t.Fatalf("hang-up from %s, want %s", h.proto, backend)
					}
					if d := h.at.Sub(gone); d > time.Second {
						t.Errorf("upstream cancelled %v after the client left, want ≤ 1s", d)
					}
				case <-time.After(3 * time.Second):
					t.Fatal("the upstream request was not cancelled after the client left")
				}
			})
		}
	}
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	rows := g.openDB().requestLogs()
	if len(rows) != 9 {
		t.Fatalf("%d request_log rows, want 9", len(rows))
	}
	for _, r := range rows {
		if r.Status != 499 || r.ErrorClass != "canceled" || r.OutputTokens <= 0 {
			t.Errorf("row %s %s: status %d class %q out %d; want 499 canceled with the tokens relayed", r.Provider, r.Endpoint, r.Status, r.ErrorClass, r.OutputTokens)
		}
	}
}

func TestClientSlowReaderDoesNotMakeTheGatewayBuffer(t *testing.T) {
	const total = 50 << 20
	piece := strings.Repeat("x", 16<<10)
	var written atomic.Int64 // content bytes the upstream got rid of
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		upstreamtest.WriteStreamHead(w, u.Proto, 1)
		n := 0
		for i := 1; n < total; i++ {
			if upstreamtest.WriteStreamText(w, u.Proto, piece, 1, i) != nil {
				return
			}
			n += len(piece)
			written.Store(int64(n))
		}
		upstreamtest.WriteStreamTail(w, u.Proto, 1, total/len(piece))
	})
	g := startRelGateway(t, nil, mock.URL)
	// A client that reads with a small socket buffer, so the kernel holds little on its side.
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
			return serr
		},
	}).DialContext}}
	for _, route := range []struct {
		d       relDoor
		backend string
	}{{relOpenAI, beOpenAI}, {relAnthropic, beAnthropic}, {relGemini, beOpenAI}} {
		t.Run(route.d.name+"→"+route.backend, func(t *testing.T) {
			written.Store(0)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)

			resp, err := client.Do(g.newRequest(context.Background(), route.d, route.backend, true, ""))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// The client reads nothing now. Wait until the upstream's writes stop making progress.
			stalled := written.Load()
			for still := 0; still < 10; {
				time.Sleep(50 * time.Millisecond)
				if n := written.Load(); n != stalled {
					stalled, still = n, 0
				} else {
					still++
				}
			}
			var during runtime.MemStats
			runtime.ReadMemStats(&during)
			growth := int64(during.HeapInuse) - int64(before.HeapInuse)
			t.Logf("upstream blocked after %.1f MB of %d MB; heap grew %.1f MB", float64(stalled)/(1<<20), total>>20, float64(growth)/(1<<20))
			if stalled >= total/2 {
				t.Errorf("the upstream wrote %.1f MB while the client read nothing: the gateway buffers without bound", float64(stalled)/(1<<20))
			}
			if growth > 24<<20 {
				t.Errorf("heap grew %.1f MB while the client read nothing", float64(growth)/(1<<20))
			}

			// The client catches up: everything arrives.
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil {
				t.Fatalf("after catching up: %v", err)
			}
			if n < total {
				t.Errorf("the client got %d bytes, want at least the %d of content", n, total)
			}
		})
	}
}

// TestClientBadRequests sends each front door what a broken or hostile client would, on every
// backend (the checks must hold on the forwarding and the translating path alike).
func TestClientBadRequests(t *testing.T) {
	answered := &relCounter{}
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		// Like the real APIs, the upstream rejects a body whose main fields have the wrong type
		// (a forwarded body reaches it as the client sent it).
		var shape struct {
			Model     any `json:"model"`
			MaxTokens any `json:"max_tokens"`
			Messages  any `json:"messages"`
			Contents  any `json:"contents"`
		}
		json.Unmarshal(u.Body, &shape)
		_, msgsOK := shape.Messages.([]any)
		_, contentsOK := shape.Contents.([]any)
		_, modelOK := shape.Model.(string)
		_, maxOK := shape.MaxTokens.(float64)
		if u.Proto == beGemini && !contentsOK || u.Proto == beOpenAI && (!msgsOK || !modelOK) ||
			u.Proto == beAnthropic && (!msgsOK || !modelOK || !maxOK) {
			upstreamtest.WriteError(w, u.Proto, http.StatusBadRequest, "", "invalid value: expected an array of messages")
			return
		}
		answered.add(1)
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"ok"}, Input: 1, Output: 1})
	})
	g := startRelGateway(t, nil, mock.URL)

	deepOpen := strings.Repeat("[", 100_000)
	deepClosed := deepOpen + strings.Repeat("]", 100_000)
	type badCase struct {
		name   string
		body   map[string]string // door → body
		status int
		// want is in the message (lowercased), any of them.
		want []string
	}
	cases := []badCase{
		{"malformed JSON", map[string]string{
			"openai":    `{"model":"m","messages":[{"role":"user","content":"hi"}`,
			"anthropic": `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}`,
			"gemini":    `{"contents":[{"role":"user","parts":[{"text":"hi"}]}`,
		}, 400, []string{"unexpected end of json input"}},
		{"wrong types", map[string]string{
			"openai":    `{"model":5,"messages":"hi"}`,
			"anthropic": `{"model":"m","max_tokens":"ten","messages":{"role":"user"}}`,
			"gemini":    `{"contents":"hi"}`,
		}, 400, []string{"model", "messages", "max_tokens", "contents", "cannot unmarshal", "must be", "expected", "number"}},
		{"deeply nested, unclosed", map[string]string{
			"openai":    `{"model":"m","messages":` + deepOpen,
			"anthropic": `{"model":"m","max_tokens":5,"messages":` + deepOpen,
			"gemini":    `{"contents":` + deepOpen,
		}, 400, []string{"json", "depth", "nest"}},
		{"deeply nested, well-formed", map[string]string{
			"openai":    `{"model":"m","messages":[{"role":"user","content":"hi"}],"metadata":` + deepClosed + `}`,
			"anthropic": `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":` + deepClosed + `}`,
			"gemini":    `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"x":` + deepClosed + `}`,
		}, 400, []string{"depth", "nest"}},
		{"only brackets", map[string]string{"openai": deepClosed, "anthropic": deepClosed, "gemini": deepClosed},
			400, []string{"json", "depth", "nest", "object"}},
	}
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		for _, tc := range cases {
			resp, body := g.call(d, backend, false, tc.body[d.name])
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d: %.300s", tc.name, resp.StatusCode, tc.status, body)
				continue
			}
			msg := strings.ToLower(relErrorMessage(t, d, body))
			found := false
			for _, w := range tc.want {
				found = found || strings.Contains(msg, w)
			}
			if !found {
				t.Errorf("%s: message %q says none of %q", tc.name, msg, tc.want)
			}
		}
	})
	if n := answered.get(); n != 0 {
		t.Errorf("%d bad requests were answered as if they were fine", n)
	}

	t.Run("huge headers", func(t *testing.T) {
		for _, d := range relDoors {
			// The gateway answers after reading 16 KB and closes the connection with the rest of
			// the headers unread, which resets it. A client still writing then sees the reset
			// before the answer (net/http reports the failed write), so this one reads while it
			// writes, as the 413 case below does.
			resp, conn := sendRaw(t, g.url, http.MethodPost, d.path(false), func(h http.Header) {
				h.Set("Content-Type", "application/json")
				d.auth(h, g.keys[beOpenAI])
				h.Set("X-Padding", strings.Repeat("p", 64<<10))
			}, d.body(false))
			defer conn.Close()
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%s: status %d, want 431: %.300s", d.name, resp.StatusCode, b)
				continue
			}
			relErrorMessage(t, d, string(b))
		}
	})

	t.Run("body over 10 MB", func(t *testing.T) {
		for _, d := range relDoors {
			// A client that really sends all of it: the gateway answers 413 without reading it all.
			body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("a", 11<<20) + `"}]}`
			resp, conn := sendRaw(t, g.url, http.MethodPost, d.path(false), func(h http.Header) {
				h.Set("Content-Type", "application/json")
				d.auth(h, g.keys[beOpenAI])
			}, body)
			b, _ := io.ReadAll(resp.Body)
			conn.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s: status %d, want 413: %.300s", d.name, resp.StatusCode, b)
				continue
			}
			if msg := relErrorMessage(t, d, string(b)); !strings.Contains(msg, "10 MB") {
				t.Errorf("%s: message %q does not name the limit", d.name, msg)
			}
		}
	})
	if strings.Contains(g.out.String(), "panic") {
		t.Errorf("the server panicked:\n%.2000s", g.out.String())
	}
}

// A client that gives up on a non-streamed answer (nothing has been written to it yet) must not
// leave the upstream working for nobody.
func TestClientDisconnectWhileWaitingCancelsUpstream(t *testing.T) {
	hangups := make(chan time.Time, 16)
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		upstreamtest.ReadRequest(r)
		<-r.Context().Done() // a long generation: no answer until the gateway hangs up
		hangups <- time.Now()
	})
	g := startRelGateway(t, nil, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := http.DefaultClient.Do(g.newRequest(ctx, d, backend, false, ""))
		if err == nil {
			t.Fatal("the hung request returned")
		}
	})
	gone := time.Now()
	for range 9 {
		select {
		case at := <-hangups:
			if d := at.Sub(gone); d > time.Second {
				t.Errorf("upstream cancelled %v after the clients left, want ≤ 1s", d)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("an upstream request went on after its client left")
		}
	}
}

// sendRaw writes one HTTP/1.1 request on a new connection from another goroutine and reads the
// answer meanwhile, so an answer sent before the request was fully written is not lost.
func sendRaw(t *testing.T, base, method, path string, headers func(http.Header), body string) (*http.Response, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	headers(h)
	go func() {
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: gateway\r\nContent-Length: %d\r\n", method, path, len(body))
		h.Write(conn)
		io.WriteString(conn, "\r\n"+body) // fails once the gateway hangs up: expected
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, conn
}
