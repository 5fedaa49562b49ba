package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every upstream call goes through the gateway's one call point (SPEC §13): count_tokens and
// model listing are admitted like a generation — a client's exhausted rate limit refuses them in
// the door's shape, with Retry-After — and appear in the request history with their endpoint.
func TestCountTokensAndModelListingAreAdmittedAndLogged(t *testing.T) {
	var upstreamCalls atomic.Int64
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		upstreamCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages/count_tokens"):
			w.Write([]byte(`{"input_tokens":42}`))
		case strings.HasSuffix(r.URL.Path, ":countTokens"):
			w.Write([]byte(`{"totalTokens":43}`))
		case strings.HasSuffix(r.URL.Path, "/models"):
			w.Write([]byte(`{"data":[{"id":"m","object":"model"}],"models":[{"name":"models/m"}]}`))
		default:
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
		}
	})
	defer mock.Close()
	g := startRelGateway(t, nil, "")
	oneAMinute := map[string]any{"rate_limit": map[string]int{"requests_per_minute": 1}}

	doors := []struct {
		name, backend, method, path, body, endpoint, want string
		header                                            []string
	}{
		{"anthropic count_tokens", beAnthropic, "POST", "/v1/messages/count_tokens",
			`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "/v1/messages/count_tokens", `"input_tokens":42`,
			[]string{"x-api-key"}},
		{"gemini countTokens", beGemini, "POST", "/v1beta/models/m:countTokens",
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, "/v1beta/models:countTokens", `"totalTokens":43`,
			[]string{"x-goog-api-key"}},
		{"openai model listing", beOpenAI, "GET", "/v1/models", "", "/v1/models", `"id":"m"`,
			[]string{"Authorization", "Bearer "}},
	}
	for _, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			g.createClient(d.backend, mock.URL, oneAMinute)
			key := g.keys[d.backend]
			call := func() (*http.Response, string) {
				req, _ := http.NewRequest(d.method, g.url+d.path, strings.NewReader(d.body))
				if len(d.header) == 2 {
					req.Header.Set(d.header[0], d.header[1]+key)
				} else {
					req.Header.Set(d.header[0], key)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			before := upstreamCalls.Load()
			resp, body := call()
			if resp.StatusCode != 200 || !strings.Contains(body, d.want) {
				t.Fatalf("first call: %d %s", resp.StatusCode, body)
			}
			if resp.Header.Get("x-ratelimit-limit-requests") != "1" {
				t.Errorf("x-ratelimit-limit-requests = %q", resp.Header.Get("x-ratelimit-limit-requests"))
			}
			afterFirst := upstreamCalls.Load()
			resp, body = call()
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "rate limit") {
				t.Fatalf("second call within the minute: %d %s (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
			}
			if afterFirst == before || upstreamCalls.Load() != afterFirst {
				t.Errorf("upstream calls: %d before, %d after the first, %d after the refused one", before, afterFirst, upstreamCalls.Load())
			}
			// The request log is written in the background: wait for both rows.
			var statuses []int
			var out string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				var status int
				status, out = g.admin("GET", "/admin/api/v1/requests?client_id="+strconv.FormatInt(g.ids[d.backend], 10), nil)
				if status != 200 {
					t.Fatalf("history: %d %s", status, out)
				}
				var hist struct {
					Requests []struct {
						Endpoint string `json:"endpoint"`
						Status   int    `json:"status"`
					} `json:"requests"`
				}
				if err := json.Unmarshal([]byte(out), &hist); err != nil {
					t.Fatalf("history %s: %v", out, err)
				}
				statuses = statuses[:0]
				for _, r := range hist.Requests {
					if r.Endpoint == d.endpoint {
						statuses = append(statuses, r.Status)
					}
				}
				if len(statuses) >= 2 {
					break
				}
			}
			if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
				t.Errorf("history rows for %s: %v, want [429 200] (newest first); all: %s", d.endpoint, statuses, out)
			}
		})
	}
}
