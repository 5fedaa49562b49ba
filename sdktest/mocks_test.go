package sdktest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// Hand-written wire formats of the Anthropic and Gemini upstreams (reference/protocols.md §1.2,
// §1.3), shared by the SDK tests.

// event frames one Anthropic SSE event.
func event(name, payload string) string { return "event: " + name + "\ndata: " + payload + "\n\n" }

// anthropicText is a whole streamed Anthropic answer of one text block.
func anthropicText(model string, pieces ...string) []string {
	evs := []string{
		event("message_start", `{"type":"message_start","message":{"id":"msg_t","type":"message","role":"assistant","model":"`+model+
			`","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}`),
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
		event("ping", `{"type":"ping"}`),
	}
	for _, p := range pieces {
		evs = append(evs, event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+quote(p)+`}}`))
	}
	return append(evs,
		event("content_block_stop", `{"type":"content_block_stop","index":0}`),
		event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}`),
		event("message_stop", `{"type":"message_stop"}`))
}

// anthropicParallelTools is a streamed Anthropic answer: a text block, then two tool_use blocks
// whose input arrives as input_json_delta fragments (the first one empty, as Anthropic sends).
// Usage: 21 input + 5 read from the cache, 40 output.
func anthropicParallelTools(model string) []string {
	return []string{
		event("message_start", `{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"`+model+
			`","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":21,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":5}}}`),
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking both."}}`),
		event("content_block_stop", `{"type":"content_block_stop","index":0}`),
		event("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}`),
		event("content_block_stop", `{"type":"content_block_stop","index":1}`),
		event("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_time","input":{}}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"tz\":"}}`),
		event("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" \"Europe/Rome\"}"}}`),
		event("content_block_stop", `{"type":"content_block_stop","index":2}`),
		event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":40}}`),
		event("message_stop", `{"type":"message_stop"}`),
	}
}

// anthropicMessage is a complete Anthropic answer with usage (12 input + 5 cached, 7 output).
func anthropicMessage(model, text string) string {
	return `{"id":"msg_02","type":"message","role":"assistant","model":"` + model + `","content":[{"type":"text","text":` + quote(text) +
		`}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":7,` +
		`"cache_creation_input_tokens":0,"cache_read_input_tokens":5}}`
}

// geminiChunk frames one Gemini SSE chunk the way Google does (CRLF).
func geminiChunk(payload string) string { return "data: " + payload + "\r\n\r\n" }

// geminiText is a streamed Gemini answer of text pieces.
func geminiText(pieces ...string) []string {
	var evs []string
	for i, p := range pieces {
		fin := ""
		if i == len(pieces)-1 {
			fin = `,"finishReason":"STOP"`
		}
		evs = append(evs, geminiChunk(`{"candidates":[{"content":{"role":"model","parts":[{"text":`+quote(p)+`}]}`+fin+`,"index":0}],`+
			`"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":9,"totalTokenCount":59},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`))
	}
	return evs
}

// geminiParallelTools is a streamed Gemini answer: text, then both function calls whole in one
// chunk (the first with a thought signature), finishing with STOP as Gemini does for tool calls.
// Usage: 21 prompt (5 cached), 40 candidates + 4 thoughts.
func geminiParallelTools() []string {
	return []string{
		geminiChunk(`{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking both."}]},"index":0}],` +
			`"usageMetadata":{"promptTokenCount":21,"candidatesTokenCount":3,"totalTokenCount":24},"modelVersion":"gemini-2.5-flash","responseId":"r2"}`),
		geminiChunk(`{"candidates":[{"content":{"role":"model","parts":[` +
			`{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnLXdlYXRoZXI="},` +
			`{"functionCall":{"name":"get_time","args":{"tz":"Europe/Rome"}}}]},"finishReason":"STOP","index":0}],` +
			`"usageMetadata":{"promptTokenCount":21,"candidatesTokenCount":40,"thoughtsTokenCount":4,"cachedContentTokenCount":5,"totalTokenCount":65},` +
			`"modelVersion":"gemini-2.5-flash","responseId":"r2"}`),
	}
}

// geminiResponse is a complete Gemini answer (8 prompt tokens, 2 cached; 6 + 4 thoughts out).
func geminiResponse(text string) string {
	return `{"candidates":[{"content":{"role":"model","parts":[{"text":` + quote(text) + `}]},"finishReason":"STOP","index":0}],` +
		`"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":6,"thoughtsTokenCount":4,"cachedContentTokenCount":2,"totalTokenCount":18},` +
		`"modelVersion":"gemini-2.5-flash","responseId":"r3"}`
}

// geminiModels is GET /v1beta/models: two pages.
func geminiModels(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("pageToken") == "" {
		upstreamtest.WriteJSON(w, 200, `{"models":[{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","supportedGenerationMethods":["generateContent","countTokens"]}],"nextPageToken":"p2"}`)
		return
	}
	upstreamtest.WriteJSON(w, 200, `{"models":[{"name":"models/gemini-2.5-pro","displayName":"Gemini 2.5 Pro","supportedGenerationMethods":["generateContent"]}]}`)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hasToolResults reports whether a request body carries tool results in any protocol.
func hasToolResults(body []byte) bool {
	s := string(body)
	return strings.Contains(s, `"tool_result"`) || strings.Contains(s, `"functionResponse"`) || strings.Contains(s, `"role":"tool"`)
}

// jsonMarshal is json.Marshal without HTML escaping, so "<" reads as itself in assertions.
func jsonMarshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return []byte(strings.TrimSuffix(b.String(), "\n")), err
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
