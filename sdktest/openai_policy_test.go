package sdktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// chatCompletion is a complete upstream Chat Completions answer.
func chatCompletion(model, content string) string {
	return `{"id":"chatcmpl-up","object":"chat.completion","created":1700000000,"model":"` + model +
		`","choices":[{"index":0,"message":{"role":"assistant","content":"` + content +
		`","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`
}

// chatStream is a whole upstream stream: role chunk, the content pieces, the finish chunk, the
// usage-only chunk and [DONE].
func chatStream(model string, pieces ...string) []string {
	head := `{"id":"chatcmpl-up","object":"chat.completion.chunk","created":1700000000,"model":"` + model + `",`
	evs := []string{data(head + `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}`)}
	for _, p := range pieces {
		evs = append(evs, data(head+`"choices":[{"index":0,"delta":{"content":"`+p+`"},"logprobs":null,"finish_reason":null}],"usage":null}`))
	}
	return append(evs,
		data(head+`"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`),
		data(head+`"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`),
		"data: [DONE]\n\n")
}

// openAIUpstream answers Chat Completions like OpenAI: a stream when asked, else one answer.
func openAIUpstream(t *testing.T) *upstreamtest.Server {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		json.Unmarshal(body, &req)
		switch {
		case r.URL.Path == "/v1/models":
			upstreamtest.WriteJSON(w, 200, `{"object":"list","data":[{"id":"up-b","object":"model","created":1,"owned_by":"x"},{"id":"up-a","object":"model","created":1,"owned_by":"x"}]}`)
		case req.Stream:
			upstreamtest.WriteSSE(w, chatStream(req.Model, "Hel", "lo")...)
		default:
			upstreamtest.WriteJSON(w, 200, chatCompletion(req.Model, "Hello"))
		}
	})
}

const upstreamSecret = "sk-upstream-SECRET-4f1d"

// openAIClient is a client on an OpenAI-compatible mock upstream.
func openAIClient(up *upstreamtest.Server, extra client) client {
	c := client{"backend": "openai-compatible", "base_url": up.URL + "/v1", "upstream_key": upstreamSecret,
		"default_model": "gpt-default"}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// TestClientKeyForms: the key is taken from every header an SDK puts it in (SPEC §4); a missing,
// unknown or disabled key is a 401 in the front door's own error shape, and the upstream sees
// only its own key.
func TestClientKeyForms(t *testing.T) {
	g := startGateway(t)
	up := openAIUpstream(t)
	key, id := g.newClient(openAIClient(up, nil))
	body := `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`

	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"Authorization Bearer", "/v1/chat/completions", []string{"Authorization", "Bearer " + key}},
		{"lower-case bearer", "/v1/chat/completions", []string{"Authorization", "bearer " + key}},
		{"x-api-key", "/v1/chat/completions", []string{"x-api-key", key}},
		{"x-goog-api-key", "/v1/chat/completions", []string{"x-goog-api-key", key}},
		{"?key=", "/v1/chat/completions?key=" + url.QueryEscape(key), nil},
		{"api-key", "/v1/chat/completions", []string{"api-key", key}},
		{"without /v1", "/chat/completions", []string{"Authorization", "Bearer " + key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			n := len(up.Requests())
			resp, out := g.call("POST", tt.path, body, tt.headers...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			if got := at(decode(t, []byte(out)), "choices", 0, "message", "content"); got != "Hello" {
				t.Errorf("content %v in %s", got, out)
			}
			reqs := up.Requests()
			if len(reqs) != n+1 {
				t.Fatalf("upstream got %d requests, want 1", len(reqs)-n)
			}
			got := reqs[n]
			if a := got.Header.Get("Authorization"); a != "Bearer "+upstreamSecret {
				t.Errorf("upstream Authorization %q, want the upstream key", a)
			}
			for _, h := range []string{"x-api-key", "x-goog-api-key", "api-key"} {
				if got.Header.Get(h) != "" {
					t.Errorf("client header %s reached the upstream", h)
				}
			}
			if strings.Contains(got.Query, key) || strings.Contains(string(got.Body), key) {
				t.Error("the client key reached the upstream")
			}
		})
	}

	refusals := []struct {
		name    string
		path    string
		headers []string
		// shape picks the error body's expected form: the front door's protocol.
		shape string
	}{
		{"no key", "/v1/chat/completions", nil, "openai"},
		{"unknown key", "/v1/chat/completions", []string{"Authorization", "Bearer gm_not-a-key"}, "openai"},
		{"Bearer without key", "/v1/chat/completions", []string{"Authorization", "Bearer "}, "openai"},
		{"unknown key, Anthropic door", "/v1/messages", []string{"x-api-key", "sk-ant-nope"}, "anthropic"},
		{"unknown key, Gemini door", "/v1beta/models/g:generateContent", []string{"x-goog-api-key", "nope"}, "gemini"},
		{"unknown key, models", "/v1/models", []string{"Authorization", "Bearer nope"}, "openai"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			method := "POST"
			if tt.path == "/v1/models" {
				method = "GET"
			}
			resp, out := g.call(method, tt.path, body, tt.headers...)
			checkUnauthorized(t, resp, out, tt.shape)
		})
	}

	t.Run("disabled key", func(t *testing.T) {
		g := g.at(t)
		g.updateClient(id, client{"active": false})
		n := len(up.Requests())
		for _, tt := range tests[:1] {
			resp, out := g.call("POST", tt.path, body, tt.headers...)
			checkUnauthorized(t, resp, out, "openai")
		}
		resp, out := g.call("POST", "/v1/messages", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", key)
		checkUnauthorized(t, resp, out, "anthropic")
		if len(up.Requests()) != n {
			t.Error("a disabled key reached the upstream")
		}
		g.updateClient(id, client{"active": true})
		if resp, out := g.call("POST", tests[0].path, body, tests[0].headers...); resp.StatusCode != 200 {
			t.Errorf("re-enabled key: %d %s", resp.StatusCode, out)
		}
	})
}

func checkUnauthorized(t *testing.T, resp *http.Response, out, shape string) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %s", resp.StatusCode, out)
	}
	v := decode(t, []byte(out))
	switch shape {
	case "openai":
		e, _ := v["error"].(map[string]any)
		if e == nil || e["message"] == "" || e["type"] != "authentication_error" {
			t.Errorf("not an OpenAI authentication error: %s", out)
		}
		for _, k := range []string{"message", "type", "param", "code"} {
			if _, ok := e[k]; !ok {
				t.Errorf("OpenAI error lacks %q: %s", k, out)
			}
		}
	case "anthropic":
		if v["type"] != "error" || at(v, "error", "type") != "authentication_error" || at(v, "error", "message") == nil {
			t.Errorf("not an Anthropic authentication error: %s", out)
		}
	case "gemini":
		if at(v, "error", "code") != float64(401) || at(v, "error", "status") != "UNAUTHENTICATED" {
			t.Errorf("not a Gemini error: %s", out)
		}
	}
}

// TestOpenAIPolicy: the per-client policy of SPEC §6 as the upstream sees it on the
// same-protocol path.
func TestOpenAIPolicy(t *testing.T) {
	g := startGateway(t)
	up := openAIUpstream(t)
	key, _ := g.newClient(openAIClient(up, client{
		"model_whitelist": []string{"gpt-default", "gpt-allowed"},
		"system_prompt":   "Answer in French.",
		"quota":           client{"max_output_tokens": 300},
	}))

	tests := []struct {
		name string
		body string
		// status is the expected answer; 200 means the upstream was called.
		status int
		code   string
		// model, messages and maxTokens are what the upstream must receive.
		model     string
		messages  []any
		maxTokens any
	}{
		{
			name:   "default model when none is sent",
			body:   `{"messages":[{"role":"user","content":"hi"}]}`,
			status: 200, model: "gpt-default",
			messages:  []any{msg("system", "Answer in French."), msg("user", "hi")},
			maxTokens: float64(300),
		},
		{
			name:   "whitelisted model",
			body:   `{"model":"gpt-allowed","messages":[{"role":"user","content":"hi"}],"max_tokens":50}`,
			status: 200, model: "gpt-allowed",
			messages:  []any{msg("system", "Answer in French."), msg("user", "hi")},
			maxTokens: float64(50),
		},
		{
			name: "client system messages kept after the injected prompt",
			body: `{"model":"gpt-allowed","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"},` +
				`{"role":"developer","content":"No emojis."}],"max_tokens":100000}`,
			status: 200, model: "gpt-allowed",
			messages: []any{msg("system", "Answer in French."), msg("system", "Be brief."), msg("user", "hi"),
				msg("developer", "No emojis.")},
			maxTokens: float64(300),
		},
		{
			name:   "model outside the whitelist",
			body:   `{"model":"gpt-forbidden","messages":[{"role":"user","content":"hi"}]}`,
			status: 403, code: "model_not_allowed",
		},
		{
			name:   "invalid JSON",
			body:   `{"model":"gpt-allowed","messages":[`,
			status: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			n := len(up.Requests())
			resp, out := g.call("POST", "/v1/chat/completions", tt.body, "Authorization", "Bearer "+key)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, out)
			}
			if tt.status != 200 {
				if len(up.Requests()) != n {
					t.Error("a refused request reached the upstream")
				}
				e, _ := decode(t, []byte(out))["error"].(map[string]any)
				if e == nil || e["message"] == "" {
					t.Fatalf("no OpenAI error: %s", out)
				}
				if tt.code != "" && e["code"] != tt.code {
					t.Errorf("code %v, want %s", e["code"], tt.code)
				}
				return
			}
			got := decode(t, up.Last(t).Body)
			if got["model"] != tt.model {
				t.Errorf("upstream model %v, want %s", got["model"], tt.model)
			}
			if !jsonEqual(got["messages"], tt.messages) {
				b, _ := json.Marshal(got["messages"])
				t.Errorf("upstream messages %s", b)
			}
			if got["max_tokens"] != tt.maxTokens {
				t.Errorf("upstream max_tokens %v, want %v", got["max_tokens"], tt.maxTokens)
			}
			if resp.Header.Get("x-ratelimit-limit-requests") == "" || resp.Header.Get("x-ratelimit-remaining-requests") == "" {
				t.Errorf("no x-ratelimit headers: %v", resp.Header)
			}
		})
	}
}

func msg(role, content string) any { return map[string]any{"role": role, "content": content} }

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// keys returns the sorted keys of a JSON object.
func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
