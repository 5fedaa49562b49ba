package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func encodeForTest(t *testing.T, req *providers.Request) []byte {
	t.Helper()
	g, err := encodeRequest(req)
	if err != nil {
		t.Fatalf("encodeRequest: %v", err)
	}
	return marshal(g)
}

func TestEncodeRequestGolden(t *testing.T) {
	sig := "CiQBcsjafGxVb2dJbGFzdFRob3VnaHQ="
	tests := []struct {
		name string
		req  *providers.Request
	}{
		{
			name: "request_basic",
			req: &providers.Request{
				Model: "gemini-2.5-flash",
				Messages: []providers.Message{
					{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("Injected by the gateway.")}},
					{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("Be brief.")}},
					{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Give me JSON about Paris <&>.")}},
				},
				MaxTokens:        512,
				Temperature:      ptr(0.0),
				TopP:             ptr(0.9),
				TopK:             ptr(40),
				PresencePenalty:  ptr(0.5),
				FrequencyPenalty: ptr(-0.5),
				Seed:             ptr(int64(7)),
				N:                2,
				Stop:             []string{"END", "STOP"},
				ResponseFormat: &providers.ResponseFormat{Type: "json_schema", Name: "city",
					Schema: json.RawMessage(`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}`)},
				ThinkingBudget: 2048,
			},
		},
		{
			// An OpenAI-shaped second turn: the assistant's calls carry only id/name/arguments and the
			// tool messages only tool_call_id; names, signatures and Gemini's own call ids come back
			// from the ids the gateway handed out.
			name: "request_parallel_tools_roundtrip",
			req: &providers.Request{
				Model: "gemini-3-pro-preview",
				Messages: []providers.Message{
					{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Weather in Paris and London?")}},
					{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("")}, ToolCalls: []providers.ToolCall{
						{ID: encodeToolID("AAAAAAAAAAAA", "get_weather", "", sig), Name: "get_weather", Arguments: `{"city": "Paris"}`},
						{ID: encodeToolID("BBBBBBBBBBBB", "get_weather", "fc-2", ""), Name: "get_weather", Arguments: `{"city":"London"}`},
					}},
					{Role: providers.RoleTool, ToolCallID: encodeToolID("AAAAAAAAAAAA", "get_weather", "", sig),
						Content: []providers.Part{providers.TextPart(`{"temp_c": 21, "sky": "clear"}`)}},
					{Role: providers.RoleTool, ToolCallID: encodeToolID("BBBBBBBBBBBB", "get_weather", "fc-2", ""),
						Content: []providers.Part{providers.TextPart("rain, 14°C")}},
					{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("Paris is sunny; London rainy. Checking flights.")},
						ToolCalls: []providers.ToolCall{{ID: "call_from_another_backend", Name: "search_flights", Arguments: ""}}},
					{Role: providers.RoleTool, ToolCallID: "call_from_another_backend", IsError: true,
						Content: []providers.Part{providers.TextPart("service unavailable")}},
					{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("Thanks")}},
				},
				Tools: []providers.Tool{
					{Name: "get_weather", Description: "Current weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)},
					{Name: "search_flights", Description: "Flights"},
				},
				ToolChoice:        &providers.ToolChoice{Mode: providers.ToolChoiceAuto},
				ParallelToolCalls: ptr(true),
			},
		},
		{
			name: "request_images",
			req: &providers.Request{
				Model: "models/gemini-2.5-pro",
				Messages: []providers.Message{
					{Role: providers.RoleUser, Content: []providers.Part{
						providers.TextPart("Compare these."),
						{Type: providers.PartImage, URL: "data:image/png;base64,iVBORw0KGgo="},
						{Type: providers.PartImage, URL: "https://example.com/photos/cat.webp?size=large"},
						{Type: providers.PartImage, URL: "https://example.com/render"},
						{Type: providers.PartImage, URL: "https://generativelanguage.googleapis.com/v1beta/files/abc", MIMEType: "application/pdf"},
						{Type: providers.PartImage, URL: "data:,hello%20world"},
					}},
				},
				ReasoningEffort: "low",
				Extra:           map[string]json.RawMessage{"safetySettings": json.RawMessage(`[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]`), "user": json.RawMessage(`"u1"`)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, pretty(t, encodeForTest(t, tt.req)))
		})
	}
}

// opencode sends ~10 tools whose schemas carry "$schema", exclusiveMinimum and ±2^53 bounds. Under
// parametersJsonSchema only "$schema" may go; everything else must arrive byte for byte.
func TestEncodeRequestAgentSchemas(t *testing.T) {
	var tools []struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(readTestdata(t, "opencode_tools.json"), &tools); err != nil {
		t.Fatal(err)
	}
	req := &providers.Request{Model: "gemini-2.5-flash",
		Messages: []providers.Message{{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("list files")}}}}
	for _, tl := range tools {
		req.Tools = append(req.Tools, providers.Tool{Name: tl.Name, Description: tl.Description, Parameters: tl.Parameters})
	}
	body := encodeForTest(t, req)
	golden(t, "request_opencode_tools", pretty(t, body))

	if bytes.Contains(body, []byte(`$schema`)) {
		t.Errorf("$schema survived: %s", body)
	}
	if bytes.Contains(body, []byte(`"parameters"`)) {
		t.Errorf("schemas must go under parametersJsonSchema, not the OpenAPI-subset parameters: %s", body)
	}
	var g struct {
		Tools []struct {
			FunctionDeclarations []struct {
				Name                 string          `json:"name"`
				ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Tools) != 1 || len(g.Tools[0].FunctionDeclarations) != len(tools) {
		t.Fatalf("want one tool holding %d declarations, got %s", len(tools), body)
	}
	for i, d := range g.Tools[0].FunctionDeclarations {
		// The original minus its first member ("$schema":"…",) must be exactly what was sent.
		orig := string(tools[i].Parameters)
		_, rest, _ := strings.Cut(orig, `draft/2020-12/schema",`)
		if want := "{" + rest; string(d.ParametersJSONSchema) != want {
			t.Errorf("%s: sent\n%s\nwant\n%s", d.Name, d.ParametersJSONSchema, want)
		}
	}
	for _, want := range []string{`"exclusiveMinimum":0`, `"maximum":9007199254740991`, `"minimum":-9007199254740991`, `"additionalProperties":false`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("%s missing from %s", want, body)
		}
	}
}

func TestEncodeToolChoice(t *testing.T) {
	tests := []struct {
		choice *providers.ToolChoice
		want   string
	}{
		{&providers.ToolChoice{Mode: providers.ToolChoiceAuto}, `{"functionCallingConfig":{"mode":"AUTO"}}`},
		{&providers.ToolChoice{Mode: providers.ToolChoiceRequired}, `{"functionCallingConfig":{"mode":"ANY"}}`},
		{&providers.ToolChoice{Mode: providers.ToolChoiceNone}, `{"functionCallingConfig":{"mode":"NONE"}}`},
		{&providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: "get_weather"}, `{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.choice.Mode, func(t *testing.T) {
			g, err := encodeRequest(&providers.Request{Model: "gemini-2.5-flash", ToolChoice: tt.choice})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(marshal(g.ToolConfig)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEncodeThinking(t *testing.T) {
	tests := []struct {
		model  string
		effort string
		budget int
		want   string
	}{
		{"gemini-2.5-flash", "", 0, `null`},
		{"gemini-2.5-flash", "", 3000, `{"includeThoughts":true,"thinkingBudget":3000}`},
		{"gemini-3-pro-preview", "", 3000, `{"includeThoughts":true,"thinkingBudget":3000}`},
		{"gemini-2.5-flash", "none", 0, `{"includeThoughts":false,"thinkingBudget":0}`},
		{"gemini-2.5-flash", "minimal", 0, `{"includeThoughts":true,"thinkingBudget":1024}`},
		{"gemini-2.5-flash", "low", 0, `{"includeThoughts":true,"thinkingBudget":1024}`},
		{"gemini-2.5-flash", "medium", 0, `{"includeThoughts":true,"thinkingBudget":8192}`},
		{"gemini-2.5-pro", "HIGH", 0, `{"includeThoughts":true,"thinkingBudget":24576}`},
		{"gemini-3-pro-preview", "low", 0, `{"includeThoughts":true,"thinkingLevel":"low"}`},
		{"gemini-3-flash-preview", "minimal", 0, `{"includeThoughts":true,"thinkingLevel":"low"}`},
		{"gemini-3-flash-preview", "medium", 0, `{"includeThoughts":true,"thinkingLevel":"high"}`},
		{"models/gemini-3-pro", "high", 0, `{"includeThoughts":true,"thinkingLevel":"high"}`},
		{"gemini-flash-latest", "high", 0, `{"includeThoughts":true,"thinkingLevel":"high"}`},
		{"gemini-2.5-flash", "turbo", 0, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.effort, func(t *testing.T) {
			got := string(marshal(thinkingConfig(&providers.Request{ReasoningEffort: tt.effort, ThinkingBudget: tt.budget}, modelName(tt.model))))
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIsGemini3Plus(t *testing.T) {
	for model, want := range map[string]bool{
		"gemini-3-pro-preview": true, "models/gemini-3-flash": true, "gemini-4.0-ultra": true, "gemini-10-x": true,
		"gemini-pro-latest": true, "gemini-2.5-flash": false, "gemini-2.0-flash-lite": false, "gemini-1.5-pro": false,
		"gemma-3-27b-it": false, "gemini-exp-1206": false, "learnlm-2.0": false, "": false,
	} {
		if got := isGemini3Plus(model); got != want {
			t.Errorf("isGemini3Plus(%q) = %v, want %v", model, got, want)
		}
	}
}

// The dummy signature goes only on the first functionCall part of a model turn, only for Gemini 3,
// and only when no real signature is known.
func TestEncodeDummySignature(t *testing.T) {
	history := func(model string, first providers.ToolCall) *providers.Request {
		return &providers.Request{Model: model, Messages: []providers.Message{
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("go")}},
			{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{first, {ID: "b", Name: "g", Arguments: "{}"}}},
			{Role: providers.RoleTool, ToolCallID: first.ID, Content: []providers.Part{providers.TextPart("1")}},
			{Role: providers.RoleTool, ToolCallID: "b", Content: []providers.Part{providers.TextPart("2")}},
		}}
	}
	tests := []struct {
		name  string
		req   *providers.Request
		first string
	}{
		{"gemini3 without signature", history("gemini-3-pro-preview", providers.ToolCall{ID: "a", Name: "f"}), dummySignature},
		{"gemini2.5 without signature", history("gemini-2.5-flash", providers.ToolCall{ID: "a", Name: "f"}), ""},
		{"gemini3 with signature", history("gemini-3-pro-preview", providers.ToolCall{ID: "a", Name: "f", Signature: "c2ln"}), "c2ln"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := encodeRequest(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			parts := g.Contents[1].Parts
			if parts[0].ThoughtSignature != tt.first {
				t.Errorf("first call signature %q, want %q", parts[0].ThoughtSignature, tt.first)
			}
			if parts[1].ThoughtSignature != "" {
				t.Errorf("second call got signature %q", parts[1].ThoughtSignature)
			}
			if len(g.Contents) != 3 || len(g.Contents[2].Parts) != 2 || g.Contents[2].Role != "user" {
				t.Errorf("tool results must share one user turn: %s", marshal(g.Contents))
			}
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		msgs []providers.Message
		want string
	}{
		{"unknown role", []providers.Message{{Role: "narrator"}}, `unsupported role "narrator"`},
		{"orphan tool result", []providers.Message{{Role: providers.RoleTool, ToolCallID: "call_x", Content: []providers.Part{providers.TextPart("1")}}},
			`answers no earlier tool call`},
		{"arguments not an object", []providers.Message{{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "a", Name: "f", Arguments: `[1,2]`}}}},
			`arguments are not a JSON object`},
		{"truncated arguments", []providers.Message{{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "a", Name: "f", Arguments: `{"city":"Par`}}}},
			`arguments are not a JSON object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encodeRequest(&providers.Request{Model: "gemini-2.5-flash", Messages: tt.msgs})
			e, ok := err.(*providers.Error)
			if !ok || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("got %#v, want a bad request containing %q", err, tt.want)
			}
		})
	}
}

func TestToolIDRoundTrip(t *testing.T) {
	tests := []struct{ name, upstreamID, sig string }{
		{"get_weather", "", ""},
		{"get_weather", "", "CiQBcsjafGxVb2dJbGFzdFRob3VnaHQ="},
		{"mcp__server__do_thing", "fc-123", dummySignature},
		{"名前", "x", "not base64 at all!"},
		{"f", "", strings.Repeat("QUJD", 800)},
	}
	for _, tt := range tests {
		id := encodeToolID("abcDEF123456", tt.name, tt.upstreamID, tt.sig)
		if !strings.HasPrefix(id, "call_abcDEF123456") {
			t.Errorf("id %q lacks its prefix", id)
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				t.Fatalf("id %q has character %q outside [A-Za-z0-9_-]", id, r)
			}
		}
		name, uid, sig, ok := decodeToolID(id)
		if !ok || name != tt.name || uid != tt.upstreamID || sig != tt.sig {
			t.Errorf("decode(%q) = %q %q %q %v, want %q %q %q", id, name, uid, sig, ok, tt.name, tt.upstreamID, tt.sig)
		}
	}
	for _, foreign := range []string{"", "call_abc", "call_9xG7s2PqLm4vN8rT1wY6zK3b", "toolu_01A09q90qw90lq917835lq9",
		"call_abcDEF123456" + "AAAAAAAAAAAA", truncated(encodeToolID("abcDEF123456", "f", "", ""))} {
		if _, _, _, ok := decodeToolID(foreign); ok {
			t.Errorf("foreign id %q decoded", foreign)
		}
	}
	// Flipping any payload character must be caught by the checksum (or the base64 decoder).
	id := encodeToolID("abcDEF123456", "get_weather", "", "c2lnbmF0dXJl")
	for i := len("call_abcDEF123456"); i < len(id); i++ {
		b := []byte(id)
		b[i] ^= 1
		// Flipping the unused low bits of the last base64 character leaves the bytes unchanged.
		if name, uid, sig, ok := decodeToolID(string(b)); ok && (name != "get_weather" || uid != "" || sig != "c2lnbmF0dXJl") {
			t.Errorf("corrupted id %q decoded to %q %q %q", b, name, uid, sig)
		}
	}
}

func truncated(s string) string { return s[:len(s)-3] }
