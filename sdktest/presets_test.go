package sdktest

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// TestOpenAICompatiblePresets: one case per preset through the whole gateway — the URL, the
// auth header and the vendor's documented quirks as the mock upstream upstreamtest.Request them, and the
// answer as the client got it.
func TestOpenAICompatiblePresets(t *testing.T) {
	g := startGateway(t)
	mistralID := regexp.MustCompile(`^[a-zA-Z0-9]{9}$`)
	history := `{"role":"user","content":"Weather in Paris?"},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"call_abc123def456","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_abc123def456","content":"sunny"},` +
		`{"role":"user","content":"Thanks. And Rome?"}`

	tests := []struct {
		name    string
		backend string
		// base is appended to the mock's URL to make the client's base_url.
		base  string
		extra client
		body  string
		// reply answers instead of the default completion (nil = chatCompletion).
		reply func(w http.ResponseWriter, got map[string]any)
		// path, query and headers are what the upstream must receive ("" header = absent).
		path    string
		query   string
		headers map[string]string
		check   func(t *testing.T, got map[string]any)
		status  int
		answer  func(t *testing.T, out string)
	}{
		{
			name: "openai: reasoning model gets max_completion_tokens, top_k dropped", backend: "openai", base: "/v1",
			body: `{"model":"o3-mini","max_tokens":100,"top_k":5,"messages":[{"role":"user","content":"hi"}]}`,
			path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
			check: func(t *testing.T, got map[string]any) {
				noKeys(t, got, "max_tokens", "top_k")
				if got["max_completion_tokens"] != float64(100) {
					t.Errorf("max_completion_tokens %v", got["max_completion_tokens"])
				}
			},
		},
		{
			name: "mistral: 9-character tool-call ids, bridge after a tool result, random_seed", backend: "mistral", base: "/v1",
			body: `{"model":"mistral-large-latest","seed":7,"stream_options":{"include_usage":true},"messages":[` + history + `]}`,
			reply: func(w http.ResponseWriter, got map[string]any) {
				// The answer refers to the id the upstream was sent for the earlier call, and to a
				// new one of its own.
				up := at(got, "messages", 1, "tool_calls", 0, "id").(string)
				upstreamtest.WriteJSON(w, 200, `{"id":"x","object":"chat.completion","created":1,"model":"mistral-large-latest","choices":[{"index":0,`+
					`"message":{"role":"assistant","content":null,"tool_calls":[`+
					`{"id":"`+up+`","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},`+
					`{"id":"Ab3De6Gh9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},`+
					`"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":10,"total_tokens":30}}`)
			},
			path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
			check: func(t *testing.T, got map[string]any) {
				id, _ := at(got, "messages", 1, "tool_calls", 0, "id").(string)
				if !mistralID.MatchString(id) || at(got, "messages", 2, "tool_call_id") != id {
					t.Errorf("tool-call ids sent to Mistral: %v / %v", id, at(got, "messages", 2, "tool_call_id"))
				}
				roles := []any{}
				for _, m := range got["messages"].([]any) {
					roles = append(roles, at(m, "role"))
				}
				if !jsonEqual(roles, []any{"user", "assistant", "tool", "assistant", "user"}) {
					t.Errorf("roles %v: want a bridging assistant turn between tool and user", roles)
				}
				noKeys(t, got, "seed", "stream_options")
				if got["random_seed"] != float64(7) {
					t.Errorf("random_seed %v", got["random_seed"])
				}
			},
			answer: func(t *testing.T, out string) {
				v := decode(t, []byte(out))
				if id := at(v, "choices", 0, "message", "tool_calls", 0, "id"); id != "call_abc123def456" {
					t.Errorf("the client's own id was not restored: %v", id)
				}
				if id := at(v, "choices", 0, "message", "tool_calls", 1, "id"); id != "Ab3De6Gh9" {
					t.Errorf("Mistral's new id changed: %v", id)
				}
			},
		},
		{
			name: "mistral: its error envelope becomes OpenAI's", backend: "mistral", base: "/v1",
			body: `{"model":"mistral-large-latest","messages":[{"role":"user","content":"hi"}]}`,
			reply: func(w http.ResponseWriter, _ map[string]any) {
				upstreamtest.WriteJSON(w, 400, `{"object":"error","message":"Unexpected role 'user' after role 'tool'","type":"invalid_request_message_order","param":null,"code":"3230"}`)
			},
			path: "/v1/chat/completions", status: 400,
			answer: func(t *testing.T, out string) {
				e, _ := decode(t, []byte(out))["error"].(map[string]any)
				if e == nil || e["message"] != "Unexpected role 'user' after role 'tool'" || e["type"] != "invalid_request_message_order" {
					t.Errorf("error %s", out)
				}
			},
		},
		{
			name: "perplexity: no /v1, consecutive roles merged, tools dropped", backend: "perplexity",
			body: `{"model":"sonar","messages":[{"role":"system","content":"Title this."},{"role":"user","content":"first"},{"role":"user","content":"second"}],` +
				`"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto"}`,
			path: "/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
			check: func(t *testing.T, got map[string]any) {
				if !jsonEqual(got["messages"], []any{msg("system", "Title this."), msg("user", "first\n\nsecond")}) {
					t.Errorf("messages %v", got["messages"])
				}
				noKeys(t, got, "tools", "tool_choice")
			},
		},
		{
			name: "azure: deployment URL, api-version, api-key", backend: "azure",
			extra: client{"azure_api_version": "2025-01-01-preview"},
			body:  `{"model":"my-deploy","messages":[{"role":"user","content":"hi"}]}`,
			path:  "/openai/deployments/my-deploy/chat/completions", query: "api-version=2025-01-01-preview",
			headers: map[string]string{"api-key": upstreamSecret, "Authorization": ""},
		},
		{
			name: "azure: the v1 API takes no api-version", backend: "azure", base: "/openai/v1",
			extra: client{"azure_api_version": "2025-01-01-preview"},
			body:  `{"model":"my-deploy","messages":[{"role":"user","content":"hi"}]}`,
			path:  "/openai/v1/chat/completions", headers: map[string]string{"api-key": upstreamSecret, "Authorization": ""},
			check: func(t *testing.T, got map[string]any) {
				if got["model"] != "my-deploy" {
					t.Errorf("model %v", got["model"])
				}
			},
		},
		{
			name: "xai: a reasoning model loses the parameters it rejects", backend: "xai", base: "/v1",
			body: `{"model":"grok-4","presence_penalty":0.5,"frequency_penalty":0.5,"stop":["x"],"reasoning_effort":"high","max_tokens":200,` +
				`"messages":[{"role":"user","content":"hi"}]}`,
			path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
			check: func(t *testing.T, got map[string]any) {
				noKeys(t, got, "presence_penalty", "frequency_penalty", "stop", "reasoning_effort", "max_tokens")
				if got["max_completion_tokens"] != float64(200) {
					t.Errorf("max_completion_tokens %v", got["max_completion_tokens"])
				}
			},
		},
		{
			name: "cohere: the compatibility API's unsupported fields dropped", backend: "cohere", base: "/compatibility/v1",
			body: `{"model":"command-a-03-2025","store":true,"metadata":{"a":"b"},"logit_bias":{"1":1},"n":1,"parallel_tool_calls":true,` +
				`"max_completion_tokens":300,"temperature":0,"messages":[{"role":"user","content":"hi"}]}`,
			path: "/compatibility/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
			check: func(t *testing.T, got map[string]any) {
				noKeys(t, got, "store", "metadata", "logit_bias", "n", "parallel_tool_calls", "max_completion_tokens")
				if got["max_tokens"] != float64(300) || got["temperature"] != float64(0) {
					t.Errorf("max_tokens %v temperature %v", got["max_tokens"], got["temperature"])
				}
			},
		},
		{
			name: "ollama without an upstream key sends no auth", backend: "ollama", base: "/v1", extra: client{"upstream_key": ""},
			body: `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}`,
			path: "/v1/chat/completions", headers: map[string]string{"Authorization": ""},
		},
		{
			name: "lmstudio", backend: "lmstudio", base: "/v1",
			body: `{"model":"qwen3","messages":[{"role":"user","content":"hi"}]}`,
			path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
		},
		{
			name: "openai-compatible keeps everything", backend: "openai-compatible", base: "/v1",
			body: `{"model":"m","top_k":5,"seed":1,"messages":[{"role":"user","content":"hi"}]}`,
			path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + upstreamSecret},
			check: func(t *testing.T, got map[string]any) {
				if got["top_k"] != float64(5) || got["seed"] != float64(1) {
					t.Errorf("body %v", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				got := decode(t, body)
				if tt.reply != nil {
					tt.reply(w, got)
					return
				}
				upstreamtest.WriteJSON(w, 200, chatCompletion(got["model"].(string), "Hello"))
			})
			spec := client{"backend": tt.backend, "base_url": up.URL + tt.base, "upstream_key": upstreamSecret}
			for k, v := range tt.extra {
				spec[k] = v
			}
			key, _ := g.newClient(spec)
			resp, out := g.call("POST", "/v1/chat/completions", tt.body, "Authorization", "Bearer "+key)
			want := tt.status
			if want == 0 {
				want = 200
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, out)
			}
			got := up.Last(t)
			if got.Path != tt.path || got.Query != tt.query {
				t.Errorf("upstream URL %s?%s, want %s?%s", got.Path, got.Query, tt.path, tt.query)
			}
			for h, v := range tt.headers {
				if got.Header.Get(h) != v {
					t.Errorf("upstream header %s = %q, want %q", h, got.Header.Get(h), v)
				}
			}
			if tt.check != nil {
				tt.check(t, decode(t, got.Body))
			}
			if tt.answer != nil {
				tt.answer(t, out)
			} else if c := at(decode(t, []byte(out)), "choices", 0, "message", "content"); c != "Hello" {
				t.Errorf("answer %s", out)
			}
		})
	}
}

// noKeys fails for each of ks present in m.
func noKeys(t *testing.T, m map[string]any, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if _, ok := m[k]; ok {
			t.Errorf("%s was sent upstream: %v", k, m[k])
		}
	}
}
