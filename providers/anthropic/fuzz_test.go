package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func FuzzDecodeRequest(f *testing.F) {
	for _, name := range []string{"decode_claude_code.json", "decode_sdk_2026.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"image","source":{"type":"url","url":"x"}}]}]}]}`))
	f.Add([]byte(`{"max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":[1]}]}],"system":[{"type":"text","text":""}]}`))
	f.Add([]byte(`{"system":"a","max_tokens":1e3}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || e.Message == "" {
				t.Fatalf("DecodeRequest error %v is not a bad request", err)
			}
		} else {
			out, err := EncodeRequest(req)
			if err != nil {
				var e *providers.Error
				if !errors.As(err, &e) {
					t.Fatalf("EncodeRequest error %v is not a *providers.Error", err)
				}
			} else if !json.Valid(out) {
				t.Fatalf("EncodeRequest produced invalid JSON: %s", out)
			}
			for _, m := range req.Messages {
				for _, tc := range m.ToolCalls {
					if !json.Valid([]byte(tc.Arguments)) {
						t.Fatalf("tool call arguments %q are not JSON", tc.Arguments)
					}
				}
			}
		}
		if _, err := PeekRequest(body); err != nil {
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
				t.Fatalf("PeekRequest error %v", err)
			}
		}
		out, err := RewriteRequest(body, Rewrite{Model: "m", System: "S", MaxTokens: 100})
		if err == nil && !json.Valid(out) {
			t.Fatalf("RewriteRequest produced invalid JSON from %q: %s", body, out)
		}
	})
}

// checkStream verifies the structure parseSSE checks, returning an error instead of failing.
func checkStream(out string) error {
	if !strings.HasSuffix(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") || !strings.HasPrefix(out, "event: message_start\n") {
		return fmt.Errorf("frame")
	}
	open, next := -1, 0
	for _, chunk := range strings.Split(strings.TrimSuffix(out, "\n\n"), "\n\n") {
		name, data, ok := strings.Cut(chunk, "\ndata: ")
		if !ok || strings.Contains(data, "\n") {
			return fmt.Errorf("framing %q", chunk)
		}
		var m struct {
			Type  string `json:"type"`
			Index *int   `json:"index"`
		}
		if err := json.Unmarshal([]byte(data), &m); err != nil || "event: "+m.Type != name {
			return fmt.Errorf("data %q: %v", data, err)
		}
		switch m.Type {
		case "content_block_start":
			if open != -1 || *m.Index != next {
				return fmt.Errorf("start %d while %d open", *m.Index, open)
			}
			open, next = *m.Index, next+1
		case "content_block_delta", "content_block_stop":
			if *m.Index != open {
				return fmt.Errorf("%s %d while %d open", m.Type, *m.Index, open)
			}
			if m.Type == "content_block_stop" {
				open = -1
			}
		}
	}
	if open != -1 {
		return fmt.Errorf("block %d left open", open)
	}
	return nil
}

func FuzzStreamDecoder(f *testing.F) {
	b, err := os.ReadFile("testdata/stream_parallel_tools.sse")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(sseStart + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"a\",\"name\":\"f\",\"input\":{\"a\":1}}}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newStream(io.NopCloser(strings.NewReader(string(body))), "anthropic")
		enc := NewStreamEncoder("msg_f", "m")
		var out []byte
		tools := 0
		for i := 0; ; i++ {
			ev, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var e *providers.Error
				if !errors.As(err, &e) || e.Message == "" {
					t.Fatalf("stream error %v is not a *providers.Error", err)
				}
				break
			}
			if i == 0 && ev.Kind != providers.EventStart {
				t.Fatalf("first event is %v", ev.Kind)
			}
			switch ev.Kind {
			case providers.EventToolCall:
				if ev.ToolIndex != tools {
					t.Fatalf("tool index %d, want %d", ev.ToolIndex, tools)
				}
				tools++
			case providers.EventToolArgs:
				if ev.ToolIndex >= tools {
					t.Fatalf("args for tool %d of %d", ev.ToolIndex, tools)
				}
			}
			out = enc.Encode(out, ev)
		}
		// Whatever the upstream sent, what the front door writes is a well-formed stream.
		if err := checkStream(string(enc.Finish(out))); err != nil {
			t.Fatalf("re-encoded stream is malformed: %v", err)
		}
	})
}

// FuzzStreamEncoder drives the encoder with arbitrary event sequences (each byte pair picks an
// event kind and a tool index), like interleaving translators could produce.
func FuzzStreamEncoder(f *testing.F) {
	f.Add([]byte{0, 0, 3, 0, 4, 0, 4, 1, 3, 1, 4, 1, 5, 0})
	f.Add([]byte{3, 0, 3, 1, 4, 0, 4, 1, 4, 0, 1, 0, 2, 0})
	fragments := []string{`{"a":`, `1}`, `{}`, `"x"`, ``, `]`}
	f.Fuzz(func(t *testing.T, prog []byte) {
		enc := NewStreamEncoder("", "m")
		var out []byte
		for i := 0; i+1 < len(prog); i += 2 {
			idx := int(prog[i+1] % 4)
			frag := fragments[int(prog[i+1]/4)%len(fragments)]
			var ev providers.StreamEvent
			switch prog[i] % 8 {
			case 0:
				ev = providers.StreamEvent{Kind: providers.EventText, Text: frag}
			case 1:
				ev = providers.StreamEvent{Kind: providers.EventReasoning, Text: frag}
			case 2:
				ev = providers.StreamEvent{Kind: providers.EventReasoning, Signature: frag}
			case 3:
				ev = providers.StreamEvent{Kind: providers.EventToolCall, ToolIndex: idx, ToolID: fmt.Sprint("t", idx), ToolName: "f", Args: frag}
			case 4:
				ev = providers.StreamEvent{Kind: providers.EventToolArgs, ToolIndex: idx, Args: frag}
			case 5:
				ev = providers.StreamEvent{Kind: providers.EventFinish, FinishReason: frag}
			case 6:
				ev = providers.StreamEvent{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: idx, OutputTokens: len(frag)}}
			case 7:
				ev = providers.StreamEvent{Kind: providers.EventStart, ID: frag, Model: frag}
			}
			out = enc.Encode(out, ev)
		}
		if err := checkStream(string(enc.Finish(out))); err != nil {
			t.Fatalf("malformed stream: %v", err)
		}
	})
}

// FuzzRewriteRequest: for any body, the rewrite is an error or valid JSON in which the model,
// the cap and the injected system text hold, whatever the body's keys look like (duplicated,
// escaped, any type).
func FuzzRewriteRequest(f *testing.F) {
	if b, err := os.ReadFile("testdata/decode_claude_code.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"model":"x","max_tokens":99999,"system":[{"type":"text","text":"s"}],"messages":[]}`))
	f.Add([]byte(`{"m\u006fdel":"x","max_tokens":1e9,"max_tokens":null,"system":"s"}`))
	f.Add([]byte(` { } `))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := RewriteRequest(body, Rewrite{Model: "gw-model", System: "G\"<", MaxTokens: 77})
		if err != nil {
			return
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("rewrite of %q is not a JSON object: %q (%v)", body, out, err)
		}
		var model string
		if json.Unmarshal(got["model"], &model) != nil || model != "gw-model" {
			t.Fatalf("model not replaced: %q → %q", body, out)
		}
		var maxTokens float64
		if json.Unmarshal(got["max_tokens"], &maxTokens) != nil || maxTokens > 77 {
			t.Fatalf("cap not enforced: %q → %q", body, out)
		}
		if !strings.Contains(string(got["system"]), `"G\"\u003c"`) && !strings.Contains(string(got["system"]), `"G\"<"`) {
			t.Fatalf("system text not injected: %q → %q", body, out)
		}
	})
}
