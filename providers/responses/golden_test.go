package responses

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name.golden, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// A Codex turn (developer messages, reasoning carried back, parallel calls and their outputs,
// a custom tool call, a built-in call item, web_search and a namespace offered) in canonical form.
func TestGoldenDecodeCodex(t *testing.T) {
	body, err := os.ReadFile("testdata/decode_codex.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := r.Decode()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(req, "", "  ")
	got = append(got, "\n// dropped: "...)
	dropped, _ := json.Marshal(r.Dropped)
	golden(t, "decode_codex", append(append(got, dropped...), '\n'))
}

// A canonical stream with every kind of event, as the Responses event sequence.
func TestGoldenStreamEncode(t *testing.T) {
	r, err := ParseRequest([]byte(`{"model":"m","stream":true,"tools":[{"type":"custom","name":"apply_patch"},{"type":"function","name":"f"}],"metadata":{"a":"b"}}`))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDoor(r)
	d.id, d.base, d.created = "resp_test", "abcdef01", 1700000000
	w := d.NewStream("upstream-id", "model-x")
	var out []byte
	for _, ev := range []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "upstream-id", Model: "model-x"},
		{Kind: providers.EventReasoning, Text: "Think"},
		{Kind: providers.EventReasoning, Text: "ing."},
		{Kind: providers.EventReasoning, Signature: "SIG"},
		{Kind: providers.EventText, Text: "Hello <b>"},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "call_1", ToolName: "f", Args: `{"a"`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `:1}`},
		{Kind: providers.EventToolCall, ToolIndex: 1, ToolID: "call_2", ToolName: "apply_patch"},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: `{"input":"*** Begin`},
		{Kind: providers.EventToolArgs, ToolIndex: 1, Args: ` Patch"}`},
		{Kind: providers.EventFinish, FinishReason: providers.FinishToolCalls},
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 10, OutputTokens: 5, CachedTokens: 2, ReasoningTokens: 3}},
	} {
		out = w.Encode(out, ev)
	}
	out = w.Finish(out)
	golden(t, "stream_encode", zeroTimes(out))
}

// A whole answer cut by the output cap is an incomplete Response.
func TestGoldenEncodeResponseIncomplete(t *testing.T) {
	r, _ := ParseRequest([]byte(`{"model":"m","input":"hi","max_output_tokens":5,"reasoning":{"effort":"low"}}`))
	d := NewDoor(r)
	d.id, d.base, d.created = "resp_test", "abcdef01", 1700000000
	out := d.EncodeResponse(&providers.Response{Model: "model-x", Choices: []providers.Choice{{
		Message:      providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("Hel")}, Reasoning: "r", ReasoningSignature: "S"},
		FinishReason: providers.FinishLength}}, Usage: providers.Usage{InputTokens: 3, OutputTokens: 5}})
	golden(t, "encode_incomplete", zeroTimes(out))
}

// zeroTimes blanks completed_at, the one field that depends on the clock.
func zeroTimes(b []byte) []byte {
	return regexpCompletedAt.ReplaceAll(b, []byte(`"completed_at":0`))
}

var regexpCompletedAt = regexp.MustCompile(`"completed_at":\d+`)

// A forwarded stream is relayed as it came; the owner learns the upstream's response id, and
// a failure after the last frame continues its sequence numbers with error and response.failed.
func TestForwardedStreamFailure(t *testing.T) {
	r, _ := ParseRequest([]byte(`{"model":"m","stream":true}`))
	d := NewDoor(r)
	d.created = 1700000000
	var owned string
	d.Owned = func(id string) { owned = id }
	w := d.NewStream("", "m")
	out := w.Frame(nil, providers.Frame{Event: "response.created", Data: []byte(`{"type":"response.created","sequence_number":0,"response":{"id":"resp_up"}}`)})
	out = w.Frame(out, providers.Frame{Event: "response.output_text.delta", Data: []byte(`{"type":"response.output_text.delta","sequence_number":1,"delta":"Hi"}`)})
	out = w.Error(out, &providers.Error{Kind: providers.KindUpstream, Message: "upstream stream ended before the answer was complete"})
	out = w.Finish(out)
	golden(t, "forwarded_failure", out)
	if owned != "resp_up" {
		t.Errorf("owned %q", owned)
	}
}

// Argument fragments of a call whose start never came still make a call item.
func TestStreamArgsWithoutStart(t *testing.T) {
	r, _ := ParseRequest([]byte(`{"model":"m","stream":true}`))
	w := NewDoor(r).NewStream("", "m")
	out := w.Encode(nil, providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: 2, Args: `{"a":1}`})
	out = w.Finish(out)
	if !bytes.Contains(out, []byte(`"type":"function_call","status":"completed","arguments":"{\"a\":1}"`)) {
		t.Fatalf("stream:\n%s", out)
	}
}
