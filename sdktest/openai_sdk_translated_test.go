package sdktest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/openai/openai-go/v3"
)

const pngData = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

// translatedBackend is an Anthropic or Gemini mock upstream and what the OpenAI front door must
// make of it.
type translatedBackend struct {
	name    string
	backend string
	model   string
	// reply answers the upstream request: tools → parallel tool calls, tool results → text.
	reply func(w http.ResponseWriter, r *http.Request, body []byte)
	// checkImage checks the first upstream request of the image test.
	checkImage func(t *testing.T, r upstreamtest.Request)
	// checkTurn checks the upstream request of the tool-result turn.
	checkTurn func(t *testing.T, body map[string]any)
	// usage is the translated usage of the non-stream answer and of the tool stream.
	usage, toolUsage openai.CompletionUsage
	// fail answers with the upstream's error shape; failStatus is what the client must see.
	fail       func(w http.ResponseWriter)
	failStatus int
	failText   string
}

func translatedBackends() []translatedBackend {
	return []translatedBackend{
		{
			name: "Anthropic backend", backend: "anthropic", model: "claude-sonnet-4-5",
			reply: func(w http.ResponseWriter, r *http.Request, body []byte) {
				switch {
				case r.URL.Path != "/v1/messages":
					upstreamtest.WriteJSON(w, 404, `{"type":"error","error":{"type":"not_found_error","message":"no such path"}}`)
				case hasToolResults(body):
					upstreamtest.WriteSSE(w, anthropicText("claude-sonnet-4-5", "Sunny, ", "and 14:00.")...)
				case strings.Contains(string(body), `"tools"`):
					upstreamtest.WriteSSE(w, anthropicParallelTools("claude-sonnet-4-5")...)
				default:
					upstreamtest.WriteJSON(w, 200, anthropicMessage("claude-sonnet-4-5", "A red pixel."))
				}
			},
			checkImage: func(t *testing.T, r upstreamtest.Request) {
				if r.Header.Get("x-api-key") != upstreamSecret || r.Header.Get("anthropic-version") != "2023-06-01" || r.Header.Get("Authorization") != "" {
					t.Errorf("upstream auth headers %v", r.Header)
				}
				got := decode(t, r.Body)
				if got["system"] == nil || !strings.Contains(jsonString(got["system"]), "Describe images.") {
					t.Errorf("system %v", got["system"])
				}
				if n, _ := got["max_tokens"].(float64); n <= 0 {
					t.Errorf("max_tokens %v: Anthropic requires it", got["max_tokens"])
				}
				content := at(got, "messages", 0, "content")
				want := []any{
					map[string]any{"type": "text", "text": "What is in these images?"},
					map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": pngData}},
					// Two images count as 3,200 tokens, over Claude's cacheable minimum: the
					// gateway marks the end of the user turn for prompt caching.
					map[string]any{"type": "image", "source": map[string]any{"type": "url", "url": "https://example.com/cat.jpg"},
						"cache_control": map[string]any{"type": "ephemeral"}},
				}
				if !jsonEqual(content, want) {
					t.Errorf("content %s", jsonString(content))
				}
			},
			checkTurn: func(t *testing.T, got map[string]any) {
				asst := at(got, "messages", 1, "content").([]any)
				var uses []any
				for _, b := range asst {
					if at(b, "type") == "tool_use" {
						uses = append(uses, b)
					}
				}
				if !jsonEqual(uses, []any{
					map[string]any{"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": map[string]any{"city": "Paris"}},
					map[string]any{"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": map[string]any{"tz": "Europe/Rome"}},
				}) {
					t.Errorf("assistant turn %s", jsonString(asst))
				}
				// Both results in one user turn.
				if n := len(got["messages"].([]any)); n != 3 || at(got, "messages", 2, "role") != "user" {
					t.Fatalf("messages %s", jsonString(got["messages"]))
				}
				res := at(got, "messages", 2, "content").([]any)
				if len(res) != 2 || at(res, 0, "tool_use_id") != "toolu_01" || at(res, 1, "tool_use_id") != "toolu_02" ||
					!strings.Contains(jsonString(at(res, 1, "content")), "14:00") {
					t.Errorf("tool results %s", jsonString(res))
				}
			},
			usage:     openai.CompletionUsage{PromptTokens: 17, CompletionTokens: 7, TotalTokens: 24},
			toolUsage: openai.CompletionUsage{PromptTokens: 26, CompletionTokens: 40, TotalTokens: 66},
			fail: func(w http.ResponseWriter) {
				upstreamtest.WriteJSON(w, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"messages: text content blocks must be non-empty"}}`)
			},
			failStatus: 400, failText: "messages: text content blocks must be non-empty",
		},
		{
			name: "Gemini backend", backend: "gemini", model: "gemini-2.5-flash",
			reply: func(w http.ResponseWriter, r *http.Request, body []byte) {
				switch {
				case !strings.HasPrefix(r.URL.Path, "/v1beta/models/gemini-2.5-flash:"):
					upstreamtest.WriteJSON(w, 404, `{"error":{"code":404,"message":"no such path","status":"NOT_FOUND"}}`)
				case strings.HasSuffix(r.URL.Path, ":streamGenerateContent") && hasToolResults(body):
					upstreamtest.WriteSSE(w, geminiText("Sunny, ", "and 14:00.")...)
				case strings.HasSuffix(r.URL.Path, ":streamGenerateContent"):
					upstreamtest.WriteSSE(w, geminiParallelTools()...)
				default:
					upstreamtest.WriteJSON(w, 200, geminiResponse("A red pixel."))
				}
			},
			checkImage: func(t *testing.T, r upstreamtest.Request) {
				if r.Header.Get("x-goog-api-key") != upstreamSecret || strings.Contains(r.Query, upstreamSecret) {
					t.Errorf("upstream key: header %q, query %q", r.Header.Get("x-goog-api-key"), r.Query)
				}
				if r.Path != "/v1beta/models/gemini-2.5-flash:generateContent" {
					t.Errorf("path %s", r.Path)
				}
				got := decode(t, r.Body)
				if !strings.Contains(jsonString(got["systemInstruction"]), "Describe images.") {
					t.Errorf("systemInstruction %v", got["systemInstruction"])
				}
				parts := at(got, "contents", 0, "parts").([]any)
				if len(parts) != 3 || at(parts, 0, "text") != "What is in these images?" ||
					!jsonEqual(at(parts, 1, "inlineData"), map[string]any{"mimeType": "image/png", "data": pngData}) ||
					at(parts, 2, "fileData", "fileUri") != "https://example.com/cat.jpg" {
					t.Errorf("parts %s", jsonString(parts))
				}
			},
			checkTurn: func(t *testing.T, got map[string]any) {
				contents := got["contents"].([]any)
				if len(contents) != 3 {
					t.Fatalf("contents %s", jsonString(contents))
				}
				var calls []any
				for _, p := range at(contents, 1, "parts").([]any) {
					if at(p, "functionCall") != nil {
						calls = append(calls, p)
					}
				}
				if len(calls) != 2 || at(calls, 0, "functionCall", "name") != "get_weather" ||
					!jsonEqual(at(calls, 0, "functionCall", "args"), map[string]any{"city": "Paris"}) ||
					at(calls, 1, "functionCall", "name") != "get_time" {
					t.Errorf("model turn %s", jsonString(at(contents, 1)))
				}
				// The thought signature the client never saw comes back on the part that had it.
				if at(calls, 0, "thoughtSignature") != "c2lnLXdlYXRoZXI=" {
					t.Errorf("thought signature lost: %s", jsonString(calls))
				}
				res := at(contents, 2, "parts").([]any)
				if at(contents, 2, "role") != "user" || len(res) != 2 ||
					at(res, 0, "functionResponse", "name") != "get_weather" || at(res, 1, "functionResponse", "name") != "get_time" ||
					!strings.Contains(jsonString(at(res, 1, "functionResponse", "response")), "14:00") {
					t.Errorf("function responses %s", jsonString(res))
				}
			},
			usage:     openai.CompletionUsage{PromptTokens: 8, CompletionTokens: 10, TotalTokens: 18},
			toolUsage: openai.CompletionUsage{PromptTokens: 21, CompletionTokens: 44, TotalTokens: 65},
			fail: func(w http.ResponseWriter) {
				upstreamtest.WriteJSON(w, 429, `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`)
			},
			failStatus: 429, failText: "Resource has been exhausted",
		},
	}
}

// TestOpenAISDKTranslated: openai-go over an Anthropic and over a Gemini backend (issue 4):
// images, usage, streamed parallel tool calls assembled into valid JSON arguments, the tool
// results of the next turn in the backend's own shape, and errors.
func TestOpenAISDKTranslated(t *testing.T) {
	g := startGateway(t)
	ctx := context.Background()
	for _, b := range translatedBackends() {
		t.Run(b.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, b.reply)
			key, _ := g.newClient(client{"backend": b.backend, "base_url": up.URL, "upstream_key": upstreamSecret, "default_model": b.model})
			c := openaiSDK(g, key)

			t.Run("images and usage", func(t *testing.T) {
				resp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
					Model: b.model,
					Messages: []openai.ChatCompletionMessageParamUnion{
						openai.SystemMessage("Describe images."),
						openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
							openai.TextContentPart("What is in these images?"),
							openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "data:image/png;base64," + pngData}),
							openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.com/cat.jpg"}),
						}),
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Choices[0].Message.Content != "A red pixel." || resp.Choices[0].FinishReason != "stop" {
					t.Errorf("answer %+v", resp.Choices)
				}
				if u := resp.Usage; u.PromptTokens != b.usage.PromptTokens || u.CompletionTokens != b.usage.CompletionTokens ||
					u.TotalTokens != b.usage.TotalTokens {
					t.Errorf("usage %d/%d/%d, want %d/%d/%d", u.PromptTokens, u.CompletionTokens, u.TotalTokens,
						b.usage.PromptTokens, b.usage.CompletionTokens, b.usage.TotalTokens)
				}
				b.checkImage(t, up.Last(t))
			})

			t.Run("streamed parallel tool calls, two turns", func(t *testing.T) {
				msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris and time in Rome?")}
				acc := streamTools(t, c, b.model, msgs)
				ch := acc.Choices[0]
				wantTools(t, ch.Message.ToolCalls)
				if ch.FinishReason != "tool_calls" || ch.Message.Content != "Checking both." {
					t.Errorf("finish %q content %q", ch.FinishReason, ch.Message.Content)
				}
				if u := acc.Usage; u.PromptTokens != b.toolUsage.PromptTokens || u.CompletionTokens != b.toolUsage.CompletionTokens {
					t.Errorf("usage %d/%d, want %d/%d", u.PromptTokens, u.CompletionTokens, b.toolUsage.PromptTokens, b.toolUsage.CompletionTokens)
				}
				calls := ch.Message.ToolCalls
				msgs = append(msgs, ch.Message.ToParam(),
					openai.ToolMessage("sunny", calls[0].ID), openai.ToolMessage("14:00", calls[1].ID))
				acc = streamTools(t, c, b.model, msgs)
				if acc.Choices[0].Message.Content != "Sunny, and 14:00." || acc.Choices[0].FinishReason != "stop" {
					t.Errorf("second turn %q %q", acc.Choices[0].Message.Content, acc.Choices[0].FinishReason)
				}
				b.checkTurn(t, decode(t, up.Last(t).Body))
			})

			t.Run("upstream error", func(t *testing.T) {
				up.Handle(withBody(func(w http.ResponseWriter, _ *http.Request, _ []byte) { b.fail(w) }))
				for _, stream := range []bool{false, true} {
					var err error
					params := openai.ChatCompletionNewParams{Model: b.model,
						Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
					if stream {
						st := c.Chat.Completions.NewStreaming(ctx, params)
						for st.Next() {
						}
						err = st.Err()
					} else {
						_, err = c.Chat.Completions.New(ctx, params)
					}
					var apiErr *openai.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != b.failStatus || !strings.Contains(apiErr.Message, b.failText) {
						t.Errorf("stream=%v: %v, want a %d *openai.Error with the upstream's message", stream, err, b.failStatus)
					}
				}
			})
		})
	}
}

func jsonString(v any) string {
	b, _ := jsonMarshal(v)
	return string(b)
}
