package sdktest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SPEC §15 through an official SDK: an Anthropic primary answering 529 (overloaded) is retried
// once, then its Gemini fallback answers a streamed turn with parallel tool calls — translated
// to the Anthropic stream that both official Go SDK lines read intact. The request history keeps
// every attempt.
func TestAnthropicSDKFallbackToGeminiParallelTools(t *testing.T) {
	g := startGateway(t, "AIGW_UPSTREAM_RETRY_BACKOFF_MAX=10ms")
	primary := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	})
	fallback := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.HasSuffix(r.URL.Path, ":streamGenerateContent") && strings.Contains(string(body), `"functionDeclarations"`) {
			writeSSE(w, geminiParallelTools()...)
			return
		}
		writeJSON(w, 400, `{"error":{"code":400,"message":"unexpected request","status":"INVALID_ARGUMENT"}}`)
	})
	g.secret("gemini-fallback-secret-0123456789")
	key, id := g.newClient(client{"backend": "anthropic", "base_url": primary.URL, "upstream_key": upstreamSecret,
		"default_model": "claude-sonnet-4-5", "fallbacks": []map[string]any{{"backend": "gemini", "base_url": fallback.URL,
			"upstream_key": "gemini-fallback-secret-0123456789", "model": "gemini-2.5-flash"}}})

	for i, sdk := range anthropicSDKs(g, key) {
		t.Run(sdk.name(), func(t *testing.T) {
			c := sdk.conversation(convoOptions{model: "claude-sonnet-4-5", maxTokens: 1024, tools: weatherTimeTools})
			c.user("Weather in Paris and time in Rome?", "")
			a, err := c.send(true)
			if err != nil {
				t.Fatal(err)
			}
			if a.stopReason != "tool_use" || len(a.tools) != 2 || a.tools[0].id == a.tools[1].id {
				t.Fatalf("answer %+v: want two tool calls with their own ids", a)
			}
			want := []toolUse{{name: "get_weather", input: `{"city":"Paris"}`}, {name: "get_time", input: `{"tz":"Europe/Rome"}`}}
			for i, u := range a.tools {
				if u.name != want[i].name || !jsonEqual(jsonValue(u.input), jsonValue(want[i].input)) {
					t.Errorf("tool %d %+v, want %+v", i, u, want[i])
				}
			}
			if a.inputTokens == 0 || a.outputTokens == 0 {
				t.Errorf("usage %d in / %d out", a.inputTokens, a.outputTokens)
			}
			if n := len(primary.requests()); n != 2*(i+1) {
				t.Errorf("the primary got %d requests, want %d (one retry per call)", n, 2*(i+1))
			}
			last := fallback.last(t)
			if !strings.HasSuffix(last.Path, "/models/gemini-2.5-flash:streamGenerateContent") ||
				last.Header.Get("x-goog-api-key") != "gemini-fallback-secret-0123456789" {
				t.Errorf("fallback asked %s with key %q: want its own model and key", last.Path, last.Header.Get("x-goog-api-key"))
			}

			// The history shows the three attempts; the last one answered.
			var rows struct {
				Requests []struct {
					Provider string `json:"provider"`
					Status   int    `json:"status"`
					Attempts []struct {
						Provider string `json:"provider"`
						Status   int    `json:"status"`
						Error    string `json:"error"`
					} `json:"attempts"`
				} `json:"requests"`
			}
			// The log is written in the background (about once a second): wait for this call's row.
			waitUntil(t, func() bool { return countRows(g, id) == i+1 })
			g.admin("GET", "/admin/api/v1/requests?limit=1&client_id="+strconv.FormatInt(id, 10), nil, &rows)
			r := rows.Requests[0]
			as := r.Attempts
			if r.Status != 200 || r.Provider != "gemini" ||
				as[0].Provider != "anthropic" || as[0].Status != 529 || !strings.Contains(as[0].Error, "Overloaded") ||
				as[1].Status != 529 || as[2].Provider != "gemini" || as[2].Status != 200 || as[2].Error != "" {
				b, _ := json.Marshal(r)
				t.Errorf("history row %s: want 529, 529, then gemini 200", b)
			}
		})
	}
}

// waitUntil polls cond for a while: a hang detector, not a timing assertion.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the request log")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countRows is how many request log rows client id has.
func countRows(g *gateway, id int64) int {
	var rows struct {
		Requests []json.RawMessage `json:"requests"`
	}
	g.admin("GET", "/admin/api/v1/requests?limit=100&client_id="+strconv.FormatInt(id, 10), nil, &rows)
	return len(rows.Requests)
}
