package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestDecodeRequestGolden(t *testing.T) {
	req, err := DecodeRequest("models/gemini-2.5-flash", readTestdata(t, "decode_genai.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "decode_genai_canonical", dump(t, req))

	// What the backends depend on, stated outright.
	if req.Model != "gemini-2.5-flash" || req.Messages[0].Role != providers.RoleSystem || req.Messages[0].Text() != "You are a travel assistant.Answer in English." {
		t.Errorf("model/system: %q %+v", req.Model, req.Messages[0])
	}
	asst := req.Messages[2]
	if asst.Role != providers.RoleAssistant || asst.Reasoning != "The photo shows the Eiffel Tower." || len(asst.ToolCalls) != 2 ||
		asst.ToolCalls[0].Signature != "U0lHLTE=" || asst.ToolCalls[1].Arguments != `{"city":"Lyon","days":2}` {
		t.Errorf("assistant: %+v", asst)
	}
	// Responses without ids are linked to the calls of the same name, in order.
	if r1, r2 := req.Messages[3], req.Messages[4]; r1.ToolCallID != asst.ToolCalls[0].ID || r2.ToolCallID != asst.ToolCalls[1].ID ||
		r1.Text() != "sunny, 24°C" || r2.Text() != `{"temp_c":19,"sky":"cloudy"}` {
		t.Errorf("tool results: %+v / %+v", r1, r2)
	}
	if r := req.Messages[6]; r.ToolCallID != "fc-77" || !r.IsError || r.Text() != "fully booked" {
		t.Errorf("error result: %+v", r)
	}
	if last := req.Messages[7]; last.Role != providers.RoleUser || last.Text() != "Never mind, thanks." {
		t.Errorf("text after the function response: %+v", last)
	}
	if got := string(req.Tools[1].Parameters); got != `{"type":"object","properties":{"restaurant":{"type":"string","description":"Name"},"guests":{"type":["integer","null"],"format":"int32"},"tags":{"type":"array","items":{"type":"string","enum":["quiet","view"]},"minItems":1}},"required":["restaurant"]}` {
		t.Errorf("OpenAPI parameters converted to %s", got)
	}
	if len(req.Tools) != 2 {
		t.Errorf("googleSearch has no canonical form and must be skipped: %d tools", len(req.Tools))
	}
	if req.ToolChoice == nil || req.ToolChoice.Mode != providers.ToolChoiceTool || req.ToolChoice.Name != "get_weather" {
		t.Errorf("tool choice %+v", req.ToolChoice)
	}
}

// Google's parser takes snake_case field names too (the REST docs' curl examples use them).
func TestDecodeRequestSnakeCase(t *testing.T) {
	snake, err := DecodeRequest("gemini-2.5-flash", readTestdata(t, "decode_snake.json"))
	if err != nil {
		t.Fatal(err)
	}
	camel, err := DecodeRequest("gemini-2.5-flash", readTestdata(t, "decode_camel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s, c := dump(t, snake), dump(t, camel); !bytes.Equal(s, c) {
		t.Errorf("snake_case decoded differently:\n%s\ncamelCase:\n%s", s, c)
	}
	golden(t, "decode_camel_canonical", dump(t, camel))
	if camel.MaxTokens != 256 || camel.N != 2 || camel.ReasoningEffort != "high" || camel.ResponseFormat.Type != "json_schema" ||
		camel.ToolChoice.Mode != providers.ToolChoiceRequired || string(camel.Extra["cachedContent"]) != `"cachedContents/abc"` {
		t.Errorf("%s", dump(t, camel))
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"syntax", `{"contents":[`, "invalid JSON payload: unexpected end of JSON input"},
		{"wrong type", `{"contents":"hello"}`, "invalid JSON payload: contents: cannot use a JSON string here"},
		{"nested wrong type", `{"contents":[{"parts":[{"text":5}]}]}`, "contents.parts.text: cannot use a JSON number here"},
		{"max tokens not a number", `{"generationConfig":{"maxOutputTokens":"lots"}}`, "invalid JSON payload"},
		{"args not an object", `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":[1]}}]}]}`, "functionCall.args must be an object"},
		{"bad thinking level", `{"generationConfig":{"thinkingConfig":{"thinkingLevel":"EXTREME"}}}`, `unknown level "EXTREME"`},
		{"schema too deep", `{"tools":[{"functionDeclarations":[{"name":"f","parameters":` + strings.Repeat(`{"items":`, 300) + `{}` + strings.Repeat(`}`, 300) + `}]}]}`,
			"nested deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRequest("m", []byte(tt.body))
			e, ok := err.(*providers.Error)
			if !ok || e.Kind != providers.KindBadRequest || e.Status() != 400 || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("got %#v, want a 400 containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeCountTokensRequest(t *testing.T) {
	for _, body := range []string{
		`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
		`{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"sys"}]}}}`,
		`{"generate_content_request":{"model":"models/gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"hi"}]}],"system_instruction":{"parts":[{"text":"sys"}]}}}`,
	} {
		req, err := DecodeCountTokensRequest("gemini-2.5-flash", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		last := req.Messages[len(req.Messages)-1]
		if last.Text() != "hi" || (strings.Contains(body, "sys") && req.Messages[0].Text() != "sys") {
			t.Errorf("%s → %s", body, dump(t, req))
		}
	}
	if got := string(EncodeCountTokensResponse(42)); got != `{"totalTokens":42}` {
		t.Errorf("got %s", got)
	}
}

// A canonical request survives encode (backend) → decode (front door) with what matters intact.
func TestRequestRoundTrip(t *testing.T) {
	in := &providers.Request{
		Model: "gemini-2.5-flash",
		Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("sys")}},
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("hi"), {Type: providers.PartImage, URL: "data:image/png;base64,iVBO", MIMEType: "image/png"}}},
			{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "a", Name: "f", Arguments: `{"x":1}`, Signature: "U0lH"}, {ID: "b", Name: "f", Arguments: `{"x":2}`}}},
			{Role: providers.RoleTool, ToolCallID: "a", ToolName: "f", Content: []providers.Part{providers.TextPart("one")}},
			{Role: providers.RoleTool, ToolCallID: "b", ToolName: "f", Content: []providers.Part{providers.TextPart("two")}},
		},
		Tools:      []providers.Tool{{Name: "f", Description: "d", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ToolChoice: &providers.ToolChoice{Mode: providers.ToolChoiceRequired},
		MaxTokens:  100, Temperature: ptr(0.5), Stop: []string{"s"},
		ResponseFormat: &providers.ResponseFormat{Type: "json_object"},
	}
	out, err := DecodeRequest(in.Model, encodeForTest(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 5 || out.Messages[2].ToolCalls[0].Signature != "U0lH" || out.Messages[2].ToolCalls[1].Arguments != `{"x":2}` ||
		out.Messages[3].ToolCallID != out.Messages[2].ToolCalls[0].ID || out.Messages[4].ToolCallID != out.Messages[2].ToolCalls[1].ID ||
		out.Messages[4].Text() != "two" || out.Messages[1].Content[1].URL != "data:image/png;base64,iVBO" {
		t.Errorf("%s", dump(t, out.Messages))
	}
	if out.MaxTokens != 100 || *out.Temperature != 0.5 || out.Stop[0] != "s" || out.ResponseFormat.Type != "json_object" ||
		out.ToolChoice.Mode != providers.ToolChoiceRequired || string(out.Tools[0].Parameters) != `{"type":"object"}` {
		t.Errorf("%s", dump(t, out))
	}
}

func TestEncodeResponseGolden(t *testing.T) {
	tests := []struct {
		name string
		resp *providers.Response
	}{
		{"encode_response_tools", &providers.Response{
			ID: "chatcmpl-123", Model: "gpt-4o-mini", Created: 1700000000,
			Choices: []providers.Choice{{Message: providers.Message{
				Role:      providers.RoleAssistant,
				Reasoning: "Two cities, two calls.",
				Content:   []providers.Part{providers.TextPart("Checking <both> & more.")},
				ToolCalls: []providers.ToolCall{
					{ID: "call_abc", Name: "get_weather", Arguments: `{"city": "Paris"}`, Signature: "U0lH"},
					{ID: "toolu_01", Name: "get_weather", Arguments: `{"city":"London"}`, Signature: "not*base64"},
					{ID: "call_x", Name: "noop", Arguments: ``},
				},
			}, FinishReason: providers.FinishToolCalls}},
			Usage: providers.Usage{InputTokens: 100, OutputTokens: 50, CachedTokens: 20, ReasoningTokens: 10},
		}},
		{"encode_response_filtered", &providers.Response{
			ID: "msg_1", Model: "claude-sonnet-4-5",
			Choices: []providers.Choice{{Message: providers.Message{Role: providers.RoleAssistant}, FinishReason: providers.FinishContentFilter},
				{Index: 1, Message: providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("cut")}}, FinishReason: providers.FinishLength}},
			Usage: providers.Usage{InputTokens: 7},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, pretty(t, EncodeResponse(tt.resp)))
		})
	}
}

// sseChunks splits SSE output into its data payloads, failing on any framing error.
func sseChunks(t *testing.T, out []byte) []gResponse {
	t.Helper()
	if !bytes.HasSuffix(out, []byte("\r\n\r\n")) {
		t.Fatalf("SSE output does not end with a blank line: %q", out)
	}
	var chunks []gResponse
	for _, ev := range strings.Split(strings.TrimSuffix(string(out), "\r\n\r\n"), "\r\n\r\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("bad SSE event %q", ev)
		}
		var r gResponse
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			t.Fatalf("chunk is not a GenerateContentResponse: %v\n%s", err, data)
		}
		chunks = append(chunks, r)
	}
	return chunks
}

// OpenAI-shaped events: text deltas, then two parallel calls whose arguments arrive in fragments.
func openAIEvents() []providers.StreamEvent {
	return []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "chatcmpl-9", Model: "gpt-4o-mini"},
		{Kind: providers.EventText, Text: ""},
		{Kind: providers.EventText, Text: "Let me "},
		{Kind: providers.EventText, Text: "check \"both\".\n"},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "call_a", ToolName: "get_weather", Args: ""},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"ci`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `ty": "Par`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `is"}`},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "call_b", ToolName: "get_weather", Args: ""},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `{"city":`},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `"London"}`},
		{Kind: providers.EventFinish, FinishReason: providers.FinishToolCalls},
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 30, OutputTokens: 12, ReasoningTokens: 2}},
	}
}

func encodeStream(model string, sse bool, evs []providers.StreamEvent) []byte {
	e := NewStreamEncoder(model, sse)
	var out []byte
	for _, ev := range evs {
		out = e.Encode(out, ev)
	}
	return e.Finish(out)
}

func TestStreamEncoderSSE(t *testing.T) {
	out := encodeStream("models/gpt-4o-mini", true, openAIEvents())
	golden(t, "stream_encode_sse", out)

	chunks := sseChunks(t, out)
	var text strings.Builder
	var calls []*gFunctionCall
	for i, c := range chunks {
		if c.ResponseID != "chatcmpl-9" || c.ModelVersion != "gpt-4o-mini" {
			t.Errorf("chunk %d: id %q model %q", i, c.ResponseID, c.ModelVersion)
		}
		if i < len(chunks)-1 && (c.UsageMetadata != nil || c.Candidates[0].FinishReason != "") {
			t.Errorf("chunk %d carries finish or usage before the last chunk", i)
		}
		for _, p := range c.Candidates[0].Content.Parts {
			text.WriteString(p.Text)
			if p.FunctionCall != nil {
				calls = append(calls, p.FunctionCall)
			}
		}
	}
	if text.String() != "Let me check \"both\".\n" {
		t.Errorf("text %q", text.String())
	}
	if len(calls) != 2 || string(calls[0].Args) != `{"city":"Paris"}` || string(calls[1].Args) != `{"city":"London"}` ||
		calls[0].ID != "call_a" || calls[1].Name != "get_weather" {
		t.Errorf("calls %s", marshal(calls))
	}
	last := chunks[len(chunks)-1]
	if last.Candidates[0].FinishReason != "STOP" || *last.UsageMetadata != (gUsage{PromptTokenCount: 30, CandidatesTokenCount: 10, ThoughtsTokenCount: 2, TotalTokenCount: 42}) {
		t.Errorf("last chunk %s", marshal(last))
	}
}

func TestStreamEncoderJSONArray(t *testing.T) {
	out := encodeStream("gpt-4o-mini", false, openAIEvents())
	golden(t, "stream_encode_array", out)
	var chunks []gResponse
	if err := json.Unmarshal(out, &chunks); err != nil {
		t.Fatalf("not a JSON array of responses: %v\n%s", err, out)
	}
	if len(chunks) != 5 {
		t.Errorf("%d chunks, want 5 (2 text, 2 calls, last)", len(chunks))
	}
	if got := string(chunks[3].Candidates[0].Content.Parts[0].FunctionCall.Args); got != `{"city":"London"}` {
		t.Errorf("second call args %s", got)
	}
	// An empty stream is still a valid array with a final chunk.
	empty := encodeStream("m", false, nil)
	if err := json.Unmarshal(empty, &chunks); err != nil || len(chunks) != 1 || chunks[0].Candidates[0].FinishReason != "STOP" {
		t.Errorf("empty stream %s", empty)
	}
}

// Anthropic-shaped events: thinking first, a call with an empty first fragment, and text after it.
// Calls of a Gemini-shaped source (whole args on the first event) pass through too.
func TestStreamEncoderToolBuffering(t *testing.T) {
	evs := []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "msg_1", Model: "claude"},
		{Kind: providers.EventReasoning, Text: "thinking…"},
		{Kind: providers.EventReasoning, Signature: "anthropic-sig"},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "toolu_1", ToolName: "read", Args: ""},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: ""},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"path":"/a"}`},
		{Kind: providers.EventText, Text: "Reading."},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "call_g", ToolName: "list", Args: `{"dir":"/"}`, Signature: "U0lH"},
		{Kind: providers.EventToolCall, ToolIndex: 2, ToolID: "toolu_3", ToolName: "cut", Args: `{"partial":`},
		{Kind: providers.EventFinish, FinishReason: providers.FinishLength},
	}
	out := encodeStream("claude", true, evs)
	chunks := sseChunks(t, out)
	var got []string
	for _, c := range chunks {
		for _, p := range c.Candidates[0].Content.Parts {
			switch {
			case p.FunctionCall != nil:
				got = append(got, "call "+p.FunctionCall.Name+" "+string(p.FunctionCall.Args)+" sig="+p.ThoughtSignature)
			case p.Thought:
				got = append(got, "thought "+p.Text)
			case p.Text != "":
				got = append(got, "text "+p.Text)
			}
		}
		if c.Candidates[0].FinishReason != "" {
			got = append(got, "finish "+c.Candidates[0].FinishReason)
		}
	}
	want := []string{"thought thinking…", "call read {\"path\":\"/a\"} sig=", "text Reading.", "call list {\"dir\":\"/\"} sig=U0lH",
		"call cut {} sig=", "finish MAX_TOKENS"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStreamEncoderError(t *testing.T) {
	upstream := &providers.Error{Kind: providers.KindUpstream, HTTPStatus: 503, Message: "overloaded"}
	for _, sse := range []bool{true, false} {
		e := NewStreamEncoder("m", sse)
		out := e.Encode(nil, providers.StreamEvent{Kind: providers.EventText, Text: "partial"})
		out = e.EncodeError(out, upstream)
		if again := e.Finish(nil); len(again) != 0 {
			t.Errorf("Finish after an error wrote %q", again)
		}
		if sse {
			want := "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"partial\"}]},\"index\":0}],\"modelVersion\":\"m\"}\r\n\r\n" +
				"data: {\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n"
			if string(out) != want {
				t.Errorf("SSE error stream\n%q\nwant\n%q", out, want)
			}
			continue
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(out, &arr); err != nil || len(arr) != 2 || string(arr[1]) != `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}` {
			t.Errorf("JSON-array error stream %s (%v)", out, err)
		}
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err  *providers.Error
		want string
	}{
		{providers.Errorf(providers.KindBadRequest, "bad \"thing\""), `{"error":{"code":400,"message":"bad \"thing\"","status":"INVALID_ARGUMENT"}}`},
		{providers.Errorf(providers.KindAuth, "invalid API key"), `{"error":{"code":401,"message":"invalid API key","status":"UNAUTHENTICATED"}}`},
		{providers.Errorf(providers.KindPermission, "model not allowed"), `{"error":{"code":403,"message":"model not allowed","status":"PERMISSION_DENIED"}}`},
		{providers.Errorf(providers.KindNotFound, "no such model"), `{"error":{"code":404,"message":"no such model","status":"NOT_FOUND"}}`},
		{providers.Errorf(providers.KindTooLarge, "too large"), `{"error":{"code":413,"message":"too large","status":"INVALID_ARGUMENT"}}`},
		{providers.Errorf(providers.KindRateLimited, "slow down"), `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`},
		{providers.Errorf(providers.KindInternal, "oops"), `{"error":{"code":500,"message":"oops","status":"INTERNAL"}}`},
		{providers.Errorf(providers.KindUnavailable, "unreachable"), `{"error":{"code":502,"message":"unreachable","status":"UNAVAILABLE"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 503, Message: "busy"}, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`},
		{providers.Errorf(providers.KindTimeout, "timed out"), `{"error":{"code":504,"message":"timed out","status":"DEADLINE_EXCEEDED"}}`},
		{providers.UpstreamError("gemini", 400, "precondition", "FAILED_PRECONDITION", "FAILED_PRECONDITION", ""), `{"error":{"code":400,"message":"precondition","status":"FAILED_PRECONDITION"}}`},
		{providers.UpstreamError("openai", 400, "bad", "invalid_request_error", "x", ""), `{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}`},
	}
	for _, tt := range tests {
		if got := string(EncodeError(tt.err)); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestEncodeModels(t *testing.T) {
	models := []providers.Model{{ID: "gpt-4o", OwnedBy: "openai"}, {ID: "models/gemini-2.5-flash", DisplayName: "Gemini 2.5 Flash"}}
	golden(t, "encode_models", pretty(t, EncodeModels(models)))
	if got := string(EncodeModel(models[0])); got != `{"name":"models/gpt-4o","baseModelId":"gpt-4o","displayName":"gpt-4o","supportedGenerationMethods":["generateContent","countTokens"]}` {
		t.Errorf("EncodeModel: %s", got)
	}
	if got := string(EncodeModels(nil)); got != `{"models":[]}` {
		t.Errorf("no models: %s", got)
	}
}

func TestEncodeStreamError(t *testing.T) {
	got := string(EncodeStreamError([]byte("x"), providers.Errorf(providers.KindTimeout, "upstream timed out")))
	if want := "x" + `data: {"error":{"code":504,"message":"upstream timed out","status":"DEADLINE_EXCEEDED"}}` + "\r\n\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
