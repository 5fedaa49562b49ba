package sdktest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/openai/openai-go/v3"
	"google.golang.org/genai"
)

// SPEC §15 through an official SDK: an Anthropic primary answering 529 (overloaded) is retried
// once, then its Gemini fallback answers a streamed turn with parallel tool calls — translated
// to the Anthropic stream that both official Go SDK lines read intact. The request history keeps
// every attempt.
func TestAnthropicSDKFallbackToGeminiParallelTools(t *testing.T) {
	g := startGateway(t, "AIGW_UPSTREAM_RETRY_BACKOFF_MAX=10ms")
	primary := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		upstreamtest.WriteJSON(w, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	})
	fallback := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.HasSuffix(r.URL.Path, ":streamGenerateContent") && strings.Contains(string(body), `"functionDeclarations"`) {
			upstreamtest.WriteSSE(w, geminiParallelTools()...)
			return
		}
		upstreamtest.WriteJSON(w, 400, `{"error":{"code":400,"message":"unexpected request","status":"INVALID_ARGUMENT"}}`)
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
			if n := len(primary.Requests()); n != 2*(i+1) {
				t.Errorf("the primary got %d requests, want %d (one retry per call)", n, 2*(i+1))
			}
			last := fallback.Last(t)
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

// An Anthropic primary that is down (503) with an OpenAI-compatible fallback works from every
// front door, streamed parallel tool calls included: the official OpenAI, Anthropic and Gen AI
// SDKs each get both calls intact.
func TestEveryDoorFallsBackFromAnthropicToOpenAI(t *testing.T) {
	g := startGateway(t, "AIGW_UPSTREAM_RETRY_BACKOFF_MAX=10ms")
	primary := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		upstreamtest.WriteJSON(w, 503, `{"type":"error","error":{"type":"overloaded_error","message":"down for maintenance"}}`)
	})
	fallback := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, body []byte) {
		if strings.Contains(string(body), `"tools"`) && strings.Contains(string(body), `"stream":true`) {
			upstreamtest.WriteSSE(w, openAIParallelTools("gpt-4o")...)
			return
		}
		upstreamtest.WriteJSON(w, 400, `{"error":{"message":"unexpected request","type":"invalid_request_error","param":null,"code":null}}`)
	})
	g.secret("openai-fallback-secret-0123456789")
	key, _ := g.newClient(client{"backend": "anthropic", "base_url": primary.URL, "upstream_key": upstreamSecret,
		"default_model": "claude-sonnet-4-5", "fallbacks": []map[string]any{{"backend": "openai-compatible",
			"base_url": fallback.URL + "/v1", "upstream_key": "openai-fallback-secret-0123456789", "model": "gpt-4o"}}})
	checkFallback := func(t *testing.T) {
		t.Helper()
		r := fallback.Last(t)
		if got := decode(t, r.Body); got["model"] != "gpt-4o" || r.Header.Get("Authorization") != "Bearer openai-fallback-secret-0123456789" {
			t.Errorf("fallback got model %v with %q: want its own model and key", got["model"], r.Header.Get("Authorization"))
		}
	}

	t.Run("openai-go", func(t *testing.T) {
		acc := streamTools(t, openaiSDK(g.at(t), key), "claude-sonnet-4-5",
			[]openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris and time in Rome?")})
		wantTools(t, acc.Choices[0].Message.ToolCalls)
		checkFallback(t)
	})
	for _, sdk := range anthropicSDKs(g, key) {
		t.Run(sdk.name(), func(t *testing.T) {
			c := sdk.conversation(convoOptions{model: "claude-sonnet-4-5", maxTokens: 1024, tools: weatherTimeTools})
			c.user("Weather in Paris and time in Rome?", "")
			a, err := c.send(true)
			if err != nil {
				t.Fatal(err)
			}
			if a.stopReason != "tool_use" || len(a.tools) != 2 || a.tools[0].name != "get_weather" ||
				!jsonEqual(jsonValue(a.tools[0].input), jsonValue(`{"city":"Paris"}`)) || a.tools[1].name != "get_time" ||
				!jsonEqual(jsonValue(a.tools[1].input), jsonValue(`{"tz":"Europe/Rome"}`)) {
				t.Fatalf("answer %+v", a)
			}
			checkFallback(t)
		})
	}
	t.Run("genai", func(t *testing.T) {
		c := genaiSDK(t, g.at(t), key)
		var calls []*genai.FunctionCall
		for resp, err := range c.Models.GenerateContentStream(context.Background(), "claude-sonnet-4-5",
			genai.Text("Weather in Paris and time in Rome?"), &genai.GenerateContentConfig{Tools: genaiTools}) {
			if err != nil {
				t.Fatal(err)
			}
			calls = append(calls, resp.FunctionCalls()...)
		}
		if len(calls) != 2 || calls[0].Name != "get_weather" || calls[0].Args["city"] != "Paris" ||
			calls[1].Name != "get_time" || calls[1].Args["tz"] != "Europe/Rome" {
			t.Fatalf("function calls %s", jsonString(calls))
		}
		checkFallback(t)
	})
	// Two attempts on the primary per request (one retry) until the fifth failed attempt opens
	// its breaker (upstream.breaker.failures 5): the last requests skip it without a call.
	if n := len(primary.Requests()); n != 5 {
		t.Errorf("the primary got %d requests, want 5", n)
	}
}
