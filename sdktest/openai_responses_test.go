package sdktest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// The official openai-go Responses client against the gateway on translated backends: a
// streamed answer with a function tool (parallel calls), the tool results sent back by
// previous_response_id, and the stored response read back and deleted.
func TestOpenAIResponsesSDK(t *testing.T) {
	backends := []struct {
		name, backend, model string
		reply                func(w http.ResponseWriter, r *http.Request, body []byte)
		// resultTurn is what the upstream must have upstreamtest.Request in the tool-result turn.
		resultTurn []string
	}{
		{"Anthropic backend", "anthropic", "claude-sonnet-4-5", func(w http.ResponseWriter, r *http.Request, body []byte) {
			if hasToolResults(body) {
				upstreamtest.WriteJSON(w, 200, anthropicMessage("claude-sonnet-4-5", "Sunny, and 14:00."))
				return
			}
			upstreamtest.WriteSSE(w, anthropicParallelTools("claude-sonnet-4-5")...)
		}, []string{`"tool_use_id":"toolu_01"`, `"tool_use_id":"toolu_02"`, `"Checking both."`, `"weather in Paris and time in Rome?"`}},
		{"Gemini backend", "gemini", "gemini-2.5-flash", func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), "functionResponse") {
				upstreamtest.WriteJSON(w, 200, geminiResponse("Sunny, and 14:00."))
				return
			}
			upstreamtest.WriteSSE(w, geminiParallelTools()...)
		}, []string{`"functionResponse"`, `"thoughtSignature":"c2lnLXdlYXRoZXI="`, `"weather in Paris and time in Rome?"`}},
	}
	g := startGateway(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, b.reply)
			key, _ := g.newClient(client{"backend": b.backend, "base_url": up.URL, "upstream_key": upstreamSecret, "default_model": b.model})
			c := openaiSDK(g, key)
			ctx := context.Background()
			tools := []responses.ToolUnionParam{
				{OfFunction: &responses.FunctionToolParam{Name: "get_weather", Strict: openai.Bool(true),
					Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
						"required": []string{"city"}, "additionalProperties": false}}},
				{OfFunction: &responses.FunctionToolParam{Name: "get_time", Strict: openai.Bool(true),
					Parameters: map[string]any{"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}},
						"required": []string{"tz"}, "additionalProperties": false}}},
			}
			stream := c.Responses.NewStreaming(ctx, responses.ResponseNewParams{
				Model: b.model, Tools: tools,
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("weather in Paris and time in Rome?")},
			})
			var text strings.Builder
			var final responses.Response
			var seq []int64
			for stream.Next() {
				ev := stream.Current()
				seq = append(seq, ev.SequenceNumber)
				switch ev.Type {
				case "response.output_text.delta":
					text.WriteString(ev.AsResponseOutputTextDelta().Delta)
				case "response.completed":
					final = ev.AsResponseCompleted().Response
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			for i, s := range seq {
				if s != int64(i) {
					t.Fatalf("sequence numbers %v", seq)
				}
			}
			if text.String() != "Checking both." || final.ID == "" || final.Status != "completed" {
				t.Fatalf("streamed text %q, final %s", text.String(), final.RawJSON())
			}
			var calls []responses.ResponseFunctionToolCall
			for _, it := range final.Output {
				if it.Type == "function_call" {
					calls = append(calls, it.AsFunctionCall())
				}
			}
			if len(calls) != 2 || calls[0].Name != "get_weather" || strings.ReplaceAll(calls[0].Arguments, " ", "") != `{"city":"Paris"}` || calls[1].Name != "get_time" {
				t.Fatalf("calls: %s", final.RawJSON())
			}
			if final.Usage.OutputTokens == 0 || final.Usage.TotalTokens != final.Usage.InputTokens+final.Usage.OutputTokens ||
				final.Usage.InputTokensDetails.CachedTokens != 5 {
				t.Errorf("usage: %s", final.Usage.RawJSON())
			}

			// The tool results, continuing from the stored response.
			results := responses.ResponseInputParam{}
			for _, call := range calls {
				out := responses.ResponseInputItemParamOfFunctionCallOutput("sunny")
				if call.Name == "get_time" {
					out = responses.ResponseInputItemParamOfFunctionCallOutput("14:00")
				}
				out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
				results = append(results, out)
			}
			resp, err := c.Responses.New(ctx, responses.ResponseNewParams{
				Model: b.model, Tools: tools, PreviousResponseID: openai.String(final.ID),
				Input: responses.ResponseNewParamsInputUnion{OfInputItemList: results},
			})
			if err != nil {
				t.Fatalf("tool-result turn: %v", err)
			}
			if resp.OutputText() != "Sunny, and 14:00." || resp.PreviousResponseID != final.ID {
				t.Errorf("tool-result turn answer: %s", resp.RawJSON())
			}
			sent := string(up.Last(t).Body)
			for _, want := range b.resultTurn {
				if !strings.Contains(strings.ReplaceAll(sent, " ", ""), strings.ReplaceAll(want, " ", "")) {
					t.Errorf("the tool-result turn upstream lacks %s: %s", want, sent)
				}
			}

			got, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
			if err != nil || got.OutputText() != "Sunny, and 14:00." {
				t.Fatalf("get: %v", err)
			}
			if err := c.Responses.Delete(ctx, resp.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			_, err = c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
				t.Errorf("get after delete: %v", err)
			}
		})
	}
}
