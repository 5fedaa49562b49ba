package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     providers.Config
		wantErr string
	}{
		{"openai default URL", providers.Config{Backend: "openai"}, ""},
		{"unknown backend", providers.Config{Backend: "anthropic"}, `backend "anthropic" is not served by the OpenAI protocol`},
		{"azure needs its resource URL", providers.Config{Backend: "azure"}, "azure needs a base URL: the Azure resource URL"},
		{"openai-compatible needs a URL", providers.Config{Backend: "openai-compatible"}, "openai-compatible needs a base URL"},
		{"relative URL", providers.Config{Backend: "openai-compatible", BaseURL: "localhost:8000/v1"}, "is not an absolute http(s) URL"},
		{"ftp URL", providers.Config{Backend: "ollama", BaseURL: "ftp://x/v1"}, "is not an absolute http(s) URL"},
		{"query in URL", providers.Config{Backend: "azure", BaseURL: "https://r.openai.azure.com/?api-version=1"}, "must not carry a query"},
		{"credentials in URL", providers.Config{Backend: "openai-compatible", BaseURL: "https://u:p@h/v1"}, "must not carry a query or credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *providers.Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestBackendsAndDefaultURLs(t *testing.T) {
	want := []string{"openai", "mistral", "perplexity", "xai", "cohere", "azure", "ollama", "lmstudio", "openai-compatible"}
	if got := Backends(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Backends() = %v", got)
	}
	for id, url := range map[string]string{
		"openai": "https://api.openai.com/v1", "mistral": "https://api.mistral.ai/v1",
		"perplexity": "https://api.perplexity.ai", "xai": "https://api.x.ai/v1",
		"cohere": "https://api.cohere.ai/compatibility/v1", "azure": "", "ollama": "http://localhost:11434/v1",
		"lmstudio": "http://localhost:1234/v1", "openai-compatible": "", "gemini": "",
	} {
		if got := DefaultBaseURL(id); got != url {
			t.Errorf("DefaultBaseURL(%s) = %q, want %q", id, got, url)
		}
	}
}

// chatRequest is a canonical request with tool history, sampling knobs and an Extra field.
func chatRequest(model string) *providers.Request {
	return &providers.Request{
		Model: model,
		Messages: []providers.Message{
			{Role: "system", Content: []providers.Part{providers.TextPart("sys")}},
			{Role: "user", Content: []providers.Part{providers.TextPart("title please")}},
			{Role: "user", Content: []providers.Part{providers.TextPart("weather?")}},
			{Role: "assistant", ToolCalls: []providers.ToolCall{{ID: "toolu_01ABCdef", Name: "get_weather", Arguments: `{"c":"P"}`}}},
			{Role: "tool", ToolCallID: "toolu_01ABCdef", Content: []providers.Part{providers.TextPart("18C")}},
			{Role: "user", Content: []providers.Part{providers.TextPart("thanks")}},
		},
		Tools:             []providers.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ParallelToolCalls: ptr(true),
		MaxTokens:         256,
		Temperature:       ptr(0.0),
		TopK:              ptr(5),
		PresencePenalty:   ptr(0.5),
		FrequencyPenalty:  ptr(0.5),
		Seed:              ptr(int64(7)),
		N:                 2,
		Stop:              []string{"END"},
		ReasoningEffort:   "low",
		Extra:             map[string]json.RawMessage{"logit_bias": json.RawMessage(`{"1":2}`), "store": json.RawMessage(`true`)},
	}
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func roles(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, msg := range m["messages"].([]any) {
		out = append(out, msg.(map[string]any)["role"].(string))
	}
	return out
}

// TestPresetsChat runs the canonical path against every preset: where the request goes, how it
// authenticates, and which quirks change the body.
func TestPresetsChat(t *testing.T) {
	tests := []struct {
		backend, suffix, key, model string
		azureVersion                string
		path, query                 string
		auth                        map[string]string // header → value; "" means must be absent
		check                       func(t *testing.T, body map[string]any)
	}{
		{
			backend: "openai", suffix: "/v1", key: testKey, model: "gpt-4o",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey, "api-key": ""},
			check: func(t *testing.T, b map[string]any) {
				if b["max_tokens"] != 256.0 || has(b, "max_completion_tokens") || has(b, "top_k") {
					t.Errorf("gpt-4o: max_tokens kept, top_k dropped; got %v", b)
				}
				if b["temperature"] != 0.0 || b["logit_bias"] == nil || b["store"] != true || b["n"] != 2.0 {
					t.Errorf("OpenAI fields lost: %v", b)
				}
			},
		},
		{
			backend: "openai", suffix: "/v1", key: testKey, model: "o3-mini",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				if b["max_completion_tokens"] != 256.0 || has(b, "max_tokens") {
					t.Errorf("o3: want max_completion_tokens only, got %v", b)
				}
			},
		},
		{
			backend: "mistral", suffix: "/v1", key: testKey, model: "mistral-large-latest",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				msgs := b["messages"].([]any)
				call := msgs[3].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
				id := call["id"].(string)
				if id != mistralID("toolu_01ABCdef") || len(id) != 9 {
					t.Errorf("tool call id %q, want the 9-char %q", id, mistralID("toolu_01ABCdef"))
				}
				if got := msgs[4].(map[string]any)["tool_call_id"]; got != id {
					t.Errorf("tool result id %v does not match the call's %v", got, id)
				}
				if r := roles(t, b); !reflect.DeepEqual(r, []string{"system", "user", "user", "assistant", "tool", "assistant", "user"}) {
					t.Errorf("roles %v: want a bridging assistant between tool and user", r)
				}
				if b["random_seed"] != 7.0 || has(b, "seed") || has(b, "store") || has(b, "top_k") || b["max_tokens"] != 256.0 {
					t.Errorf("mistral body: %v", b)
				}
			},
		},
		{
			backend: "perplexity", suffix: "", key: testKey, model: "sonar",
			path: "/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				if has(b, "tools") || has(b, "parallel_tool_calls") {
					t.Errorf("perplexity: tools must be dropped: %v", b)
				}
				if r := roles(t, b); !reflect.DeepEqual(r, []string{"system", "user", "assistant", "tool", "user"}) {
					t.Errorf("roles %v: consecutive users must merge", r)
				}
				if got := b["messages"].([]any)[1].(map[string]any)["content"]; got != "title please\n\nweather?" {
					t.Errorf("merged content = %q", got)
				}
				if b["top_k"] != 5.0 {
					t.Errorf("perplexity takes top_k: %v", b)
				}
			},
		},
		{
			backend: "xai", suffix: "/v1", key: testKey, model: "grok-4-0709",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				for _, k := range []string{"presence_penalty", "frequency_penalty", "stop", "max_tokens", "reasoning_effort", "top_k"} {
					if has(b, k) {
						t.Errorf("grok-4 must not get %s: %v", k, b)
					}
				}
				if b["max_completion_tokens"] != 256.0 {
					t.Errorf("grok-4 wants max_completion_tokens: %v", b)
				}
			},
		},
		{
			backend: "xai", suffix: "/v1", key: testKey, model: "grok-3-mini",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				if has(b, "presence_penalty") || has(b, "stop") || b["reasoning_effort"] != "low" {
					t.Errorf("grok-3-mini: penalties and stop dropped, reasoning_effort kept: %v", b)
				}
			},
		},
		{
			backend: "xai", suffix: "/v1", key: testKey, model: "grok-2-1212",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				if b["presence_penalty"] != 0.5 || b["stop"] == nil || b["max_tokens"] != 256.0 {
					t.Errorf("non-reasoning grok keeps its knobs: %v", b)
				}
			},
		},
		{
			backend: "cohere", suffix: "/compatibility/v1", key: testKey, model: "command-a-03-2025",
			path: "/compatibility/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
			check: func(t *testing.T, b map[string]any) {
				for _, k := range []string{"parallel_tool_calls", "n", "logit_bias", "store", "top_k"} {
					if has(b, k) {
						t.Errorf("cohere must not get %s: %v", k, b)
					}
				}
				if b["reasoning_effort"] != "high" || b["max_tokens"] != 256.0 || b["temperature"] != 0.0 {
					t.Errorf("cohere body: %v", b)
				}
			},
		},
		{
			backend: "azure", suffix: "", key: testKey, model: "my-gpt4o",
			path: "/openai/deployments/my-gpt4o/chat/completions", query: "api-version=2024-10-21",
			auth: map[string]string{"api-key": testKey, "Authorization": ""},
		},
		{
			backend: "azure", suffix: "/openai/", key: testKey, model: "dep", azureVersion: "2025-01-01-preview",
			path: "/openai/deployments/dep/chat/completions", query: "api-version=2025-01-01-preview",
			auth: map[string]string{"api-key": testKey},
		},
		{
			backend: "azure", suffix: "/openai/v1", key: testKey, model: "dep",
			path: "/openai/v1/chat/completions", auth: map[string]string{"api-key": testKey},
			check: func(t *testing.T, b map[string]any) {
				if b["model"] != "dep" {
					t.Errorf("Azure v1 takes the deployment as model: %v", b)
				}
			},
		},
		{
			backend: "ollama", suffix: "/v1", key: "", model: "llama3.2",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "", "api-key": ""},
			check: func(t *testing.T, b map[string]any) {
				if b["top_k"] != 5.0 || b["seed"] != 7.0 {
					t.Errorf("ollama gets the request unchanged: %v", b)
				}
			},
		},
		{
			backend: "lmstudio", suffix: "/v1", key: "", model: "qwen",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": ""},
		},
		{
			backend: "openai-compatible", suffix: "/v1/", key: testKey, model: "vllm-model",
			path: "/v1/chat/completions", auth: map[string]string{"Authorization": "Bearer " + testKey},
		},
	}
	for _, tt := range tests {
		t.Run(tt.backend+"/"+tt.model, func(t *testing.T) {
			u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON))
			c, err := New(providers.Config{Backend: tt.backend, BaseURL: u.URL + tt.suffix, APIKey: tt.key,
				AzureAPIVersion: tt.azureVersion, HTTPClient: u.Client()})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Chat(context.Background(), chatRequest(tt.model))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Text() != "Hello" || resp.Usage.InputTokens != 9 || resp.Usage.CachedTokens != 1 {
				t.Fatalf("response = %+v", resp)
			}
			h := u.Last(t)
			if h.Method != http.MethodPost || h.Path != tt.path || h.Query != tt.query {
				t.Fatalf("request went to %s %s?%s, want POST %s?%s", h.Method, h.Path, h.Query, tt.path, tt.query)
			}
			for k, v := range tt.auth {
				if got := h.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if ct := h.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if strings.Contains(h.Path+h.Query, testKey) {
				t.Fatal("the key leaked into the URL")
			}
			b := h.JSON(t)
			if has(b, "thinking") || has(b, "stream") {
				t.Errorf("non-OpenAI Extra or stream leaked: %v", b)
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

// TestMistralToolIDRoundTrip: ids rewritten upstream come back as the client's own ids, and a
// second turn carrying the same history maps to the same upstream ids (no state needed).
func TestMistralToolIDRoundTrip(t *testing.T) {
	up := mistralID("call_abc_123_long")
	reply := `{"id":"m1","object":"chat.completion","model":"mistral-large","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"` + up + `","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"NEWid9999","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
	u := upstreamtest.New(t, upstreamtest.JSON(200, reply))
	c := newTestClient(t, u, "mistral", "/v1", testKey)
	req := &providers.Request{Model: "mistral-large", Messages: []providers.Message{
		{Role: "user", Content: []providers.Part{providers.TextPart("go")}},
		{Role: "assistant", ToolCalls: []providers.ToolCall{{ID: "call_abc_123_long", Name: "f", Arguments: "{}"}}},
		{Role: "tool", ToolCallID: "call_abc_123_long", Content: []providers.Part{providers.TextPart("done")}},
	}}
	var sent []string
	for turn := 0; turn < 2; turn++ {
		resp, err := c.Chat(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		calls := resp.Choices[0].Message.ToolCalls
		if calls[0].ID != "call_abc_123_long" || calls[1].ID != "NEWid9999" {
			t.Fatalf("ids back = %q, %q", calls[0].ID, calls[1].ID)
		}
		b := u.Last(t).JSON(t)
		sent = append(sent, b["messages"].([]any)[2].(map[string]any)["tool_call_id"].(string))
	}
	if sent[0] != up || sent[1] != up {
		t.Fatalf("upstream ids per turn = %v, want %q both times", sent, up)
	}
}

func TestStreamCanonical(t *testing.T) {
	t.Run("openai asks for usage and streams tool calls", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.SSE(strings.SplitAfter(parallelToolsSSE, "\n\n")...))
		c := newTestClient(t, u, "openai", "/v1", testKey)
		s, err := c.Stream(context.Background(), chatRequest("gpt-4o"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		evs, err := drain(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 8 || evs[0].Kind != providers.EventStart || evs[7].Usage.InputTokens != 9 {
			t.Fatalf("events = %+v", evs)
		}
		h := u.Last(t)
		b := h.JSON(t)
		if b["stream"] != true || !reflect.DeepEqual(b["stream_options"], map[string]any{"include_usage": true}) {
			t.Fatalf("stream request body: %v", b)
		}
		if h.Header.Get("Accept") != "text/event-stream" {
			t.Fatalf("Accept = %q", h.Header.Get("Accept"))
		}
	})
	t.Run("mistral: no stream_options, usage from the last chunk, ids mapped back", func(t *testing.T) {
		up := mistralID("toolu_01ABCdef")
		u := upstreamtest.New(t, upstreamtest.SSE(
			`data: {"id":"x","object":"chat.completion.chunk","model":"mistral-large","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n",
			`data: {"id":"x","object":"chat.completion.chunk","model":"mistral-large","choices":[{"index":0,"delta":{"tool_calls":[{"id":"`+up+`","function":{"name":"get_weather","arguments":"{}"},"index":0}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"total_tokens":30,"completion_tokens":10}}`+"\n\n",
			"data: [DONE]\n\n"))
		c := newTestClient(t, u, "mistral", "/v1", testKey)
		s, err := c.Stream(context.Background(), chatRequest("mistral-large"))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := drain(s)
		if err != nil {
			t.Fatal(err)
		}
		want := []providers.StreamEvent{
			{Kind: providers.EventStart, ID: "x", Model: "mistral-large"},
			{Kind: providers.EventToolCall, ToolID: "toolu_01ABCdef", ToolName: "get_weather", Args: "{}"},
			{Kind: providers.EventFinish, FinishReason: "tool_calls"},
			{Kind: providers.EventUsage, Usage: usage(20, 10)},
		}
		if !reflect.DeepEqual(evs, want) {
			t.Fatalf("got  %+v\nwant %+v", evs, want)
		}
		if b := u.Last(t).JSON(t); has(b, "stream_options") || b["stream"] != true {
			t.Fatalf("mistral stream body: %v", b)
		}
	})
	t.Run("error event first is returned by Stream itself (fallback still possible)", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.SSE(`data: {"error":{"message":"overloaded","type":"server_error","code":"529"}}`+"\n\n"))
		c := newTestClient(t, u, "openai", "/v1", testKey)
		_, err := c.Stream(context.Background(), chatRequest("gpt-4o"))
		var e *providers.Error
		if !errors.As(err, &e) || e.Message != "overloaded" || e.Provider != "openai" {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("a JSON answer to a stream request is replayed as a stream", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON))
		c := newTestClient(t, u, "ollama", "/v1", "")
		s, err := c.Stream(context.Background(), chatRequest("llama"))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := drain(s)
		if err != nil {
			t.Fatal(err)
		}
		want := []providers.StreamEvent{
			{Kind: providers.EventStart, ID: "chatcmpl-1", Model: "m-up"},
			{Kind: providers.EventText, Text: "Hello"},
			{Kind: providers.EventFinish, FinishReason: "stop"},
			{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 9, OutputTokens: 5, CachedTokens: 1}},
		}
		if !reflect.DeepEqual(evs, want) {
			t.Fatalf("got  %+v\nwant %+v", evs, want)
		}
	})
	t.Run("cancelling the context ends a stream that is waiting for data", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		u := upstreamtest.New(t, func(w http.ResponseWriter, r *http.Request, _ upstreamtest.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hel"}}]}`+"\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		c := newTestClient(t, u, "openai", "/v1", testKey)
		ctx, cancel := context.WithCancel(context.Background())
		s, err := c.Stream(ctx, chatRequest("gpt-4o"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i := 0; i < 2; i++ { // start + text
			if _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		_, err = s.Next()
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindCanceled {
			t.Fatalf("err = %#v, want KindCanceled", err)
		}
	})
}

// TestUpstreamErrors: every vendor's error envelope becomes a *providers.Error with the
// upstream's status, message, type and code, on both the canonical and the forwarding path.
func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name, backend, suffix string
		status                int
		body                  string
		headers               []string
		want                  providers.Error
	}{
		{
			name: "openai bad key, echoed key redacted", backend: "openai", suffix: "/v1", status: 401,
			body: `{"error":{"message":"Incorrect API key provided: ` + testKey + `.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			want: providers.Error{Kind: providers.KindAuth, HTTPStatus: 401, Message: "Incorrect API key provided: [redacted].",
				Type: "invalid_request_error", Code: "invalid_api_key"},
		},
		{
			name: "openai rate limit with Retry-After", backend: "openai", suffix: "/v1", status: 429,
			body:    `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			headers: []string{"Retry-After", "7"},
			want: providers.Error{Kind: providers.KindRateLimited, HTTPStatus: 429, Message: "Rate limit reached",
				Type: "requests", Code: "rate_limit_exceeded", RetryAfter: "7"},
		},
		{
			name: "retry-after-ms rounded up to seconds", backend: "openai-compatible", suffix: "/v1", status: 429,
			body: `{"error":{"message":"slow"}}`, headers: []string{"retry-after-ms", "1500"},
			want: providers.Error{Kind: providers.KindRateLimited, HTTPStatus: 429, Message: "slow", RetryAfter: "2"},
		},
		{
			name: "mistral envelope", backend: "mistral", suffix: "/v1", status: 400,
			body: `{"object":"error","message":"Unexpected role 'user' after role 'tool'","type":"invalid_request_message_order","param":null,"code":"3230"}`,
			want: providers.Error{Kind: providers.KindBadRequest, HTTPStatus: 400, Message: "Unexpected role 'user' after role 'tool'",
				Type: "invalid_request_message_order", Code: "3230"},
		},
		{
			name: "mistral validation detail", backend: "mistral", suffix: "/v1", status: 422,
			body: `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options","include_usage"],"msg":"Extra inputs are not permitted","input":true}]},"type":"invalid_request_error","param":null,"code":null}`,
			want: providers.Error{Kind: providers.KindBadRequest, HTTPStatus: 422,
				Message: "body.stream_options.include_usage: Extra inputs are not permitted", Type: "invalid_request_error"},
		},
		{
			name: "mistral detail inside a string (older API)", backend: "mistral", suffix: "/v1", status: 422,
			body: `{"object":"error","message":"{\"detail\":[{\"type\":\"extra_forbidden\",\"loc\":[\"body\",\"frequency_penalty\"],\"msg\":\"Extra inputs are not permitted\",\"input\":0.0}]}","type":"internal_error_proxy","param":null,"code":"1000"}`,
			want: providers.Error{Kind: providers.KindBadRequest, HTTPStatus: 422,
				Message: "body.frequency_penalty: Extra inputs are not permitted", Type: "internal_error_proxy", Code: "1000"},
		},
		{
			name: "perplexity numeric code", backend: "perplexity", suffix: "", status: 400,
			body: `{"error":{"message":"After the (optional) system message(s), user and assistant roles should be alternating.","type":"invalid_message","code":400}}`,
			want: providers.Error{Kind: providers.KindBadRequest, HTTPStatus: 400,
				Message: "After the (optional) system message(s), user and assistant roles should be alternating.", Type: "invalid_message", Code: "400"},
		},
		{
			name: "xai string error", backend: "xai", suffix: "/v1", status: 400,
			body: `{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***wA. You can obtain an API key from https://console.x.ai."}`,
			want: providers.Error{Kind: providers.KindBadRequest, HTTPStatus: 400,
				Message: "Incorrect API key provided: xa***wA. You can obtain an API key from https://console.x.ai.", Code: "Client specified an invalid argument"},
		},
		{
			name: "cohere message", backend: "cohere", suffix: "/compatibility/v1", status: 400,
			body: `{"id":"2c6c","message":"invalid request: model 'x' not found"}`,
			want: providers.Error{Kind: providers.KindBadRequest, HTTPStatus: 400, Message: "invalid request: model 'x' not found"},
		},
		{
			name: "azure deployment not found", backend: "azure", suffix: "", status: 404,
			body: `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}`,
			want: providers.Error{Kind: providers.KindNotFound, HTTPStatus: 404, Message: "The API deployment for this resource does not exist.",
				Code: "DeploymentNotFound"},
		},
		{
			name: "ollama model missing", backend: "ollama", suffix: "/v1", status: 404,
			body: `{"error":{"message":"model \"llama9\" not found, try pulling it first","type":"api_error","param":null,"code":null}}`,
			want: providers.Error{Kind: providers.KindNotFound, HTTPStatus: 404, Message: `model "llama9" not found, try pulling it first`, Type: "api_error"},
		},
		{
			name: "FastAPI detail", backend: "openai-compatible", suffix: "/v1", status: 404,
			body: `{"detail":"Not Found"}`,
			want: providers.Error{Kind: providers.KindNotFound, HTTPStatus: 404, Message: "Not Found"},
		},
		{
			name: "plain text 503", backend: "lmstudio", suffix: "/v1", status: 503,
			body: "model is loading", headers: []string{"Content-Type", "text/plain"},
			want: providers.Error{Kind: providers.KindUpstream, HTTPStatus: 503, Message: "upstream returned HTTP 503: model is loading"},
		},
		{
			name: "HTML 502 from a proxy", backend: "openai-compatible", suffix: "/v1", status: 502,
			body: "<html><body>Bad Gateway</body></html>", headers: []string{"Content-Type", "text/html"},
			want: providers.Error{Kind: providers.KindUpstream, HTTPStatus: 502, Message: "upstream returned HTTP 502"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := upstreamtest.New(t, upstreamtest.JSON(tt.status, tt.body, tt.headers...))
			c := newTestClient(t, u, tt.backend, tt.suffix, testKey)
			want := tt.want
			want.Provider = tt.backend
			check := func(path string, err error) {
				t.Helper()
				var e *providers.Error
				if !errors.As(err, &e) {
					t.Fatalf("%s: err = %v, want *providers.Error", path, err)
				}
				if *e != want {
					t.Fatalf("%s:\n got %+v\nwant %+v", path, *e, want)
				}
				if e.Status() != tt.status {
					t.Fatalf("%s: status %d, want the upstream's %d", path, e.Status(), tt.status)
				}
				if strings.Contains(e.Error(), testKey) {
					t.Fatalf("%s: key leaked in %q", path, e.Error())
				}
			}
			_, err := c.Chat(context.Background(), chatRequest("m"))
			check("Chat", err)
			_, err = c.Stream(context.Background(), chatRequest("m"))
			check("Stream", err)
			_, err = c.ForwardChat(context.Background(), []byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`), false)
			check("ForwardChat", err)
		})
	}
}

func TestUnreachableUpstream(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON))
	c := newTestClient(t, u, "openai", "/v1", testKey)
	u.Close()
	_, err := c.Chat(context.Background(), chatRequest("gpt-4o"))
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindUnavailable || e.Status() != http.StatusBadGateway {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(e.Message, testKey) {
		t.Fatal("key in error")
	}
}

func TestChatMalformedAnswer(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, `{"id":"x","choices":[`))
	c := newTestClient(t, u, "openai", "/v1", testKey)
	_, err := c.Chat(context.Background(), chatRequest("gpt-4o"))
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindUpstream || !strings.Contains(e.Message, "malformed") || e.Provider != "openai" {
		t.Fatalf("err = %#v", err)
	}
}

func TestHeaderTimeout(t *testing.T) {
	u := upstreamtest.New(t, func(w http.ResponseWriter, r *http.Request, _ upstreamtest.Request) {
		<-r.Context().Done() // never answers
	})
	c, err := New(providers.Config{Backend: "openai", BaseURL: u.URL + "/v1", APIKey: testKey,
		HTTPClient: u.Client(), HeaderTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), chatRequest("gpt-4o"))
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindTimeout || e.Status() != http.StatusGatewayTimeout {
		t.Fatalf("err = %#v, want a 504 KindTimeout", err)
	}
}

// An Azure deployment is the model id in the URL path: one that would move the path (".." and
// the like) is refused before anything is sent, on every operation that names a deployment.
func TestAzureDeploymentCannotMoveThePath(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON))
	c, err := New(providers.Config{Backend: "azure", BaseURL: u.URL, APIKey: testKey,
		AzureAPIVersion: "2024-10-21", HTTPClient: u.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"..", ".", "../chat/completions", "a/../../x", "..%2fx"} {
		if _, err := c.Chat(context.Background(), chatRequest(model)); providers.AsError(err).Kind != providers.KindBadRequest {
			t.Errorf("Chat(%q) = %v, want KindBadRequest", model, err)
		}
		body := []byte(`{"model":` + strconv.Quote(model) + `,"input":"a"}`)
		if resp, err := c.Do(context.Background(), "embeddings", body, false); err == nil {
			resp.Body.Close()
			t.Errorf("Forward(embeddings, model %q) sent a request", model)
		}
	}
	if got := u.Requests(); len(got) != 0 {
		t.Errorf("upstream received %d requests, first to %s", len(got), got[0].Path)
	}
}
