package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// routingEnv keeps the retry waits short; the breaker stays out of the way unless a test sets it.
func routingEnv(extra map[string]string) map[string]string {
	env := map[string]string{"AIGW_UPSTREAM_RETRY_BACKOFF_MAX": "20ms", "AIGW_UPSTREAM_BREAKER_FAILURES": "0"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// geminiFallback is a fallbacks field: one Gemini target at url with its own key and model.
func geminiFallback(url string) map[string]any {
	return map[string]any{"fallbacks": []map[string]any{{"backend": beGemini, "base_url": url,
		"upstream_key": "gemini-fallback-key-0123456789", "model": "gemini-fallback-model"}}}
}

// lastLog waits for the request log to hold n rows and returns the last.
func lastLog(t *testing.T, g *relGateway, n int) db.RequestLog {
	t.Helper()
	h := g.openDB()
	var rows []db.RequestLog
	relWaitFor(t, fmt.Sprintf("%d request log rows", n), 10*time.Second, func() bool {
		rows = h.requestLogs()
		return len(rows) >= n
	})
	return rows[len(rows)-1]
}

func attemptSummary(as db.Attempts) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%s:%d", a.Provider, a.Status))
	}
	return strings.Join(parts, " ")
}

// An Anthropic primary failing in each retryable way is retried once (upstream.retries=1), then
// the Gemini fallback answers — translated — for a caller at the Anthropic door (same protocol as
// the primary) and at the OpenAI door (translated to both), streamed or not. The request log
// keeps every attempt and names the target that answered; usage is counted once.
func TestAttackRoutingRetryThenFallback(t *testing.T) {
	failures := []struct {
		name string
		// fail is the primary's behaviour; nil means nothing listens (connection refused).
		fail func(w http.ResponseWriter, r *http.Request)
		// calls is how many requests the primary gets per request; status what each attempt logs.
		calls, status int
	}{
		{"connection refused", nil, 0, 502},
		{"hang before headers", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 2, 504},
		{"500", func(w http.ResponseWriter, _ *http.Request) { upstreamtest.WriteError(w, beAnthropic, 500, "", "boom") }, 2, 500},
		{"503", func(w http.ResponseWriter, _ *http.Request) { upstreamtest.WriteError(w, beAnthropic, 503, "", "down") }, 2, 503},
		{"529", func(w http.ResponseWriter, _ *http.Request) {
			upstreamtest.WriteError(w, beAnthropic, 529, "", "overloaded")
		}, 2, 529},
		// The key rests for its Retry-After (longer than retry_backoff_max): no retry on it.
		{"429 Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			upstreamtest.WriteError(w, beAnthropic, 429, "30", "slow down")
		}, 1, 429},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			fallback := newRouteMock(t, answerWell("from the fallback"))
			primaryURL := refusedURL(t)
			var primary *routeMock
			if f.fail != nil {
				primary = newRouteMock(t, func(_ int, w http.ResponseWriter, r *http.Request, _ upstreamtest.Request) { f.fail(w, r) })
				primaryURL = primary.URL
			}
			// Short enough for the hung primary to time out quickly, long enough for the
			// fallback to answer on a loaded CI machine (a slower answer is retried and counted).
			g := startRelGateway(t, routingEnv(map[string]string{"AIGW_UPSTREAM_HEADER_TIMEOUT": "1s"}), "")
			g.createClient(beAnthropic, primaryURL, geminiFallback(fallback.URL))
			n := 0
			for _, d := range []relDoor{relAnthropic, relOpenAI} {
				for _, stream := range []bool{false, true} {
					resp, body := g.call(d, beAnthropic, stream, "")
					n++
					text := relTextOf(d, map[string]any{})
					if stream {
						var sawErr bool
						text, sawErr = relStreamedText(t, d, body)
						if sawErr {
							t.Errorf("%s stream=%v: in-band error: %s", d.name, stream, body)
						}
					} else {
						var m map[string]any
						json.Unmarshal([]byte(body), &m)
						text = relTextOf(d, m)
					}
					if resp.StatusCode != 200 || text != "from the fallback" {
						t.Fatalf("%s stream=%v: %d %q, want 200 from the fallback: %s", d.name, stream, resp.StatusCode, text, body)
					}
					row := lastLog(t, g, n)
					if row.Status != 200 || row.Provider != beGemini {
						t.Errorf("%s stream=%v: log row status %d provider %q, want 200 gemini", d.name, stream, row.Status, row.Provider)
					}
					want := strings.Repeat(fmt.Sprintf("anthropic:%d ", f.status), max(f.calls, 1)) + "gemini:200"
					switch {
					case f.calls == 0:
						want = "anthropic:502 anthropic:502 gemini:200"
					case f.status == 429 && n > 1 && !strings.Contains(row.Attempts[0].Error, "resting"):
						t.Errorf("the resting key's attempt says %q, not that it rests", row.Attempts[0].Error)
					}
					if got := attemptSummary(row.Attempts); got != want {
						t.Errorf("%s stream=%v: attempts %q, want %q", d.name, stream, got, want)
					}
					if last := row.Attempts[len(row.Attempts)-1]; last.Error != "" || row.Attempts[0].Error == "" {
						t.Errorf("attempt errors: %+v", row.Attempts)
					}
					if row.InputTokens != 7 || row.OutputTokens != 3 {
						t.Errorf("usage %d/%d, want the fallback's 7/3", row.InputTokens, row.OutputTokens)
					}
				}
			}
			if primary != nil {
				perRequest := f.calls
				if f.name == "429 Retry-After" {
					perRequest = 0 // only the first request asks it: the key rests for 30s after
					if primary.calls() != 1 {
						t.Errorf("primary got %d calls, want 1 (then the key rests)", primary.calls())
					}
				} else if got := primary.calls(); f.name == "hang before headers" && (got < 4 || got > 4*perRequest) {
					// The log's attempts above are exact; an attempt whose header timeout ran out
					// before a loaded machine ran the mock's handler never reaches the mock.
					t.Errorf("primary got %d calls, want 4 to %d", got, 4*perRequest)
				} else if f.name != "hang before headers" && got != 4*perRequest {
					t.Errorf("primary got %d calls, want %d", got, 4*perRequest)
				}
			}
			// The fallback was asked for its own model, with its own key.
			bodies, keys := fallback.received()
			if len(bodies) != 4 {
				t.Fatalf("fallback got %d calls, want 4", len(bodies))
			}
			for _, k := range keys {
				if k != "gemini-fallback-key-0123456789" {
					t.Errorf("fallback was sent key %q", k)
				}
			}
			for _, p := range fallback.paths() {
				if !strings.Contains(p, "/models/gemini-fallback-model:") {
					t.Errorf("fallback was asked for %s, not its own model", p)
				}
			}
			u := g.openDB().usageTotals()[g.ids[beAnthropic]]
			if u.Requests != 4 || u.Errors != 0 || u.InputTokens != 28 || u.OutputTokens != 12 {
				t.Errorf("usage %+v, want 4 requests, no errors, 28/12 tokens", u)
			}
		})
	}
}

// A 400 is the caller's error: passed on as it is, never retried, no fallback asked.
func TestAttackRoutingCallerErrorNotRetried(t *testing.T) {
	fallback := newRouteMock(t, answerWell("from the fallback"))
	primary := newRouteMock(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ upstreamtest.Request) {
		upstreamtest.WriteError(w, beAnthropic, 400, "", "max_tokens: too large")
	})
	g := startRelGateway(t, routingEnv(nil), "")
	g.createClient(beAnthropic, primary.URL, geminiFallback(fallback.URL))
	for i, stream := range []bool{false, true} {
		resp, body := g.call(relAnthropic, beAnthropic, stream, "")
		if resp.StatusCode != 400 || !strings.Contains(relErrorMessage(t, relAnthropic, body), "max_tokens: too large") {
			t.Errorf("stream=%v: %d %s, want the upstream's 400", stream, resp.StatusCode, body)
		}
		if row := lastLog(t, g, i+1); attemptSummary(row.Attempts) != "anthropic:400" {
			t.Errorf("attempts %q, want one", attemptSummary(row.Attempts))
		}
	}
	if primary.calls() != 2 || fallback.calls() != 0 {
		t.Errorf("primary %d calls, fallback %d; want 2 and 0", primary.calls(), fallback.calls())
	}
}

// Once the first byte of a stream reached the caller nothing is retried: the failure is the
// door's in-band error event, and the fallback is never asked.
func TestAttackRoutingNoRetryAfterFirstByte(t *testing.T) {
	fallback := newRouteMock(t, answerWell("from the fallback"))
	primary := newRouteMock(t, func(_ int, w http.ResponseWriter, _ *http.Request, u upstreamtest.Request) {
		upstreamtest.WriteStreamHead(w, beAnthropic, 5)
		upstreamtest.WriteStreamText(w, beAnthropic, "half an ans", 5, 1)
		upstreamtest.Reset(t, w)
	})
	g := startRelGateway(t, routingEnv(nil), "")
	g.createClient(beAnthropic, primary.URL, geminiFallback(fallback.URL))
	for i, d := range []relDoor{relAnthropic, relOpenAI, relGemini} {
		resp, body := g.call(d, beAnthropic, true, "")
		text, sawErr := relStreamedText(t, d, body)
		if resp.StatusCode != 200 || text != "half an ans" || !sawErr {
			t.Errorf("%s: %d %q in-band error %v; want 200, the half answer, then the error event:\n%s", d.name, resp.StatusCode, text, sawErr, body)
		}
		row := lastLog(t, g, i+1)
		if attemptSummary(row.Attempts) != "anthropic:200" || row.Status < 500 {
			t.Errorf("%s: attempts %q status %d; want one attempt and a failed request", d.name, attemptSummary(row.Attempts), row.Status)
		}
	}
	if primary.calls() != 3 || fallback.calls() != 0 {
		t.Errorf("primary %d calls, fallback %d; want 3 and 0", primary.calls(), fallback.calls())
	}
}

// Every attempt sends the same request: the primary gets the caller's body byte for byte on its
// first try and its retry; the fallback gets the same request translated, each time identical.
func TestAttackRoutingSameBodyOnEveryAttempt(t *testing.T) {
	fallback := newRouteMock(t, answerWell("ok"))
	primary := newRouteMock(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ upstreamtest.Request) {
		upstreamtest.WriteError(w, beAnthropic, 503, "", "down")
	})
	g := startRelGateway(t, routingEnv(map[string]string{"AIGW_UPSTREAM_RETRIES": "2"}), "")
	g.createClient(beAnthropic, primary.URL, map[string]any{"fallbacks": []map[string]any{{"backend": beGemini,
		"base_url": fallback.URL, "upstream_keys": []string{"gemini-key-one-0123456789", "gemini-key-two-0123456789"}}}})
	body := `{"model":"m","max_tokens":100,"system":"be exact","messages":[{"role":"user","content":"über \u00e9 \"quoted\""}],` +
		`"tools":[{"name":"get","description":"d","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}],"stream":false}`
	resp, answer := g.call(relAnthropic, beAnthropic, false, body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, answer)
	}
	bodies, _ := primary.received()
	if len(bodies) != 3 {
		t.Fatalf("primary got %d attempts, want 3 (retries=2)", len(bodies))
	}
	for i, b := range bodies {
		if string(b) != string(bodies[0]) {
			t.Errorf("primary attempt %d sent\n%s\nthe first sent\n%s", i, b, bodies[0])
		}
	}
	// A fallback that fails once and answers on its retry gets the same translation twice.
	fallback.setBehave(func(n int, w http.ResponseWriter, _ *http.Request, u upstreamtest.Request) {
		if n%2 == 1 {
			upstreamtest.WriteError(w, beGemini, 500, "", "hiccup")
			return
		}
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"ok"}, Input: 1, Output: 1})
	})
	if resp, answer := g.call(relAnthropic, beAnthropic, false, body); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, answer)
	}
	fb, keys := fallback.received()
	if len(fb) != 3 || string(fb[1]) != string(fb[2]) || string(fb[0]) != string(fb[1]) {
		t.Fatalf("fallback attempts differ or are missing (%d):\n%s", len(fb), fb)
	}
	if keys[1] == keys[2] {
		t.Errorf("the fallback's retry used the same key %q; its keys take turns", keys[1])
	}
	// Through the OpenAI door the primary gets a translation: the same on each of its attempts.
	openaiBody := `{"model":"m","max_tokens":100,"messages":[{"role":"system","content":"be exact"},` +
		`{"role":"user","content":"über \u00e9"}],"tools":[{"type":"function","function":{"name":"get","parameters":{"type":"object"}}}]}`
	if resp, answer := g.call(relOpenAI, beAnthropic, false, openaiBody); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, answer)
	}
	bodies, _ = primary.received()
	if len(bodies) != 9 || string(bodies[6]) != string(bodies[7]) || string(bodies[7]) != string(bodies[8]) {
		t.Fatalf("the translated attempts differ (%d):\n%s", len(bodies), bodies[6:])
	}
}

// Many callers during a failover: every one is answered by the fallback, each request is logged
// and counted exactly once, with its own attempts.
func TestAttackRoutingConcurrentFailover(t *testing.T) {
	fallback := newRouteMock(t, answerWell("from the fallback"))
	primary := newRouteMock(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ upstreamtest.Request) {
		upstreamtest.WriteError(w, beAnthropic, 529, "", "overloaded")
	})
	// The breaker opens part-way through: later requests skip the primary without a call.
	g := startRelGateway(t, routingEnv(map[string]string{"AIGW_UPSTREAM_BREAKER_FAILURES": "5"}), "")
	g.createClient(beAnthropic, primary.URL, geminiFallback(fallback.URL))
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := []relDoor{relAnthropic, relOpenAI, relGemini}[i%3]
			stream := i%2 == 0
			resp, body := g.call(d, beAnthropic, stream, "")
			text := ""
			if stream {
				text, _ = relStreamedText(t, d, body)
			} else {
				var m map[string]any
				json.Unmarshal([]byte(body), &m)
				text = relTextOf(d, m)
			}
			if resp.StatusCode != 200 || text != "from the fallback" {
				errs <- fmt.Sprintf("%s stream=%v: %d %q", d.name, stream, resp.StatusCode, text)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	lastLog(t, g, n)
	rows := g.openDB().requestLogs()
	if len(rows) != n {
		t.Fatalf("%d log rows, want %d", len(rows), n)
	}
	for _, r := range rows {
		if r.Status != 200 || r.Provider != beGemini || len(r.Attempts) < 2 || r.Attempts[len(r.Attempts)-1].Provider != beGemini {
			t.Errorf("row %d: status %d provider %s attempts %q", r.ID, r.Status, r.Provider, attemptSummary(r.Attempts))
		}
	}
	if fallback.calls() != n {
		t.Errorf("fallback answered %d calls, want %d", fallback.calls(), n)
	}
	if primary.calls() >= 2*n {
		t.Errorf("primary got %d calls: the open breaker should have spared it some", primary.calls())
	}
	u := g.openDB().usageTotals()[g.ids[beAnthropic]]
	if u.Requests != n || u.Errors != 0 || u.InputTokens != 7*n || u.OutputTokens != 3*n {
		t.Errorf("usage %+v, want %d requests, no errors, %d/%d tokens", u, n, 7*n, 3*n)
	}
}
