package sdktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// The Anthropic door is driven by both official Go SDK lines (anthropic_v1_test.go,
// anthropic_v2_test.go) through these neutral interfaces, so every case runs for each.

type anthropicSDK interface {
	name() string
	// wantHeaders are the headers the SDK sends ("" = must be absent); sentHeaders the ones
	// it sent last.
	wantHeaders(key string) map[string]string
	sentHeaders() http.Header
	conversation(opts convoOptions) anthropicConvo
	countTokens(model, system, text string) (int64, error)
}

// anthropicConvo is one conversation; send appends the answer to its history.
type anthropicConvo interface {
	user(text, pngB64 string)
	toolResults(rs ...toolResult)
	send(stream bool) (anthropicAnswer, error)
}

type convoOptions struct {
	model     string
	maxTokens int64
	system    []systemBlock
	tools     []toolSpec
	thinking  int64
}

type systemBlock struct {
	text  string
	cache bool
}

type toolSpec struct {
	name, description string
	properties        map[string]any
	required          []string
}

type toolResult struct {
	id, content string
	isError     bool
}

type toolUse struct{ id, name, input string }

type anthropicAnswer struct {
	id, text, thinking, stopReason string
	tools                          []toolUse
	inputTokens, outputTokens      int64
	events                         int
}

// anthropicAPIError is an SDK's *Error in neutral form.
type anthropicAPIError struct {
	status int
	typ    string
	raw    string
	err    error
}

func (e *anthropicAPIError) Error() string { return fmt.Sprintf("%d %s: %v", e.status, e.typ, e.err) }

func anthropicSDKs(g *gateway, key string) []anthropicSDK {
	return []anthropicSDK{newanthropicV2(g, key), newanthropicV1(g, key)}
}

var weatherTimeTools = []toolSpec{
	{"get_weather", "Weather in a city", map[string]any{"city": map[string]any{"type": "string"}}, []string{"city"}},
	{"get_time", "Time in a zone", map[string]any{"tz": map[string]any{"type": "string"}}, []string{"tz"}},
}

// anthropicDoorBackend is a non-Anthropic backend behind the Anthropic door.
type anthropicDoorBackend struct {
	name, backend, base, model string
	reply                      func(w http.ResponseWriter, r *http.Request, body []byte)
	// checkFirst and checkTurn check the upstream requests of the tool conversation.
	checkFirst func(t *testing.T, got map[string]any)
	checkTurn  func(t *testing.T, got map[string]any, uses []toolUse)
	checkImage func(t *testing.T, got map[string]any)
	// fail is an upstream error and what the SDK must see of it.
	fail       func(w http.ResponseWriter)
	failStatus int
	failType   string
	failText   string
	// midStream fails after the first piece of text with midStreamText.
	midStream     func(w http.ResponseWriter)
	midStreamText string
	count         func(t *testing.T, n int64)
}

func anthropicDoorBackends() []anthropicDoorBackend {
	return []anthropicDoorBackend{
		{
			name: "OpenAI-compatible backend", backend: "openai-compatible", base: "/v1", model: "gpt-4o",
			reply: func(w http.ResponseWriter, r *http.Request, body []byte) {
				got := map[string]any{}
				json.Unmarshal(body, &got)
				switch {
				case got["stream"] == true && got["tools"] != nil && !hasToolResults(body):
					upstreamtest.WriteSSE(w, openAIParallelTools("gpt-4o")...)
				case got["stream"] == true:
					upstreamtest.WriteSSE(w, chatStream("gpt-4o", "Sunny, ", "and 14:00.")...)
				default:
					upstreamtest.WriteJSON(w, 200, chatCompletion("gpt-4o", "You are welcome."))
				}
			},
			checkFirst: func(t *testing.T, got map[string]any) {
				msgs := got["messages"].([]any)
				if at(msgs, 0, "role") != "system" || !strings.Contains(jsonString(at(msgs, 0, "content")), "You are a coding agent.") ||
					at(msgs, 1, "role") != "user" {
					t.Errorf("messages %s", jsonString(msgs))
				}
				if got["stream"] != true || at(got, "stream_options", "include_usage") != true || got["max_tokens"] != float64(1024) {
					t.Errorf("stream %v stream_options %v max_tokens %v", got["stream"], got["stream_options"], got["max_tokens"])
				}
				if tools := got["tools"].([]any); len(tools) != 2 || at(tools, 0, "function", "name") != "get_weather" ||
					!jsonEqual(at(tools, 1, "function", "parameters", "required"), []any{"tz"}) {
					t.Errorf("tools %s", jsonString(tools))
				}
			},
			checkTurn: func(t *testing.T, got map[string]any, uses []toolUse) {
				msgs := got["messages"].([]any)
				if len(msgs) != 5 {
					t.Fatalf("messages %s", jsonString(msgs))
				}
				calls := at(msgs, 2, "tool_calls").([]any)
				if at(msgs, 2, "role") != "assistant" || len(calls) != 2 {
					t.Fatalf("assistant turn %s", jsonString(at(msgs, 2)))
				}
				for i, u := range uses {
					if at(calls, i, "id") != u.id || at(calls, i, "function", "name") != u.name ||
						!jsonEqual(jsonValue(at(calls, i, "function", "arguments").(string)), jsonValue(u.input)) {
						t.Errorf("tool call %d %s, want %+v", i, jsonString(at(calls, i)), u)
					}
					if at(msgs, 3+i, "role") != "tool" || at(msgs, 3+i, "tool_call_id") != u.id {
						t.Errorf("tool result %d %s", i, jsonString(at(msgs, 3+i)))
					}
				}
				if !strings.Contains(jsonString(at(msgs, 3, "content")), "sunny") || !strings.Contains(jsonString(at(msgs, 4, "content")), "timezone unknown") {
					t.Errorf("tool results %s", jsonString(msgs[3:]))
				}
			},
			checkImage: func(t *testing.T, got map[string]any) {
				if at(got, "messages", 0, "content", 1, "image_url", "url") != "data:image/png;base64,"+pngData {
					t.Errorf("image %s", jsonString(at(got, "messages")))
				}
			},
			fail: func(w http.ResponseWriter) {
				upstreamtest.WriteJSON(w, 429, `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			},
			failStatus: 429, failType: "rate_limit_error", failText: "Rate limit reached for gpt-4o",
			midStream: func(w http.ResponseWriter) {
				upstreamtest.WriteSSE(w, append(chatStream("gpt-4o", "Sun")[:2], data(`{"error":{"message":"upstream exploded","type":"server_error","param":null,"code":null}}`))...)
			},
			midStreamText: "upstream exploded",
			count: func(t *testing.T, n int64) {
				if n <= 0 || n > 100 {
					t.Errorf("count_tokens %d: want the estimate of a short prompt", n)
				}
			},
		},
		{
			name: "Gemini backend", backend: "gemini", model: "gemini-2.5-flash",
			reply: func(w http.ResponseWriter, r *http.Request, body []byte) {
				switch p := r.URL.Path; {
				case strings.HasSuffix(p, ":countTokens"):
					upstreamtest.WriteJSON(w, 200, `{"totalTokens":42}`)
				case strings.HasSuffix(p, ":streamGenerateContent") && strings.Contains(string(body), `"functionDeclarations"`) && !hasToolResults(body):
					upstreamtest.WriteSSE(w, geminiParallelTools()...)
				case strings.HasSuffix(p, ":streamGenerateContent"):
					upstreamtest.WriteSSE(w, geminiText("Sunny, ", "and 14:00.")...)
				default:
					upstreamtest.WriteJSON(w, 200, geminiResponse("You are welcome."))
				}
			},
			checkFirst: func(t *testing.T, got map[string]any) {
				if !strings.Contains(jsonString(got["systemInstruction"]), "You are a coding agent.") ||
					at(got, "generationConfig", "maxOutputTokens") != float64(1024) {
					t.Errorf("systemInstruction %v generationConfig %v", got["systemInstruction"], got["generationConfig"])
				}
				decls := at(got, "tools", 0, "functionDeclarations").([]any)
				if len(decls) != 2 || at(decls, 0, "name") != "get_weather" || at(decls, 1, "parametersJsonSchema", "properties", "tz", "type") != "string" {
					t.Errorf("tools %s", jsonString(got["tools"]))
				}
			},
			checkTurn: func(t *testing.T, got map[string]any, uses []toolUse) {
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
				if len(calls) != 2 || at(calls, 0, "thoughtSignature") != "c2lnLXdlYXRoZXI=" {
					t.Errorf("model turn %s: both calls, the first with its thought signature", jsonString(at(contents, 1)))
				}
				res := at(contents, 2, "parts").([]any)
				if len(res) != 2 || at(res, 0, "functionResponse", "name") != "get_weather" || at(res, 1, "functionResponse", "name") != "get_time" ||
					!strings.Contains(jsonString(res[1]), "timezone unknown") {
					t.Errorf("function responses %s", jsonString(res))
				}
			},
			checkImage: func(t *testing.T, got map[string]any) {
				if !jsonEqual(at(got, "contents", 0, "parts", 1, "inlineData"), map[string]any{"mimeType": "image/png", "data": pngData}) {
					t.Errorf("image %s", jsonString(got["contents"]))
				}
			},
			fail: func(w http.ResponseWriter) {
				upstreamtest.WriteJSON(w, 400, `{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}}`)
			},
			failStatus: 400, failType: "invalid_request_error", failText: "contents is not specified",
			midStream: func(w http.ResponseWriter) {
				upstreamtest.WriteSSE(w, geminiText("Sun")[0], geminiChunk(`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`))
			},
			midStreamText: "The model is overloaded.",
			count: func(t *testing.T, n int64) {
				if n != 42 {
					t.Errorf("count_tokens %d, want the backend's own count", n)
				}
			},
		},
	}
}

// TestAnthropicSDKs: both official Anthropic Go SDK lines through the Anthropic door over an
// OpenAI-compatible and a Gemini backend (issue 5).
func TestAnthropicSDKs(t *testing.T) {
	g := startGateway(t)
	for _, b := range anthropicDoorBackends() {
		t.Run(b.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, b.reply)
			key, _ := g.newClient(client{"backend": b.backend, "base_url": up.URL + b.base, "upstream_key": upstreamSecret, "default_model": b.model})
			for _, sdk := range anthropicSDKs(g, key) {
				t.Run(sdk.name(), func(t *testing.T) {
					up.Handle(withBody(b.reply))
					t.Run("multi-turn with streamed parallel tool calls", func(t *testing.T) {
						c := sdk.conversation(convoOptions{model: b.model, maxTokens: 1024, tools: weatherTimeTools,
							system: []systemBlock{{text: "You are a coding agent.", cache: true}}})
						c.user("Weather in Paris and time in Rome?", "")
						a, err := c.send(true)
						if err != nil {
							t.Fatal(err)
						}
						if a.stopReason != "tool_use" || len(a.tools) != 2 || a.events < 6 {
							t.Fatalf("answer %+v", a)
						}
						want := []toolUse{{name: "get_weather", input: `{"city":"Paris"}`}, {name: "get_time", input: `{"tz":"Europe/Rome"}`}}
						for i, u := range a.tools {
							var v any
							if err := json.Unmarshal([]byte(u.input), &v); err != nil {
								t.Errorf("tool %d input is not JSON: %q", i, u.input)
							}
							if u.name != want[i].name || !jsonEqual(v, jsonValue(want[i].input)) || u.id == "" {
								t.Errorf("tool %d %+v, want %+v", i, u, want[i])
							}
						}
						if a.tools[0].id == a.tools[1].id {
							t.Error("both tool calls have the same id")
						}
						if a.inputTokens == 0 || a.outputTokens == 0 {
							t.Errorf("usage %d in / %d out", a.inputTokens, a.outputTokens)
						}
						// The door accepted this SDK line's own auth and version headers.
						for h, v := range sdk.wantHeaders(key) {
							if got := sdk.sentHeaders().Get(h); got != v {
								t.Errorf("the SDK sent %s = %q, want %q", h, got, v)
							}
						}
						r := up.Last(t)
						for h, v := range sdkHeadersUpstream(b.backend) {
							if r.Header.Get(h) != v {
								t.Errorf("upstream %s = %q, want %q", h, r.Header.Get(h), v)
							}
						}
						b.checkFirst(t, decode(t, r.Body))

						c.toolResults(toolResult{id: a.tools[0].id, content: "sunny"}, toolResult{id: a.tools[1].id, content: "timezone unknown", isError: true})
						a2, err := c.send(true)
						if err != nil {
							t.Fatal(err)
						}
						if a2.text != "Sunny, and 14:00." || a2.stopReason != "end_turn" {
							t.Errorf("second turn %+v", a2)
						}
						b.checkTurn(t, decode(t, up.Last(t).Body), a.tools)

						c.user("Thanks!", "")
						a3, err := c.send(false)
						if err != nil {
							t.Fatal(err)
						}
						if a3.text != "You are welcome." || a3.stopReason != "end_turn" || a3.inputTokens == 0 {
							t.Errorf("third turn %+v", a3)
						}
					})

					t.Run("image", func(t *testing.T) {
						c := sdk.conversation(convoOptions{model: b.model, maxTokens: 256})
						c.user("What is in this image?", pngData)
						a, err := c.send(false)
						if err != nil {
							t.Fatal(err)
						}
						if a.text != "You are welcome." {
							t.Errorf("answer %+v", a)
						}
						b.checkImage(t, decode(t, up.Last(t).Body))
					})

					t.Run("count_tokens", func(t *testing.T) {
						n, err := sdk.countTokens(b.model, "Be brief.", "How many tokens is this?")
						if err != nil {
							t.Fatal(err)
						}
						b.count(t, n)
					})

					t.Run("upstream error", func(t *testing.T) {
						up.Handle(withBody(func(w http.ResponseWriter, _ *http.Request, _ []byte) { b.fail(w) }))
						defer up.Handle(withBody(b.reply))
						for _, stream := range []bool{false, true} {
							c := sdk.conversation(convoOptions{model: b.model, maxTokens: 64})
							c.user("hi", "")
							_, err := c.send(stream)
							var e *anthropicAPIError
							if !errors.As(err, &e) || e.status != b.failStatus || e.typ != b.failType || !strings.Contains(e.raw, b.failText) {
								t.Errorf("stream=%v: %v, want a %d %s with the upstream's message", stream, err, b.failStatus, b.failType)
							}
						}
					})

					t.Run("mid-stream error", func(t *testing.T) {
						up.Handle(withBody(func(w http.ResponseWriter, _ *http.Request, _ []byte) { b.midStream(w) }))
						defer up.Handle(withBody(b.reply))
						c := sdk.conversation(convoOptions{model: b.model, maxTokens: 64})
						c.user("hi", "")
						a, err := c.send(true)
						if err == nil || a.events == 0 || !strings.Contains(err.Error(), b.midStreamText) {
							t.Errorf("a stream cut by an upstream error: %v after %d events, want %q", err, a.events, b.midStreamText)
						}
					})
				})
			}
		})
	}
}

// sdkHeadersUpstream are the upstream auth headers of each backend.
func sdkHeadersUpstream(backend string) map[string]string {
	if backend == "gemini" {
		return map[string]string{"x-goog-api-key": upstreamSecret, "Authorization": "", "x-api-key": ""}
	}
	return map[string]string{"Authorization": "Bearer " + upstreamSecret, "x-api-key": "", "anthropic-version": ""}
}

// headerLog keeps the headers of an SDK's last request.
type headerLog struct {
	mu sync.Mutex
	h  http.Header
}

func (l *headerLog) record(h http.Header) {
	l.mu.Lock()
	l.h = h.Clone()
	l.mu.Unlock()
}

func (l *headerLog) last() http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h
}
