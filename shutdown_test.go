package main

// Shutdown (SPEC §2; issue 10): SIGTERM lets open streams finish within the shutdown timeout,
// then the usage counters and the request log are written; a restart sees exactly what the
// upstream served.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// streamEnded reports whether a front door's stream ended the normal way for its protocol.
func streamEnded(d relDoor, body string) bool {
	switch d.name {
	case "openai":
		return strings.Contains(body, "data: [DONE]")
	case "anthropic":
		return strings.Contains(body, "event: message_stop")
	}
	return strings.Contains(body, `"finishReason":"STOP"`)
}

// heldStreams is an upstream whose streams send their first event, report it on opened and then
// wait for release before sending the rest. It counts what it served in full.
type heldStreams struct {
	opened  chan struct{}
	release chan struct{}
	texts   []string
	input   int

	mu                  sync.Mutex
	served, in, out     int64
	servedBy            map[string]int64
	cut                 int64
	outSoFar, inSoFar   int64
	announceSecondEvent bool
}

func newHeldStreams(n int) *heldStreams {
	return &heldStreams{opened: make(chan struct{}, n), release: make(chan struct{}),
		texts: []string{"one ", "two ", "three ", "four ", "five "}, input: 7, servedBy: map[string]int64{}}
}

func (h *heldStreams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := upstreamtest.ReadRequest(r)
	upstreamtest.WriteStreamHead(w, u.Proto, h.input)
	upstreamtest.WriteStreamText(w, u.Proto, h.texts[0], h.input, 1)
	h.opened <- struct{}{}
	select {
	case <-h.release:
	case <-r.Context().Done():
		h.mu.Lock()
		h.cut++
		h.mu.Unlock()
		return
	}
	for i, s := range h.texts[1:] {
		if upstreamtest.WriteStreamText(w, u.Proto, s, h.input, i+2) != nil {
			return
		}
	}
	if upstreamtest.WriteStreamTail(w, u.Proto, h.input, len(h.texts)) != nil {
		return
	}
	h.mu.Lock()
	h.served++
	h.servedBy[u.Proto]++
	h.in += int64(h.input)
	h.out += int64(len(h.texts))
	h.mu.Unlock()
}

func TestShutdownLetsOpenStreamsFinishAndKeepsTheirAccounting(t *testing.T) {
	const streams = 50
	up := newHeldStreams(streams)
	mock := newRelMock(t, up.ServeHTTP)
	const timeout = 20 * time.Second
	g := startRelGateway(t, map[string]string{"AIGW_SERVER_SHUTDOWN_TIMEOUT": timeout.String()}, mock.URL)

	type result struct {
		d     relDoor
		body  string
		err   error
		ended bool
	}
	results := make(chan result, streams)
	for i := range streams {
		d := relDoors[i%3]
		backend := relBackends[(i/3)%3]
		go func() {
			resp, err := http.DefaultClient.Do(g.newRequest(context.Background(), d, backend, true, ""))
			if err != nil {
				results <- result{d: d, err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			results <- result{d: d, body: string(b), err: err, ended: resp.StatusCode == 200 && streamEnded(d, string(b))}
		}()
	}
	for range streams {
		select {
		case <-up.opened:
		case <-time.After(10 * time.Second):
			t.Fatal("the streams did not all open")
		}
	}

	// SIGTERM: run's context is cancelled. Once the server says it is shutting down, the
	// upstream finishes every stream.
	stopped := make(chan error, 1)
	began := time.Now()
	go func() { stopped <- g.stop() }()
	relWaitFor(t, "the shutdown to begin", 5*time.Second, func() bool { return strings.Contains(g.out.String(), "shutting down") })
	if resp, err := http.Get(g.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a new connection was accepted during the shutdown")
	}
	close(up.release)

	for range streams {
		r := <-results
		if r.err != nil || !r.ended {
			t.Errorf("%s stream did not finish normally during the shutdown (err %v):\n%.500s", r.d.name, r.err, r.body)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(began); took > timeout {
		t.Errorf("shutdown took %v, longer than the %v timeout", took, timeout)
	}
	if up.served != streams {
		t.Fatalf("the upstream served %d streams in full, want %d", up.served, streams)
	}

	// Restart on the same directory: the totals are what the upstream served.
	g.restart()
	h := g.openDB()
	if rows := h.requestLogs(); len(rows) != streams {
		t.Errorf("%d request_log rows after restart, want %d", len(rows), streams)
	} else {
		for _, r := range rows {
			if r.Status != 200 || r.ErrorClass != "" || r.FinishReason == "" {
				t.Errorf("row %s %s: status %d, error %q, finish %q", r.Provider, r.Endpoint, r.Status, r.ErrorClass, r.FinishReason)
			}
		}
	}
	var req, in, out int64
	for _, u := range h.usageTotals() {
		req, in, out = req+u.Requests, in+u.InputTokens, out+u.OutputTokens
	}
	if req != up.served || in != up.in || out != up.out {
		t.Errorf("usage_daily after restart: %d requests, %d in, %d out; the upstream served %d, %d in, %d out",
			req, in, out, up.served, up.in, up.out)
	}
	// The restarted gateway's own counters (GET /v1/usage) start from the same totals.
	for _, backend := range relBackends {
		req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/usage", nil)
		req.Header.Set("Authorization", "Bearer "+g.keys[backend])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Usage struct {
				Requests     int64 `json:"requests"`
				InputTokens  int64 `json:"input_tokens"`
				OutputTokens int64 `json:"output_tokens"`
			} `json:"usage"`
		}
		json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		n := up.servedBy[backend]
		if rep.Usage.Requests != n || rep.Usage.InputTokens != n*int64(up.input) || rep.Usage.OutputTokens != n*int64(len(up.texts)) {
			t.Errorf("%s client: /v1/usage after restart %+v, want %d requests served", backend, rep.Usage, n)
		}
	}
}

// A stream that outlives the shutdown timeout is cut at the deadline: its client is told in-band,
// and what it used so far is still written before the program exits.
func TestShutdownCutsStreamsThatOutliveTheTimeoutAndAccountsThem(t *testing.T) {
	up := newHeldStreams(9)
	mock := newRelMock(t, up.ServeHTTP)
	g := startRelGateway(t, map[string]string{"AIGW_SERVER_SHUTDOWN_TIMEOUT": "1s"}, mock.URL)
	t.Cleanup(func() {
		select {
		case <-up.release:
		default:
			close(up.release)
		}
	})

	type result struct {
		d    relDoor
		body string
	}
	results := make(chan result, 9)
	for _, d := range relDoors {
		for _, backend := range relBackends {
			go func() {
				resp, err := http.DefaultClient.Do(g.newRequest(context.Background(), d, backend, true, ""))
				if err != nil {
					results <- result{d, "request failed: " + err.Error()}
					return
				}
				defer resp.Body.Close()
				var sb strings.Builder
				br := bufio.NewReader(resp.Body)
				for {
					line, err := br.ReadString('\n')
					sb.WriteString(line)
					if err != nil {
						break
					}
				}
				results <- result{d, sb.String()}
			}()
		}
	}
	for range 9 {
		<-up.opened
	}
	began := time.Now()
	if err := g.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("run returned %v after the signal; the shutdown timeout is 1s", took)
	}
	for range 9 {
		select {
		case r := <-results:
			if _, sawError := relStreamedText(t, r.d, r.body); !sawError || !strings.Contains(r.body, "shutting down") {
				t.Errorf("%s: a stream cut by the shutdown did not tell its client why:\n%.600s", r.d.name, r.body)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a stream is still open after run returned")
		}
	}
	rows := g.openDB().requestLogs()
	if len(rows) != 9 {
		t.Fatalf("%d request_log rows, want the 9 cut streams", len(rows))
	}
	for _, r := range rows {
		if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.ErrorMessage, "shutting down") || r.OutputTokens == 0 {
			t.Errorf("row %s %s: status %d class %q out %d; want the cut recorded with the tokens relayed", r.Provider, r.Endpoint, r.Status, r.ErrorClass, r.OutputTokens)
		}
	}
}
