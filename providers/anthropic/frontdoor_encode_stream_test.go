package anthropic

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// encodeAll runs events through a StreamEncoder and finishes it.
func encodeAll(id, model string, evs ...providers.StreamEvent) string {
	e := NewStreamEncoder(id, model)
	var out []byte
	for _, ev := range evs {
		out = e.Encode(out, ev)
	}
	return string(e.Finish(out))
}

type sseEvent struct {
	name string
	data map[string]any
	raw  string
}

// parseSSE splits encoder output into events and checks the framing and the block structure a
// Messages client relies on: data is JSON whose type is the event name; message_start and ping
// first, message_delta and message_stop last; block indices contiguous from 0; every block
// started, then stopped, one at a time.
func parseSSE(t *testing.T, out string) []sseEvent {
	t.Helper()
	if !strings.HasSuffix(out, "\n\n") {
		t.Fatalf("output does not end with a blank line: %q", out)
	}
	var evs []sseEvent
	for _, chunk := range strings.Split(strings.TrimSuffix(out, "\n\n"), "\n\n") {
		name, data, ok := strings.Cut(chunk, "\ndata: ")
		if !ok || !strings.HasPrefix(name, "event: ") || strings.Contains(data, "\n") {
			t.Fatalf("bad event framing: %q", chunk)
		}
		name = strings.TrimPrefix(name, "event: ")
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("event %s data is not JSON: %v: %s", name, err, data)
		}
		if m["type"] != name {
			t.Fatalf("event %s has data type %v", name, m["type"])
		}
		evs = append(evs, sseEvent{name, m, data})
	}
	if len(evs) < 4 || evs[0].name != "message_start" || evs[1].name != "ping" ||
		evs[len(evs)-2].name != "message_delta" || evs[len(evs)-1].name != "message_stop" {
		t.Fatalf("stream frame wrong: %v", names(evs))
	}
	open, next := -1, 0
	for _, ev := range evs {
		idx := -1
		if f, ok := ev.data["index"].(float64); ok {
			idx = int(f)
		}
		switch ev.name {
		case "content_block_start":
			if open != -1 || idx != next {
				t.Fatalf("block %d starts while %d is open / next is %d: %v", idx, open, next, names(evs))
			}
			open, next = idx, next+1
		case "content_block_delta":
			if idx != open {
				t.Fatalf("delta for block %d while %d is open", idx, open)
			}
		case "content_block_stop":
			if idx != open {
				t.Fatalf("stop for block %d while %d is open", idx, open)
			}
			open = -1
		}
	}
	if open != -1 {
		t.Fatalf("block %d never stopped", open)
	}
	return evs
}

func names(evs []sseEvent) string {
	var s []string
	for _, ev := range evs {
		if idx, ok := ev.data["index"].(float64); ok {
			s = append(s, fmt.Sprintf("%s[%d]", ev.name, int(idx)))
		} else {
			s = append(s, ev.name)
		}
	}
	return strings.Join(s, " ")
}

// toolInputs joins the partial_json of each tool_use block, by tool id.
func toolInputs(evs []sseEvent) (map[string]string, []string) {
	inputs := map[string]string{}
	var order []string
	byIndex := map[float64]string{}
	for _, ev := range evs {
		switch ev.name {
		case "content_block_start":
			cb := ev.data["content_block"].(map[string]any)
			if cb["type"] == "tool_use" {
				id := cb["id"].(string)
				byIndex[ev.data["index"].(float64)] = id
				order = append(order, id)
			}
		case "content_block_delta":
			d := ev.data["delta"].(map[string]any)
			if d["type"] == "input_json_delta" {
				inputs[byIndex[ev.data["index"].(float64)]] += d["partial_json"].(string)
			}
		}
	}
	return inputs, order
}

// openAIEvents is what the OpenAI translator produces for text, then two parallel tool calls
// with argument fragments, finish tool_calls, and the usage chunk after the finish.
func openAIEvents() []providers.StreamEvent {
	return []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "chatcmpl-1", Model: "gpt-4.1"},
		{Kind: providers.EventText, Text: ""},
		{Kind: providers.EventText, Text: "Let me "},
		{Kind: providers.EventText, Text: "check."},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "call_a", ToolName: "get_weather"},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"loca`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `tion":"Paris"}`},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "call_b", ToolName: "get_weather"},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `{"location"`},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `:"Rome"}`},
		{Kind: providers.EventFinish, FinishReason: providers.FinishToolCalls},
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 120, CachedTokens: 100, OutputTokens: 31}},
	}
}

func TestStreamEncoderOpenAISequence(t *testing.T) {
	out := encodeAll("", "", openAIEvents()...)
	golden(t, "stream_encode_openai", []byte(out))

	want := `event: message_start
data: {"type":"message_start","message":{"id":"msg_chatcmpl-1","type":"message","role":"assistant","model":"gpt-4.1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":0}}}

event: ping
data: {"type":"ping"}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"loca"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"tion\":\"Paris\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_b","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\""}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":":\"Rome\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":31}}

event: message_stop
data: {"type":"message_stop"}

`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	evs := parseSSE(t, out)
	inputs, order := toolInputs(evs)
	if strings.Join(order, ",") != "call_a,call_b" {
		t.Errorf("tool order %v", order)
	}
	for id, in := range inputs {
		if !json.Valid([]byte(in)) {
			t.Errorf("tool %s: accumulated partial_json %q is not JSON", id, in)
		}
	}
	if inputs["call_a"] != `{"location":"Paris"}` || inputs["call_b"] != `{"location":"Rome"}` {
		t.Errorf("inputs = %v", inputs)
	}
}

func TestStreamEncoderGeminiShape(t *testing.T) {
	// Gemini: thinking with a signature, text, whole tool calls (Args in the EventToolCall),
	// finish "stop" (Gemini says STOP for calls), usage known at the start.
	out := encodeAll("msg_fixed", "gemini-2.5-pro",
		providers.StreamEvent{Kind: providers.EventStart, ID: "resp-1", Model: "gemini-2.5-pro-001", Usage: &providers.Usage{InputTokens: 12}},
		providers.StreamEvent{Kind: providers.EventReasoning, Text: "Thinking…"},
		providers.StreamEvent{Kind: providers.EventReasoning, Signature: "c2ln"},
		providers.StreamEvent{Kind: providers.EventText, Text: "Calling <tools> & co."},
		providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: 0, ToolName: "get_weather", Args: `{"location":"Oslo"}`},
		providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: 1, ToolName: "now", Args: `{}`},
		providers.StreamEvent{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 12, OutputTokens: 40, ReasoningTokens: 20}},
		providers.StreamEvent{Kind: providers.EventFinish, FinishReason: providers.FinishStop},
	)
	golden(t, "stream_encode_gemini", []byte(out))
	evs := parseSSE(t, out)
	if got := names(evs); got != "message_start ping content_block_start[0] content_block_delta[0] content_block_delta[0] content_block_stop[0] "+
		"content_block_start[1] content_block_delta[1] content_block_stop[1] content_block_start[2] content_block_delta[2] content_block_stop[2] "+
		"content_block_start[3] content_block_delta[3] content_block_stop[3] message_delta message_stop" {
		t.Errorf("sequence: %s", got)
	}
	msg := evs[0].data["message"].(map[string]any)
	if msg["id"] != "msg_fixed" || msg["model"] != "gemini-2.5-pro" || msg["usage"].(map[string]any)["input_tokens"] != 12.0 {
		t.Errorf("message_start = %s", evs[0].raw)
	}
	if !strings.Contains(evs[3].raw, `"thinking_delta","thinking":"Thinking…"`) || !strings.Contains(evs[4].raw, `"signature_delta","signature":"c2ln"`) {
		t.Errorf("thinking deltas: %s / %s", evs[3].raw, evs[4].raw)
	}
	if !strings.Contains(evs[7].raw, `"text":"Calling <tools> & co."`) {
		t.Errorf("text is HTML-escaped or lost: %s", evs[7].raw)
	}
	if !strings.Contains(evs[9].raw, `"id":"toolu_fixed_0"`) {
		t.Errorf("tool without id: %s", evs[9].raw)
	}
	inputs, _ := toolInputs(evs)
	if inputs["toolu_fixed_0"] != `{"location":"Oslo"}` || inputs["toolu_fixed_1"] != `{}` {
		t.Errorf("inputs %v", inputs)
	}
	delta := evs[len(evs)-2].data
	if delta["delta"].(map[string]any)["stop_reason"] != "tool_use" || delta["usage"].(map[string]any)["output_tokens"] != 40.0 {
		t.Errorf("message_delta = %s", evs[len(evs)-2].raw)
	}
}

func TestStreamEncoderInterleavedToolArgs(t *testing.T) {
	tc := func(i int, id string) providers.StreamEvent {
		return providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: i, ToolID: id, ToolName: "f"}
	}
	args := func(i int, s string) providers.StreamEvent {
		return providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: i, Args: s}
	}
	text := providers.StreamEvent{Kind: providers.EventText, Text: "after"}
	tests := []struct {
		name       string
		evs        []providers.StreamEvent
		wantInputs map[string]string
		wantOrder  string
	}{
		{"two calls interleaved", []providers.StreamEvent{tc(0, "a"), tc(1, "b"), args(0, `{"x":`), args(1, `{"y":`), args(0, `1}`), args(1, `2}`)},
			map[string]string{"a": `{"x":1}`, "b": `{"y":2}`}, "a,b"},
		{"three calls, the second finishes last", []providers.StreamEvent{tc(0, "a"), args(0, `{}`), tc(1, "b"), tc(2, "c"), args(2, `{"z":3}`), args(1, `{"y"`), args(1, `:2}`)},
			map[string]string{"a": `{}`, "b": `{"y":2}`, "c": `{"z":3}`}, "a,b,c"},
		{"arguments never complete", []providers.StreamEvent{tc(0, "a"), args(0, `{"x":`), tc(1, "b"), args(1, `{}`), text},
			map[string]string{"a": `{"x":`, "b": `{}`}, "a,b"},
		{"late fragment after close is dropped", []providers.StreamEvent{tc(0, "a"), args(0, `{}`), tc(1, "b"), args(1, `{}`), args(0, `junk`)},
			map[string]string{"a": `{}`, "b": `{}`}, "a,b"},
		{"call without arguments", []providers.StreamEvent{tc(0, "a"), text},
			map[string]string{"a": `{}`}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := parseSSE(t, encodeAll("msg_1", "m", tt.evs...))
			inputs, order := toolInputs(evs)
			if strings.Join(order, ",") != tt.wantOrder {
				t.Errorf("order %v, want %s", order, tt.wantOrder)
			}
			for id, want := range tt.wantInputs {
				if inputs[id] != want {
					t.Errorf("tool %s input %q, want %q", id, inputs[id], want)
				}
			}
		})
	}
}

func TestStreamEncoderHoldsOnlyWhileIncomplete(t *testing.T) {
	e := NewStreamEncoder("msg_1", "m")
	out := e.Encode(nil, providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "a", ToolName: "f", Args: `{"x":`})
	if n := len(e.Encode(nil, providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "b", ToolName: "f"})); n != 0 {
		t.Errorf("second call written while the first is incomplete (%d bytes)", n)
	}
	out = e.Encode(nil, providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `1}`})
	if !strings.Contains(string(out), `"partial_json":"1}"`) || !strings.Contains(string(out), `"content_block_stop","index":0`) ||
		!strings.Contains(string(out), `"id":"b"`) {
		t.Errorf("completing call 0 should release call 1 at once:\n%s", out)
	}
}

func TestStreamEncoderEdges(t *testing.T) {
	t.Run("empty stream", func(t *testing.T) {
		out := encodeAll("", "m", providers.StreamEvent{Kind: providers.EventStart, ID: "x"}, providers.StreamEvent{Kind: providers.EventFinish, FinishReason: providers.FinishLength})
		evs := parseSSE(t, out)
		if len(evs) != 4 || !strings.Contains(evs[2].raw, `"stop_reason":"max_tokens"`) {
			t.Errorf("got %s", names(evs))
		}
	})
	t.Run("content before start", func(t *testing.T) {
		out := encodeAll("msg_given", "m", providers.StreamEvent{Kind: providers.EventText, Text: "hi"})
		evs := parseSSE(t, out)
		if evs[0].data["message"].(map[string]any)["id"] != "msg_given" || !strings.Contains(evs[len(evs)-2].raw, `"end_turn"`) {
			t.Errorf("got %s", out)
		}
	})
	t.Run("other choices ignored", func(t *testing.T) {
		out := encodeAll("msg_1", "m", providers.StreamEvent{Kind: providers.EventText, Text: "a"}, providers.StreamEvent{Kind: providers.EventText, Choice: 1, Text: "b"},
			providers.StreamEvent{Kind: providers.EventFinish, Choice: 1, FinishReason: providers.FinishLength})
		if strings.Contains(out, `"b"`) || !strings.Contains(out, "end_turn") {
			t.Errorf("got %s", out)
		}
	})
	t.Run("content filter", func(t *testing.T) {
		out := encodeAll("msg_1", "m", providers.StreamEvent{Kind: providers.EventFinish, FinishReason: providers.FinishContentFilter})
		if !strings.Contains(out, `"stop_reason":"refusal"`) {
			t.Errorf("got %s", out)
		}
	})
	t.Run("nothing after finish", func(t *testing.T) {
		e := NewStreamEncoder("msg_1", "m")
		out := e.Finish(nil)
		if len(e.Finish(nil)) != 0 || len(e.Encode(nil, providers.StreamEvent{Kind: providers.EventText, Text: "x"})) != 0 {
			t.Error("output after Finish")
		}
		parseSSE(t, string(out))
	})
	t.Run("text, thinking, text make three blocks", func(t *testing.T) {
		evs := parseSSE(t, encodeAll("msg_1", "m",
			providers.StreamEvent{Kind: providers.EventText, Text: "a"},
			providers.StreamEvent{Kind: providers.EventReasoning, Text: "r"},
			providers.StreamEvent{Kind: providers.EventText, Text: "b"}))
		if got := names(evs); !strings.Contains(got, "content_block_start[2]") || strings.Contains(got, "content_block_start[3]") {
			t.Errorf("got %s", got)
		}
	})
}

// TestStreamEncoderRoundTrip feeds the encoder's output to the stream decoder: the canonical
// content must come back unchanged.
func TestStreamEncoderRoundTrip(t *testing.T) {
	out := encodeAll("", "", openAIEvents()...)
	evs, err := collect(t, out)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	args := map[int]string{}
	var finish string
	var usage providers.Usage
	for _, ev := range evs {
		switch ev.Kind {
		case providers.EventText:
			text += ev.Text
		case providers.EventToolCall, providers.EventToolArgs:
			args[ev.ToolIndex] += ev.Args
		case providers.EventFinish:
			finish = ev.FinishReason
		case providers.EventUsage:
			usage = *ev.Usage
		}
	}
	if text != "Let me check." || args[0] != `{"location":"Paris"}` || args[1] != `{"location":"Rome"}` || finish != providers.FinishToolCalls {
		t.Errorf("text %q args %v finish %q", text, args, finish)
	}
	if want := (providers.Usage{InputTokens: 120, CachedTokens: 100, OutputTokens: 31}); usage != want {
		t.Errorf("usage %+v, want %+v", usage, want)
	}
}
