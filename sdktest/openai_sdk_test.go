package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// openaiSDK is the official client pointed at the gateway with a client key.
func openaiSDK(g *gateway, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.url+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

// Two tools the model calls in parallel in the tool tests.
var sdkTools = []openai.ChatCompletionToolUnionParam{
	openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name: "get_weather", Description: openai.String("Weather in a city"),
		Parameters: shared.FunctionParameters{"type": "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
	}),
	openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name: "get_time", Description: openai.String("Time in a zone"),
		Parameters: shared.FunctionParameters{"type": "object",
			"properties": map[string]any{"tz": map[string]any{"type": "string"}}, "required": []string{"tz"}},
	}),
}

// openAIParallelTools is an upstream stream with two tool calls whose arguments arrive in
// fragments, interleaved (index 0, 1, 0, 1), as OpenAI streams parallel calls.
func openAIParallelTools(model string) []string {
	head := `{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"` + model + `","choices":[{"index":0,"delta":`
	tail := `,"logprobs":null,"finish_reason":null}]}`
	return []string{
		data(head + `{"role":"assistant","content":null}` + tail),
		data(head + `{"tool_calls":[{"index":0,"id":"call_w","type":"function","function":{"name":"get_weather","arguments":""}}]}` + tail),
		data(head + `{"tool_calls":[{"index":1,"id":"call_t","type":"function","function":{"name":"get_time","arguments":""}}]}` + tail),
		data(head + `{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}` + tail),
		data(head + `{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\": \"Eur"}}]}` + tail),
		data(head + `{"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Paris\"}"}}]}` + tail),
		data(head + `{"tool_calls":[{"index":1,"function":{"arguments":"ope/Rome\"}"}}]}` + tail),
		data(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"` + model + `","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}`),
		data(`{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1,"model":"` + model + `","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":20,"total_tokens":50}}`),
		"data: [DONE]\n\n",
	}
}

// wantTools checks the accumulated answer of the parallel tool call tests: two calls, in
// order, with the expected names and arguments that are complete JSON.
func wantTools(t *testing.T, calls []openai.ChatCompletionMessageToolCallUnion) {
	t.Helper()
	if len(calls) != 2 {
		t.Fatalf("%d tool calls, want 2: %+v", len(calls), calls)
	}
	want := []struct{ name, args string }{{"get_weather", `{"city":"Paris"}`}, {"get_time", `{"tz":"Europe/Rome"}`}}
	ids := map[string]bool{}
	for i, c := range calls {
		if c.Function.Name != want[i].name {
			t.Errorf("call %d is %s, want %s", i, c.Function.Name, want[i].name)
		}
		var args any
		if err := json.Unmarshal([]byte(c.Function.Arguments), &args); err != nil {
			t.Errorf("call %d arguments are not JSON: %q", i, c.Function.Arguments)
		}
		if !jsonEqual(args, jsonValue(want[i].args)) {
			t.Errorf("call %d arguments %s, want %s", i, c.Function.Arguments, want[i].args)
		}
		if c.ID == "" || ids[c.ID] {
			t.Errorf("call %d id %q: missing or repeated", i, c.ID)
		}
		ids[c.ID] = true
	}
}

func jsonValue(s string) any {
	var v any
	json.Unmarshal([]byte(s), &v)
	return v
}

// streamTools runs a streamed request with the two tools and returns the accumulated answer.
func streamTools(t *testing.T, c openai.Client, model string, messages []openai.ChatCompletionMessageParamUnion) openai.ChatCompletionAccumulator {
	t.Helper()
	st := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: model, Messages: messages, Tools: sdkTools,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if err := st.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(acc.Choices) != 1 {
		t.Fatalf("choices: %+v", acc.Choices)
	}
	return acc
}

// TestOpenAISDK: the official openai-go client through the OpenAI front door of an
// OpenAI-compatible backend (issue 3).
func TestOpenAISDK(t *testing.T) {
	g := startGateway(t)
	ctx := context.Background()

	t.Run("non-stream", func(t *testing.T) {
		g := g.at(t)
		up := openAIUpstream(t)
		c := openaiSDK(g, first(g.newClient(openAIClient(up, nil))))
		resp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Say hello")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content != "Hello" || resp.Choices[0].FinishReason != "stop" ||
			resp.Usage.PromptTokens != 11 || resp.Usage.CompletionTokens != 7 {
			t.Errorf("answer %+v", resp)
		}
		if got := decode(t, up.Last(t).Body); got["model"] != "gpt-4o-mini" || at(got, "messages", 1, "content") != "Say hello" {
			t.Errorf("upstream got %s", up.Last(t).Body)
		}
	})

	t.Run("stream", func(t *testing.T) {
		g := g.at(t)
		up := openAIUpstream(t)
		c := openaiSDK(g, first(g.newClient(openAIClient(up, nil))))
		st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "gpt-4o-mini",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		var acc openai.ChatCompletionAccumulator
		chunks := 0
		for st.Next() {
			acc.AddChunk(st.Current())
			chunks++
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if acc.Choices[0].Message.Content != "Hello" || acc.Choices[0].FinishReason != "stop" || acc.Usage.TotalTokens != 18 {
			t.Errorf("accumulated %+v", acc.ChatCompletion)
		}
		if chunks < 4 {
			t.Errorf("%d chunks: the answer was not streamed", chunks)
		}
	})

	t.Run("streamed parallel tool calls", func(t *testing.T) {
		g := g.at(t)
		up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, body []byte) {
			if strings.Contains(string(body), `"role":"tool"`) {
				upstreamtest.WriteSSE(w, chatStream("gpt-4o", "Sunny, ", "and 14:00.")...)
				return
			}
			upstreamtest.WriteSSE(w, openAIParallelTools("gpt-4o")...)
		})
		c := openaiSDK(g, first(g.newClient(openAIClient(up, nil))))
		msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris and time in Rome?")}
		acc := streamTools(t, c, "gpt-4o", msgs)
		wantTools(t, acc.Choices[0].Message.ToolCalls)
		if acc.Choices[0].FinishReason != "tool_calls" || acc.Usage.PromptTokens != 30 {
			t.Errorf("finish %q usage %+v", acc.Choices[0].FinishReason, acc.Usage)
		}
		if tools := at(decode(t, up.Last(t).Body), "tools"); len(tools.([]any)) != 2 {
			t.Errorf("tools sent upstream: %v", tools)
		}

		// The next turn sends the calls and their results back.
		calls := acc.Choices[0].Message.ToolCalls
		msgs = append(msgs, acc.Choices[0].Message.ToParam(),
			openai.ToolMessage("sunny", calls[0].ID), openai.ToolMessage("14:00", calls[1].ID))
		acc = streamTools(t, c, "gpt-4o", msgs)
		if acc.Choices[0].Message.Content != "Sunny, and 14:00." {
			t.Errorf("second turn: %q", acc.Choices[0].Message.Content)
		}
		got := decode(t, up.Last(t).Body)
		if at(got, "messages", 1, "tool_calls", 1, "id") != calls[1].ID || at(got, "messages", 3, "tool_call_id") != calls[1].ID ||
			at(got, "messages", 1, "tool_calls", 0, "function", "arguments") != `{"city": "Paris"}` {
			t.Errorf("second turn upstream: %s", up.Last(t).Body)
		}
	})

	t.Run("upstream errors", func(t *testing.T) {
		g := g.at(t)
		for _, tc := range []struct {
			status int
			body   string
		}{
			{400, `{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`},
			{429, `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
			{500, `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`},
		} {
			up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { upstreamtest.WriteJSON(w, tc.status, tc.body) })
			c := openaiSDK(g, first(g.newClient(openAIClient(up, nil))))
			_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
				Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("status %d: error %v is not an *openai.Error", tc.status, err)
			}
			want := decode(t, []byte(tc.body))["error"].(map[string]any)
			if apiErr.StatusCode != tc.status || apiErr.Message != want["message"] || apiErr.Type != want["type"] {
				t.Errorf("status %d: got %d %q %q", tc.status, apiErr.StatusCode, apiErr.Message, apiErr.Type)
			}
		}
	})

	t.Run("mid-stream error", func(t *testing.T) {
		g := g.at(t)
		up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			upstreamtest.WriteSSE(w, append(chatStream("gpt-4o", "Hel")[:2],
				data(`{"error":{"message":"upstream exploded","type":"server_error","param":null,"code":null}}`))...)
		})
		c := openaiSDK(g, first(g.newClient(openAIClient(up, nil))))
		st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
		var acc openai.ChatCompletionAccumulator
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err == nil || !strings.Contains(err.Error(), "upstream exploded") {
			t.Errorf("stream error %v, want the upstream's message", err)
		}
		if acc.Choices[0].Message.Content != "Hel" {
			t.Errorf("content before the error: %q", acc.Choices[0].Message.Content)
		}
	})

	t.Run("models from the whitelist", func(t *testing.T) {
		g := g.at(t)
		up := openAIUpstream(t)
		c := openaiSDK(g, first(g.newClient(openAIClient(up, client{"model_whitelist": []string{"gpt-4o", "gpt-4o-mini"}, "default_model": "gpt-4o"}))))
		page, err := c.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ids := modelIDs(page.Data); !slices.Equal(ids, []string{"gpt-4o", "gpt-4o-mini"}) {
			t.Errorf("models %v", ids)
		}
		if len(up.Requests()) != 0 {
			t.Error("the backend was asked although the whitelist answers")
		}
		m, err := c.Models.Get(ctx, "gpt-4o-mini")
		if err != nil || m.ID != "gpt-4o-mini" || m.Object != "model" {
			t.Errorf("get: %+v %v", m, err)
		}
		_, err = c.Models.Get(ctx, "o3")
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("a model outside the whitelist: %v, want 404", err)
		}
	})

	t.Run("models fetched from the backend", func(t *testing.T) {
		g := g.at(t)
		up := openAIUpstream(t)
		c := openaiSDK(g, first(g.newClient(openAIClient(up, nil))))
		for range 2 {
			page, err := c.Models.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ids := modelIDs(page.Data); !slices.Equal(ids, []string{"up-a", "up-b"}) {
				t.Errorf("models %v", ids)
			}
		}
		if n := len(up.Requests()); n != 1 || up.Last(t).Path != "/v1/models" {
			t.Errorf("the backend's model list was fetched %d times, want once (then cached)", n)
		}
		if m, err := c.Models.Get(ctx, "up-b"); err != nil || m.ID != "up-b" {
			t.Errorf("get: %+v %v", m, err)
		}
		_, err := c.Models.Get(ctx, "up-z")
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("a model the backend does not list: %v, want 404", err)
		}
	})
}

func modelIDs(ms []openai.Model) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// first is the first of two results (a client's key, without its id).
func first[A, B any](a A, _ B) A { return a }
