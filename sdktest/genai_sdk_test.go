package sdktest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"google.golang.org/genai"
)

// genaiSDK is the official Google Gen AI client pointed at the gateway's Gemini door.
func genaiSDK(t *testing.T, g *gateway, key string) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey: key, Backend: genai.BackendGeminiAPI, HTTPOptions: genai.HTTPOptions{BaseURL: g.url},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var genaiTools = []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{
	{Name: "get_weather", Description: "Weather in a city", Parameters: &genai.Schema{Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString}}, Required: []string{"city"}}},
	{Name: "get_time", Description: "Time in a zone", Parameters: &genai.Schema{Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{"tz": {Type: genai.TypeString}}, Required: []string{"tz"}}},
}}}

// geminiUpstream answers like the Gemini API: models (two pages), countTokens, streams (tool
// calls unless the request carries function responses) and single answers.
func geminiUpstream(t *testing.T) *upstreamtest.Server {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch p := r.URL.Path; {
		case p == "/v1beta/models" && r.Method == "GET":
			geminiModels(w, r)
		case strings.HasSuffix(p, ":countTokens"):
			upstreamtest.WriteJSON(w, 200, `{"totalTokens":42,"promptTokensDetails":[{"modality":"TEXT","tokenCount":42}]}`)
		case strings.HasSuffix(p, ":streamGenerateContent") && strings.Contains(string(body), `"tools"`) && !hasToolResults(body):
			upstreamtest.WriteSSE(w, geminiParallelTools()...)
		case strings.HasSuffix(p, ":streamGenerateContent"):
			upstreamtest.WriteSSE(w, geminiText("Bon", "jour")...)
		case strings.HasSuffix(p, ":generateContent"):
			upstreamtest.WriteJSON(w, 200, geminiResponse("Bonjour"))
		default:
			upstreamtest.WriteJSON(w, 404, `{"error":{"code":404,"message":"unknown path","status":"NOT_FOUND"}}`)
		}
	})
}

// openAIForGemini answers Chat Completions for the translated Gemini door: tool calls when
// asked with tools, text otherwise.
func openAIForGemini(t *testing.T) *upstreamtest.Server {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path == "/v1/models" {
			upstreamtest.WriteJSON(w, 200, `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"o"},{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"o"}]}`)
			return
		}
		got := decode(t, body)
		switch {
		case got["stream"] == true && got["tools"] != nil && !hasToolResults(body):
			upstreamtest.WriteSSE(w, openAIParallelTools("gpt-4o")...)
		case got["stream"] == true:
			upstreamtest.WriteSSE(w, chatStream("gpt-4o", "Bon", "jour")...)
		default:
			upstreamtest.WriteJSON(w, 200, chatCompletion("gpt-4o", "Bonjour"))
		}
	})
}

// TestGenAISDK: the official google.golang.org/genai client through the Gemini front door
// (issue 4), over a Gemini backend (forwarded) and an OpenAI-compatible one (translated).
func TestGenAISDK(t *testing.T) {
	g := startGateway(t)
	ctx := context.Background()
	cases := []struct {
		name     string
		backend  string
		upstream func(*testing.T) *upstreamtest.Server
		base     string
		model    string
		// checkGenerate checks the upstream request of the non-stream generate.
		checkGenerate func(t *testing.T, r upstreamtest.Request)
		models        []string
		countTokens   func(t *testing.T, n int32, up *upstreamtest.Server)
		// toolPrompt is the prompt token count the tool stream reports.
		toolPrompt int32
	}{
		{
			name: "Gemini backend, forwarded", backend: "gemini", upstream: geminiUpstream, model: "gemini-2.5-flash",
			checkGenerate: func(t *testing.T, r upstreamtest.Request) {
				if r.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || r.Query != "" {
					t.Errorf("upstream URL %s?%s", r.Path, r.Query)
				}
				got := decode(t, r.Body)
				parts := at(got, "systemInstruction", "parts").([]any)
				if len(parts) != 2 || at(parts, 0, "text") != "Answer in French." || at(parts, 1, "text") != "Be brief." {
					t.Errorf("systemInstruction %s: the client's prompt must come first, the app's after it", jsonString(got["systemInstruction"]))
				}
				if at(got, "generationConfig", "maxOutputTokens") != float64(256) || at(got, "generationConfig", "temperature") != float64(0) {
					t.Errorf("generationConfig %s", jsonString(got["generationConfig"]))
				}
				if !jsonEqual(at(got, "contents", 0, "parts", 1, "inlineData"), map[string]any{"mimeType": "image/png", "data": pngData}) {
					t.Errorf("image %s", jsonString(at(got, "contents", 0)))
				}
				if len(at(got, "tools", 0, "functionDeclarations").([]any)) != 2 {
					t.Errorf("tools %s", jsonString(got["tools"]))
				}
			},
			models: []string{"models/gemini-2.5-flash", "models/gemini-2.5-pro"}, toolPrompt: 21,
			countTokens: func(t *testing.T, n int32, up *upstreamtest.Server) {
				if n != 42 || !strings.HasSuffix(up.Last(t).Path, "/v1beta/models/gemini-2.5-flash:countTokens") {
					t.Errorf("countTokens %d from %s: want the backend's own count", n, up.Last(t).Path)
				}
				// The client's system prompt is counted too: the SDK's contents-only body becomes a
				// generateContentRequest that carries it.
				got := decode(t, up.Last(t).Body)
				req, _ := got["generateContentRequest"].(map[string]any)
				if req == nil || req["model"] != "models/gemini-2.5-flash" || at(req, "systemInstruction", "parts", 0, "text") != "Answer in French." ||
					len(at(req, "contents").([]any)) == 0 {
					t.Errorf("countTokens body %s: want the contents and the client's system prompt in a generateContentRequest", jsonString(got))
				}
			},
		},
		{
			name: "OpenAI-compatible backend, translated", backend: "openai-compatible", upstream: openAIForGemini, base: "/v1", model: "gpt-4o",
			checkGenerate: func(t *testing.T, r upstreamtest.Request) {
				if r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+upstreamSecret {
					t.Errorf("upstream %s, auth %q", r.Path, r.Header.Get("Authorization"))
				}
				got := decode(t, r.Body)
				if got["model"] != "gpt-4o" || got["max_tokens"] != float64(256) || got["temperature"] != float64(0) {
					t.Errorf("model %v max_tokens %v temperature %v", got["model"], got["max_tokens"], got["temperature"])
				}
				msgs := got["messages"].([]any)
				if at(msgs, 0, "role") != "system" || at(msgs, 0, "content") != "Answer in French." ||
					at(msgs, 1, "role") != "system" || !strings.Contains(jsonString(at(msgs, 1, "content")), "Be brief.") {
					t.Errorf("system messages %s", jsonString(msgs))
				}
				if at(msgs, 2, "content", 1, "image_url", "url") != "data:image/png;base64,"+pngData {
					t.Errorf("image %s", jsonString(at(msgs, 2)))
				}
				if len(got["tools"].([]any)) != 2 {
					t.Errorf("tools %s", jsonString(got["tools"]))
				}
			},
			models: []string{"models/gpt-4o", "models/gpt-4o-mini"}, toolPrompt: 30,
			countTokens: func(t *testing.T, n int32, up *upstreamtest.Server) {
				if n <= 0 || n > 100 {
					t.Errorf("countTokens %d: want the estimate of a short prompt", n)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := g.at(t)
			up := tc.upstream(t)
			key, id := g.newClient(client{"backend": tc.backend, "base_url": up.URL + tc.base, "upstream_key": upstreamSecret,
				"default_model": tc.model, "system_prompt": "Answer in French.", "quota": client{"max_output_tokens": 256}})
			c := genaiSDK(t, g, key)

			t.Run("generateContent", func(t *testing.T) {
				resp, err := c.Models.GenerateContent(ctx, tc.model, []*genai.Content{genai.NewContentFromParts([]*genai.Part{
					genai.NewPartFromText("What is this?"), genai.NewPartFromBytes(mustB64(pngData), "image/png"),
				}, genai.RoleUser)}, &genai.GenerateContentConfig{
					SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser),
					Temperature:       genai.Ptr[float32](0), MaxOutputTokens: 1000, Tools: genaiTools,
				})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Text() != "Bonjour" || resp.Candidates[0].FinishReason != genai.FinishReasonStop {
					t.Errorf("answer %q %v", resp.Text(), resp.Candidates[0].FinishReason)
				}
				if resp.UsageMetadata == nil || resp.UsageMetadata.PromptTokenCount == 0 || resp.UsageMetadata.TotalTokenCount == 0 {
					t.Errorf("usage %+v", resp.UsageMetadata)
				}
				r := up.Last(t)
				tc.checkGenerate(t, r)
				if strings.Contains(r.Query, key) || r.Header.Get("x-goog-api-key") == key || strings.Contains(string(r.Body), key) {
					t.Error("the client's key reached the upstream")
				}
				if tc.backend == "gemini" && r.Header.Get("x-goog-api-key") != upstreamSecret {
					t.Errorf("upstream x-goog-api-key %q, want the client's upstream key", r.Header.Get("x-goog-api-key"))
				}
			})

			t.Run("streamGenerateContent", func(t *testing.T) {
				var text strings.Builder
				var last *genai.GenerateContentResponse
				for resp, err := range c.Models.GenerateContentStream(ctx, tc.model, genai.Text("Say hello"), nil) {
					if err != nil {
						t.Fatal(err)
					}
					text.WriteString(resp.Text())
					last = resp
				}
				if text.String() != "Bonjour" || last == nil || last.Candidates[0].FinishReason != genai.FinishReasonStop {
					t.Errorf("streamed %q", text.String())
				}
				if r := up.Last(t); tc.backend == "gemini" && (!strings.HasSuffix(r.Path, ":streamGenerateContent") || r.Query != "alt=sse") {
					t.Errorf("upstream %s?%s", r.Path, r.Query)
				}
			})

			t.Run("streamed parallel function calls", func(t *testing.T) {
				var calls []*genai.FunctionCall
				var last *genai.GenerateContentResponse
				for resp, err := range c.Models.GenerateContentStream(ctx, tc.model, genai.Text("Weather in Paris and time in Rome?"),
					&genai.GenerateContentConfig{Tools: genaiTools}) {
					if err != nil {
						t.Fatal(err)
					}
					calls = append(calls, resp.FunctionCalls()...)
					last = resp
				}
				if len(calls) != 2 || calls[0].Name != "get_weather" || calls[0].Args["city"] != "Paris" ||
					calls[1].Name != "get_time" || calls[1].Args["tz"] != "Europe/Rome" {
					t.Fatalf("function calls %s", jsonString(calls))
				}
				if last.UsageMetadata == nil || last.UsageMetadata.PromptTokenCount != tc.toolPrompt {
					t.Errorf("usage %+v", last.UsageMetadata)
				}
			})

			t.Run("countTokens", func(t *testing.T) {
				ct, err := c.Models.CountTokens(ctx, tc.model, genai.Text("How many tokens is this?"), nil)
				if err != nil {
					t.Fatal(err)
				}
				tc.countTokens(t, ct.TotalTokens, up)
			})

			t.Run("models", func(t *testing.T) {
				var names []string
				for m, err := range c.Models.All(ctx) {
					if err != nil {
						t.Fatal(err)
					}
					names = append(names, m.Name)
				}
				if !slices.Equal(names, tc.models) {
					t.Errorf("models %v, want %v", names, tc.models)
				}
				m, err := c.Models.Get(ctx, strings.TrimPrefix(tc.models[1], "models/"), nil)
				if err != nil || m.Name != tc.models[1] {
					t.Errorf("get %+v %v", m, err)
				}
				_, err = c.Models.Get(ctx, "not-a-model", nil)
				var apiErr genai.APIError
				if !errors.As(err, &apiErr) || apiErr.Code != 404 || apiErr.Status != "NOT_FOUND" {
					t.Errorf("unknown model: %v", err)
				}
			})

			t.Run("whitelist", func(t *testing.T) {
				g.updateClient(id, client{"model_whitelist": []string{tc.model}})
				defer g.updateClient(id, client{"model_whitelist": []string{}})
				_, err := c.Models.GenerateContent(ctx, "other-model", genai.Text("hi"), nil)
				var apiErr genai.APIError
				if !errors.As(err, &apiErr) || apiErr.Code != 403 || apiErr.Status != "PERMISSION_DENIED" {
					t.Errorf("a model outside the whitelist: %v", err)
				}
				var names []string
				for m, err := range c.Models.All(ctx) {
					if err != nil {
						t.Fatal(err)
					}
					names = append(names, m.Name)
				}
				if !slices.Equal(names, []string{"models/" + tc.model}) {
					t.Errorf("models %v: want the whitelist", names)
				}
			})

			t.Run("upstream error", func(t *testing.T) {
				up.Handle(withBody(func(w http.ResponseWriter, _ *http.Request, _ []byte) {
					if tc.backend == "gemini" {
						upstreamtest.WriteJSON(w, 400, `{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}`)
						return
					}
					upstreamtest.WriteJSON(w, 400, `{"error":{"message":"Request contains an invalid argument.","type":"invalid_request_error","param":null,"code":null}}`)
				}))
				_, err := c.Models.GenerateContent(ctx, tc.model, genai.Text("hi"), nil)
				var apiErr genai.APIError
				if !errors.As(err, &apiErr) || apiErr.Code != 400 || apiErr.Status != "INVALID_ARGUMENT" ||
					!strings.Contains(apiErr.Message, "invalid argument") {
					t.Errorf("error %v", err)
				}
				for _, err := range c.Models.GenerateContentStream(ctx, tc.model, genai.Text("hi"), nil) {
					if !errors.As(err, &apiErr) || apiErr.Code != 400 {
						t.Errorf("stream error %v", err)
					}
					break
				}
			})
		})
	}
}

// TestGeminiDoorRaw: what the SDK does not exercise — the key in ?key= (never forwarded in a
// URL) and the JSON-array stream (streamGenerateContent without alt=sse), including an error
// after the stream started, which must still leave a valid JSON array.
func TestGeminiDoorRaw(t *testing.T) {
	g := startGateway(t)
	const body = `{"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]}`
	tests := []struct {
		name    string
		backend string
		base    string
		reply   func(w http.ResponseWriter, r *http.Request, body []byte)
		path    string
		// text is the answer; errMsg, when set, the error element that ends the array.
		text, errMsg string
	}{
		{name: "?key= on a forwarded generate", backend: "gemini", path: "/v1beta/models/gemini-2.5-flash:generateContent",
			reply: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				upstreamtest.WriteJSON(w, 200, geminiResponse("Bonjour"))
			}, text: "Bonjour"},
		{name: "JSON-array stream, forwarded", backend: "gemini", path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
			reply: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				upstreamtest.WriteSSE(w, geminiText("Bon", "jour")...)
			}, text: "Bonjour"},
		{name: "JSON-array stream, translated", backend: "openai-compatible", base: "/v1", path: "/v1beta/models/gpt-4o:streamGenerateContent",
			reply: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				upstreamtest.WriteSSE(w, chatStream("gpt-4o", "Bon", "jour")...)
			}, text: "Bonjour"},
		{name: "JSON-array stream, forwarded, upstream fails mid-stream", backend: "gemini", path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
			reply: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				upstreamtest.WriteSSE(w, geminiText("Bon")[0], geminiChunk(`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`))
			}, text: "Bon", errMsg: "The model is overloaded."},
		{name: "JSON-array stream, translated, upstream fails mid-stream", backend: "openai-compatible", base: "/v1", path: "/v1beta/models/gpt-4o:streamGenerateContent",
			reply: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				upstreamtest.WriteSSE(w, append(chatStream("gpt-4o", "Bon")[:2], data(`{"error":{"message":"upstream exploded","type":"server_error","param":null,"code":null}}`))...)
			}, text: "Bon", errMsg: "upstream exploded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, tt.reply)
			key, _ := g.newClient(client{"backend": tt.backend, "base_url": up.URL + tt.base, "upstream_key": upstreamSecret})
			resp, out := g.call("POST", tt.path+"?key="+key, body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			r := up.Last(t)
			if strings.Contains(r.Query, key) || strings.Contains(r.Query, upstreamSecret) || strings.Contains(r.Query, "key=") {
				t.Errorf("a key in the upstream URL: %s?%s", r.Path, r.Query)
			}
			if tt.backend == "gemini" && r.Header.Get("x-goog-api-key") != upstreamSecret {
				t.Errorf("upstream x-goog-api-key %q", r.Header.Get("x-goog-api-key"))
			}
			var answers []map[string]any
			if strings.HasSuffix(tt.path, ":generateContent") {
				answers = []map[string]any{decode(t, []byte(out))}
			} else if err := jsonUnmarshal([]byte(out), &answers); err != nil {
				t.Fatalf("the stream is not one JSON array: %v\n%s", err, out)
			}
			var text strings.Builder
			var errMsg any
			for _, a := range answers {
				if s, ok := at(a, "candidates", 0, "content", "parts", 0, "text").(string); ok {
					text.WriteString(s)
				}
				if e := at(a, "error", "message"); e != nil {
					errMsg = e
				}
			}
			if text.String() != tt.text {
				t.Errorf("text %q, want %q", text.String(), tt.text)
			}
			if tt.errMsg == "" && errMsg != nil || tt.errMsg != "" && (errMsg == nil || !strings.Contains(errMsg.(string), tt.errMsg)) {
				t.Errorf("error element %v, want %q", errMsg, tt.errMsg)
			}
		})
	}
}
