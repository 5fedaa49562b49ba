package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// door is a front door as its SDKs call it.
type door struct {
	name string
	path func(stream bool) string
	body func(prompt string, stream bool) string
	auth func(h http.Header, key string)
	// ended reports whether a streamed answer ended the normal way for the protocol.
	ended func(body string) bool
}

var doors = []door{
	{
		name: "openai",
		path: func(bool) string { return "/v1/chat/completions" },
		body: func(p string, stream bool) string {
			return fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":%q}],"stream":%t}`, p, stream)
		},
		auth:  func(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) },
		ended: func(b string) bool { return strings.Contains(b, "data: [DONE]") },
	},
	{
		name: "anthropic",
		path: func(bool) string { return "/v1/messages" },
		body: func(p string, stream bool) string {
			return fmt.Sprintf(`{"model":"m","max_tokens":100,"messages":[{"role":"user","content":%q}],"stream":%t}`, p, stream)
		},
		auth:  func(h http.Header, key string) { h.Set("x-api-key", key); h.Set("anthropic-version", "2023-06-01") },
		ended: func(b string) bool { return strings.Contains(b, "event: message_stop") },
	},
	{
		name: "gemini",
		path: func(stream bool) string {
			if stream {
				return "/v1beta/models/m:streamGenerateContent?alt=sse"
			}
			return "/v1beta/models/m:generateContent"
		},
		body: func(p string, _ bool) string {
			return fmt.Sprintf(`{"contents":[{"role":"user","parts":[{"text":%q}]}]}`, p)
		},
		auth:  func(h http.Header, key string) { h.Set("x-goog-api-key", key) },
		ended: func(b string) bool { return strings.Contains(b, `"finishReason":"STOP"`) },
	},
}

// mix is how often each behaviour is asked for (out of 100); slow and hangup need a stream.
var mix = []struct {
	behave string
	weight int
}{
	{behaveOK, 52}, {behaveLag, 8}, {behaveSlow, 8}, {behave500, 8}, {behave429, 4}, {behaveReset, 10}, {behaveHangup, 10},
}

// clientTally is what the soak's clients saw, per backend protocol.
type clientTally struct {
	Sent    int64 // requests sent (each reached the gateway)
	OK      int64 // complete successful answers
	HungUp  int64 // streams the client walked away from
	Wrong   int64 // answers that were not what the behaviour should give
	Samples []string
}

type traffic struct {
	gw *gatewayProc
	hc *http.Client

	mu      sync.Mutex
	tallies map[string]*clientTally
}

func newTraffic(gw *gatewayProc) *traffic {
	// No answer in the mix takes a second; one that takes 30 is a hang.
	t := &traffic{gw: gw, hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		tallies: map[string]*clientTally{}}
	for _, p := range protocols {
		t.tallies[p] = &clientTally{}
	}
	return t
}

func (t *traffic) record(proto string, f func(*clientTally)) {
	t.mu.Lock()
	f(t.tallies[proto])
	t.mu.Unlock()
}

func (t *traffic) wrong(proto, what string) {
	t.record(proto, func(c *clientTally) {
		c.Wrong++
		if len(c.Samples) < 5 {
			c.Samples = append(c.Samples, what)
		}
	})
}

// run sends requests from n workers until ctx ends.
func (t *traffic) run(ctx context.Context, n int, seed uint64) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil {
				t.one(rng)
			}
		}()
	}
	wg.Wait()
}

func pick(rng *rand.Rand) string {
	n := rng.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.behave
		}
		n -= m.weight
	}
	return behaveOK
}

// one sends one request and checks the answer against what its behaviour should give.
func (t *traffic) one(rng *rand.Rand) {
	d := doors[rng.IntN(len(doors))]
	proto := protocols[rng.IntN(len(protocols))]
	behave := pick(rng)
	stream := rng.IntN(2) == 0 || behave == behaveSlow || behave == behaveHangup
	prompt := "soak:" + behave + " please answer"
	req, _ := http.NewRequest(http.MethodPost, t.gw.Base+d.path(stream), strings.NewReader(d.body(prompt, stream)))
	req.Header.Set("Content-Type", "application/json")
	d.auth(req.Header, t.gw.keys[proto])
	label := fmt.Sprintf("%s→%s %s stream=%v", d.name, proto, behave, stream)

	t.record(proto, func(c *clientTally) { c.Sent++ })
	resp, err := t.hc.Do(req)
	if err != nil {
		t.wrong(proto, label+": "+err.Error())
		return
	}
	defer resp.Body.Close()

	if behave == behaveHangup {
		// Read until the answer has started, then walk away mid-stream.
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.wrong(proto, label+": the stream ended before the client hung up")
				return
			}
			if strings.Contains(line, "more") {
				break
			}
		}
		t.record(proto, func(c *clientTally) { c.HungUp++ })
		return // closing the body drops the connection
	}
	b, err := io.ReadAll(resp.Body)
	body := string(b)
	if err != nil {
		t.wrong(proto, label+": reading: "+err.Error())
		return
	}
	fail := func(format string, args ...any) {
		t.wrong(proto, label+": "+fmt.Sprintf(format, args...)+fmt.Sprintf(" (HTTP %d: %.160s)", resp.StatusCode, body))
	}
	switch behave {
	case behaveOK, behaveSlow, behaveLag:
		switch {
		case resp.StatusCode != http.StatusOK:
			fail("want 200")
		case stream && !d.ended(body):
			fail("the stream did not end normally")
		case !stream && !strings.Contains(body, "word"):
			fail("no answer text")
		default:
			t.record(proto, func(c *clientTally) { c.OK++ })
		}
	case behave500:
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "injected failure") {
			fail("want the upstream's 500 passed on")
		}
	case behave429:
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
			fail("want the upstream's 429 and Retry-After: 3 passed on")
		}
	case behaveReset:
		if stream {
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "error") || d.ended(body) {
				fail("want an in-band error event after the reset")
			}
		} else if resp.StatusCode != http.StatusBadGateway {
			fail("want 502")
		}
	}
}
