package openai

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// relay reads a forwarded stream to its end, copying each payload.
func relay(t *testing.T, f *Forwarded) ([]string, error) {
	t.Helper()
	var out []string
	for {
		data, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(data))
	}
}

// payloads are the data lines of an SSE text, without [DONE].
func payloads(sse string) []string {
	var out []string
	for _, line := range strings.Split(sse, "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok && d != "[DONE]" {
			out = append(out, d)
		}
	}
	return out
}

func TestForwardChatNonStream(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON, "X-Request-Id", "up-1"))
	c := newTestClient(t, u, "openai", "/v1", testKey)
	body, err := RewriteRequest([]byte(opencodeBody), Rewrite{Model: "gpt-4o", SystemPrompt: "GW", MaxTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.ForwardChat(context.Background(), body, true)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The upstream got exactly what the policy produced: nothing else was re-encoded.
	if got := u.Last(t).Body; string(got) != string(body) {
		t.Fatalf("upstream received\n%s\nwant\n%s", got, body)
	}

	f, err = c.ForwardChat(context.Background(), []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if f.Stream || string(f.Body) != completionJSON {
		t.Fatalf("body not relayed verbatim: %s", f.Body)
	}
	if f.Usage != (providers.Usage{InputTokens: 9, OutputTokens: 5, CachedTokens: 1}) || !f.HasUsage ||
		f.FinishReason != "stop" || f.Model != "m-up" || f.Header.Get("X-Request-Id") != "up-1" || f.Status != 200 {
		t.Fatalf("forwarded = %+v", f)
	}
}

func TestForwardChatNonStreamErrorIn200(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, `{"error":{"message":"context too long","type":"invalid_request_error","code":"context_length_exceeded"}}`))
	c := newTestClient(t, u, "openai-compatible", "/v1", "")
	_, err := c.ForwardChat(context.Background(), []byte(`{"model":"m","messages":[]}`), false)
	var e *providers.Error
	if !errors.As(err, &e) || e.Message != "context too long" || e.Code != "context_length_exceeded" || e.Status() != 502 {
		t.Fatalf("err = %#v", err)
	}
	u2 := upstreamtest.New(t, upstreamtest.JSON(200, `not json`))
	c2 := newTestClient(t, u2, "openai-compatible", "/v1", "")
	_, err = c2.ForwardChat(context.Background(), []byte(`{"model":"m","messages":[]}`), false)
	if !errors.As(err, &e) || !strings.Contains(e.Message, "malformed") {
		t.Fatalf("err = %#v", err)
	}
}

func TestForwardChatStream(t *testing.T) {
	events := strings.SplitAfter(parallelToolsSSE, "\n\n")
	all := payloads(parallelToolsSSE)
	usageChunk := all[len(all)-1]
	tests := []struct {
		name    string
		drop    bool
		want    []string
		backend string
	}{
		{"client asked for usage: every chunk relayed verbatim", false, all, "openai"},
		{"client did not ask: usage-only chunk dropped, usage still recorded", true, all[:len(all)-1], "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := upstreamtest.New(t, upstreamtest.SSE(events...))
			c := newTestClient(t, u, tt.backend, "/v1", testKey)
			f, err := c.ForwardChat(context.Background(), []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"x"}]}`), true)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.DropUsageChunk = tt.drop
			got, err := relay(t, f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("relayed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !f.HasUsage || f.Usage != (providers.Usage{InputTokens: 9, OutputTokens: 5, CachedTokens: 2}) ||
				f.FinishReason != "tool_calls" || f.Model != "gpt-4o" {
				t.Fatalf("forwarded = %+v", f)
			}
			if tt.drop && strings.Contains(strings.Join(got, ""), usageChunk) {
				t.Fatal("usage chunk relayed")
			}
			if h := u.Last(t); h.Header.Get("Accept") != "text/event-stream" {
				t.Fatalf("Accept = %q", h.Header.Get("Accept"))
			}
		})
	}
}

// forwardStream forwards a streamed request to an upstream that answers with events; the
// stream is closed when the test ends.
func forwardStream(t *testing.T, events ...string) *Forwarded {
	t.Helper()
	u := upstreamtest.New(t, upstreamtest.SSE(events...))
	c := newTestClient(t, u, "openai", "/v1", testKey)
	f, err := c.ForwardChat(context.Background(), []byte(`{"model":"m","stream":true,"messages":[]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestForwardChatStreamFailures(t *testing.T) {
	first := `data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}` + "\n\n"
	tests := []struct {
		name     string
		events   []string
		relayed  int
		wantMsg  string
		wantCode string
	}{
		{"mid-stream error", []string{first, `data: {"error":{"message":"upstream exploded","type":"server_error","param":null,"code":"x1"}}` + "\n\n"},
			1, "upstream exploded", "x1"},
		{"mistral error object mid-stream", []string{first, `data: {"object":"error","message":"Service unavailable.","type":"internal_error","param":null,"code":"1000"}` + "\n\n"},
			1, "Service unavailable.", "1000"},
		{"malformed data", []string{first, "data: {\"id\":\"c\",\"choices\":[\n\n"}, 1, "malformed stream data", ""},
		{"empty stream", []string{": keepalive\n\n"}, 0, "without sending an answer", ""},
		{"only [DONE]", []string{"data: [DONE]\n\n"}, 0, "without sending an answer", ""},
		{"cut off: no finish_reason, no [DONE]", []string{first, first}, 2, "before the answer was complete", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := forwardStream(t, tt.events...)
			got, err := relay(t, f)
			var e *providers.Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, tt.wantMsg) || e.Code != tt.wantCode || e.Provider != "openai" {
				t.Fatalf("err = %#v", err)
			}
			if len(got) != tt.relayed {
				t.Fatalf("relayed %d events before the error, want %d", len(got), tt.relayed)
			}
			if _, again := f.Next(); again != err {
				t.Fatalf("Next after the error = %v", again)
			}
		})
	}
}

// TestForwardChatStreamFinishedWithoutDone: some OpenAI-compatible servers end a finished
// stream without [DONE]; a finish_reason is enough to call it complete.
func TestForwardChatStreamFinishedWithoutDone(t *testing.T) {
	events := []string{
		`data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}` + "\n\n",
		`data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n",
	}
	f := forwardStream(t, events...)
	got, err := relay(t, f)
	if err != nil || len(got) != 2 || f.FinishReason != "stop" {
		t.Fatalf("relayed %d events, finish %q, err %v; want 2, stop, a clean end", len(got), f.FinishReason, err)
	}
}

func TestForwardChatStreamKeepsContentMentioningKeys(t *testing.T) {
	// Content that talks about "usage", "error" and "finish_reason" is relayed as text, not sniffed.
	chunk := `{"id":"c","choices":[{"index":0,"delta":{"content":"the \"error\": field and \"usage\": {} and \"finish_reason\": \"x\""},"finish_reason":null}]}`
	u := upstreamtest.New(t, upstreamtest.SSE("data: "+chunk+"\n\n", "data: [DONE]\n\n"))
	c := newTestClient(t, u, "openai", "/v1", testKey)
	f, err := c.ForwardChat(context.Background(), []byte(`{"model":"m","stream":true,"messages":[]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := relay(t, f)
	if err != nil || len(got) != 1 || got[0] != chunk || f.HasUsage || f.FinishReason != "" {
		t.Fatalf("got %q, %v, forwarded %+v", got, err, f)
	}
}

func TestForwardChatMistral(t *testing.T) {
	clientID := "call_Z8k2_client_side"
	up := mistralID(clientID)
	u := upstreamtest.New(t, upstreamtest.SSE(
		`data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"mistral-small","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n",
		`data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"mistral-small","choices":[{"index":0,"delta":{"tool_calls":[{"id":"`+up+`","type":"function","function":{"name":"f","arguments":"{}"},"index":0}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"total_tokens":8,"completion_tokens":3}}`+"\n\n",
		"data: [DONE]\n\n"))
	c := newTestClient(t, u, "mistral", "/v1", testKey)
	body := `{"model":"mistral-small","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":50,"x_keep":1,` +
		`"messages":[{"role":"assistant","content":"","tool_calls":[{"id":"` + clientID + `","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"` + clientID + `","content":"r"},{"role":"user","content":"next"}]}`
	f, err := c.ForwardChat(context.Background(), []byte(body), true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := relay(t, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.Contains(got[1], `"id":"`+clientID+`"`) || strings.Contains(got[1], up) {
		t.Fatalf("ids not mapped back: %q", got)
	}
	if !f.HasUsage || f.Usage.InputTokens != 5 || f.Usage.OutputTokens != 3 || f.FinishReason != "tool_calls" {
		t.Fatalf("forwarded = %+v", f)
	}
	sent := string(u.Last(t).Body)
	want := `{"model":"mistral-small","stream":true,"max_tokens":50,"x_keep":1,` +
		`"messages":[{"role":"assistant","content":"","tool_calls":[{"id":"` + up + `","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"` + up + `","content":"r"},` + mistralBridge + `,{"role":"user","content":"next"}]}`
	if sent != want {
		t.Fatalf("upstream received\n%s\nwant\n%s", sent, want)
	}
}

func TestForwardChatPerplexity(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON))
	c := newTestClient(t, u, "perplexity", "", testKey)
	body := `{"model":"sonar","messages":[{"role":"system","content":"s"},{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"}]}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto","search_recency_filter":"week","temperature":0}`
	if _, err := c.ForwardChat(context.Background(), []byte(body), false); err != nil {
		t.Fatal(err)
	}
	want := `{"model":"sonar","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"search_recency_filter":"week","temperature":0}`
	if got := string(u.Last(t).Body); got != want {
		t.Fatalf("upstream received\n%s\nwant\n%s", got, want)
	}
}

func TestForwardChatCohereAndXAI(t *testing.T) {
	tests := []struct{ backend, suffix, body, want string }{
		{"cohere", "/compatibility/v1",
			`{"model":"command-a","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},"n":1,"logprobs":true,"top_logprobs":2,"service_tier":"auto","store":false,"metadata":{"a":"b"},"parallel_tool_calls":true,"logit_bias":{},"max_completion_tokens":9,"reasoning_effort":"medium","messages":[]}`,
			`{"model":"command-a","stream":true,"stream_options":{"include_usage":true},"max_tokens":9,"reasoning_effort":"high","messages":[]}`},
		{"xai", "/v1",
			`{"model":"grok-4-fast-reasoning","stream":true,"presence_penalty":1,"frequency_penalty":1,"stop":["x"],"max_tokens":9,"reasoning_effort":"low","messages":[]}`,
			`{"model":"grok-4-fast-reasoning","stream":true,"max_completion_tokens":9,"messages":[]}`},
		{"xai", "/v1",
			`{"model":"grok-2","stream":true,"presence_penalty":1,"stop":["x"],"max_tokens":9,"messages":[]}`,
			`{"model":"grok-2","stream":true,"presence_penalty":1,"stop":["x"],"max_tokens":9,"messages":[]}`},
		{"openai", "/v1",
			`{"model":"o4-mini","stream":true,"max_tokens":9,"top_k":3,"messages":[]}`,
			`{"model":"o4-mini","stream":true,"max_completion_tokens":9,"messages":[]}`},
		{"azure", "",
			`{"model":"gpt-5-mini","stream":true,"max_tokens":9,"messages":[]}`,
			`{"model":"gpt-5-mini","stream":true,"max_completion_tokens":9,"messages":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.backend+" "+tt.want[:30], func(t *testing.T) {
			u := upstreamtest.New(t, upstreamtest.SSE(`data: {"id":"c","choices":[{"index":0,"delta":{"content":"k"},"finish_reason":"stop"}]}`+"\n\n"))
			c := newTestClient(t, u, tt.backend, tt.suffix, testKey)
			f, err := c.ForwardChat(context.Background(), []byte(tt.body), true)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if got := string(u.Last(t).Body); got != tt.want {
				t.Fatalf("upstream received\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestForwardChatJSONAnswerToStream(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, completionJSON))
	c := newTestClient(t, u, "lmstudio", "/v1", "")
	f, err := c.ForwardChat(context.Background(), []byte(`{"model":"m","stream":true,"messages":[]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := relay(t, f)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, `"content":"Hello"`) || !strings.Contains(joined, `"finish_reason":"stop"`) ||
		!f.HasUsage || f.Usage.InputTokens != 9 {
		t.Fatalf("relayed %s, forwarded %+v", joined, f)
	}
}

func TestForwardRaw(t *testing.T) {
	u := upstreamtest.New(t, upstreamtest.JSON(200, `{"object":"list","data":[]}`))
	c := newTestClient(t, u, "openai", "/v1", testKey)
	resp, err := c.Do(context.Background(), "embeddings", []byte(`{"model":"e","input":"x"}`), false)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := u.Last(t); h.Method != http.MethodPost || h.Path != "/v1/embeddings" || h.Header.Get("Authorization") != "Bearer "+testKey {
		t.Fatalf("hit = %+v", h)
	}
	// Any status is a response, not an error.
	u.Handle(upstreamtest.JSON(500, `{"error":{"message":"x"}}`))
	resp, err = c.Do(context.Background(), "models", nil, false)
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	resp.Body.Close()
	if h := u.Last(t); h.Method != http.MethodGet || h.Path != "/v1/models" {
		t.Fatalf("hit = %+v", h)
	}
	// Azure needs the deployment from the body.
	az := newTestClient(t, u, "azure", "", testKey)
	if _, err := az.Do(context.Background(), "chat/completions", []byte(`{"messages":[]}`), false); err == nil ||
		!strings.Contains(err.Error(), "deployment") {
		t.Fatalf("azure without model: %v", err)
	}
}

func TestModels(t *testing.T) {
	tests := []struct {
		name, backend, suffix string
		reply                 string
		wantPath, wantQuery   string
		want                  []providers.Model
	}{
		{"openai", "openai", "/v1",
			`{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1700000000,"owned_by":"openai"},{"id":"o3","object":"model","created":1,"owned_by":"system"}]}`,
			"/v1/models", "",
			[]providers.Model{{ID: "gpt-4o", Created: 1700000000, OwnedBy: "openai"}, {ID: "o3", Created: 1, OwnedBy: "system"}}},
		{"ollama", "ollama", "/v1", `{"object":"list","data":[{"id":"llama3.2:latest","object":"model","created":1,"owned_by":"library"}]}`,
			"/v1/models", "", []providers.Model{{ID: "llama3.2:latest", Created: 1, OwnedBy: "library"}}},
		{"azure", "azure", "", `{"data":[{"id":"gpt-4o","object":"model","created_at":1}]}`,
			"/openai/models", "api-version=2024-10-21", []providers.Model{{ID: "gpt-4o"}}},
		{"cohere uses its native list", "cohere", "/compatibility/v1",
			`{"models":[{"name":"command-a-03-2025","endpoints":["generate","chat","summarize"]},{"name":"embed-v4.0","endpoints":["embed"]},{"name":"rerank-v3.5","endpoints":["rerank"]}]}`,
			"/v1/models", "page_size=1000",
			[]providers.Model{{ID: "command-a-03-2025", OwnedBy: "cohere"}, {ID: "embed-v4.0", OwnedBy: "cohere"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := upstreamtest.New(t, upstreamtest.JSON(200, tt.reply))
			c := newTestClient(t, u, tt.backend, tt.suffix, testKey)
			got, err := c.Models(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			if h := u.Last(t); h.Method != http.MethodGet || h.Path != tt.wantPath || h.Query != tt.wantQuery {
				t.Fatalf("hit %s %s?%s", h.Method, h.Path, h.Query)
			}
		})
	}
	t.Run("perplexity has no list endpoint: documented models, no upstream call", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.JSON(404, `{}`))
		c := newTestClient(t, u, "perplexity", "", testKey)
		got, err := c.Models(context.Background())
		if err != nil || len(got) != 4 || got[0].ID != "sonar" || u.Calls() != 0 {
			t.Fatalf("got %+v, %v, %d upstream calls", got, err, u.Calls())
		}
	})
	t.Run("bad key", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.JSON(401, `{"error":{"message":"Invalid key","type":"invalid_request_error","code":"invalid_api_key"}}`))
		c := newTestClient(t, u, "openai", "/v1", testKey)
		_, err := c.Models(context.Background())
		var e *providers.Error
		if !errors.As(err, &e) || e.Status() != 401 || e.Code != "invalid_api_key" {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("malformed list", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.JSON(200, `{"data":`))
		c := newTestClient(t, u, "openai", "/v1", testKey)
		if _, err := c.Models(context.Background()); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEmbed(t *testing.T) {
	floatReply := `{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.5,-1]},{"object":"embedding","index":0,"embedding":[0.25,2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`
	// [1.5, -0.5] as little-endian float32, base64.
	b64Reply := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AADAPwAAAL8="}],"model":"embed-v4.0","usage":{"prompt_tokens":3,"total_tokens":3}}`
	tests := []struct {
		name, backend, suffix, reply string
		req                          *providers.EmbedRequest
		wantPath, wantBody           string
		wantVectors                  [][]float64
		wantTokens                   int
	}{
		{"raw body forwarded with the model set", "openai", "/v1", floatReply,
			&providers.EmbedRequest{Model: "text-embedding-3-small", Raw: []byte(`{"model":"alias","input":["a","b"],"dimensions":2,"encoding_format":"float"}`)},
			"/v1/embeddings", `{"model":"text-embedding-3-small","input":["a","b"],"dimensions":2,"encoding_format":"float"}`,
			[][]float64{{0.25, 2}, {0.5, -1}}, 8},
		{"cohere drops dimensions and user; base64 vectors", "cohere", "/compatibility/v1", b64Reply,
			&providers.EmbedRequest{Model: "embed-v4.0", Raw: []byte(`{"model":"embed-v4.0","input":"a","dimensions":256,"user":"u","encoding_format":"base64"}`)},
			"/compatibility/v1/embeddings", `{"model":"embed-v4.0","input":"a","encoding_format":"base64"}`,
			[][]float64{{1.5, -0.5}}, 3},
		{"built from fields without Raw", "ollama", "/v1", floatReply,
			&providers.EmbedRequest{Model: "nomic", Input: []string{"a", "b"}, Dimensions: 2},
			"/v1/embeddings", `{"model":"nomic","input":["a","b"],"dimensions":2}`,
			[][]float64{{0.25, 2}, {0.5, -1}}, 8},
		{"azure deployment path", "azure", "", floatReply,
			&providers.EmbedRequest{Model: "emb-deploy", Input: []string{"a"}},
			"/openai/deployments/emb-deploy/embeddings", `{"model":"emb-deploy","input":["a"]}`,
			[][]float64{{0.25, 2}, {0.5, -1}}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := upstreamtest.New(t, upstreamtest.JSON(200, tt.reply))
			c := newTestClient(t, u, tt.backend, tt.suffix, testKey)
			got, err := c.Embed(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			h := u.Last(t)
			if h.Path != tt.wantPath || string(h.Body) != tt.wantBody {
				t.Fatalf("upstream got %s %s", h.Path, h.Body)
			}
			if !reflect.DeepEqual(got.Vectors, tt.wantVectors) || got.Usage.InputTokens != tt.wantTokens || string(got.Raw) != tt.reply {
				t.Fatalf("got %+v", got)
			}
		})
	}
	t.Run("upstream error", func(t *testing.T) {
		u := upstreamtest.New(t, upstreamtest.JSON(400, `{"error":{"message":"input too long","type":"invalid_request_error"}}`))
		c := newTestClient(t, u, "openai", "/v1", testKey)
		_, err := c.Embed(context.Background(), &providers.EmbedRequest{Model: "e", Input: []string{"x"}})
		var e *providers.Error
		if !errors.As(err, &e) || e.Status() != 400 || e.Message != "input too long" {
			t.Fatalf("err = %#v", err)
		}
	})
}
