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
