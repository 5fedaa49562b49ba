package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

// routingEnv keeps the retry waits short; the breaker stays out of the way unless a test sets it.
func routingEnv(extra map[string]string) map[string]string {
	env := map[string]string{"AIGW_UPSTREAM_RETRY_BACKOFF_MAX": "20ms", "AIGW_UPSTREAM_BREAKER_FAILURES": "0",
		"AIGW_UPSTREAM_HEADER_TIMEOUT": "300ms"}
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
		{"500", func(w http.ResponseWriter, _ *http.Request) { mockUpstreamError(w, beAnthropic, 500, "", "boom") }, 2, 500},
		{"503", func(w http.ResponseWriter, _ *http.Request) { mockUpstreamError(w, beAnthropic, 503, "", "down") }, 2, 503},
		{"529", func(w http.ResponseWriter, _ *http.Request) { mockUpstreamError(w, beAnthropic, 529, "", "overloaded") }, 2, 529},
		// The key rests for its Retry-After (longer than retry_backoff_max): no retry on it.
		{"429 Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			mockUpstreamError(w, beAnthropic, 429, "30", "slow down")
		}, 1, 429},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			fallback := newRouteMock(t, answerWell("from the fallback"))
			primaryURL := refusedURL(t)
			var primary *routeMock
			if f.fail != nil {
				primary = newRouteMock(t, func(_ int, w http.ResponseWriter, r *http.Request, _ mockRequest) { f.fail(w, r) })
				primaryURL = primary.URL
			}
			g := startRelGateway(t, routingEnv(nil), "")
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
				} else if got := primary.calls(); got != 4*perRequest {
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
