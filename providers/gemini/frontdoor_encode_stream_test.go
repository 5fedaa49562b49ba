package gemini

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

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
