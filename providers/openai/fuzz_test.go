package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(opencodeBody))
	f.Add([]byte(`{"model":"m","messages":[{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"r"}]}],"stop":"s"}`))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1","function":{"name":"f","arguments":{"a":1}}}]}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
				t.Fatalf("error %v is not a bad-request *providers.Error", err)
			}
			return
		}
		// What decodes must encode, and the encoding must be valid JSON that decodes again.
		enc, err := EncodeRequest(req)
		if err != nil {
			return // e.g. a tool schema that is valid JSON but not an object is still reported cleanly
		}
		if !json.Valid(enc) {
			t.Fatalf("EncodeRequest produced invalid JSON: %s", enc)
		}
		if len(req.Messages) > 0 {
			if _, err := DecodeRequest(enc); err != nil {
				t.Fatalf("re-decoding %s: %v", enc, err)
			}
		}
	})
}

func FuzzDecodeStream(f *testing.F) {
	f.Add([]byte(parallelToolsSSE))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"index\":-3,\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\ndata: [DONE]\n\n"))
	f.Fuzz(func(t *testing.T, sse []byte) {
		s := DecodeStream(io.NopCloser(bytes.NewReader(sse)))
		defer s.Close()
		for i := 0; ; i++ {
			ev, err := s.Next()
			if err != nil {
				var e *providers.Error
				if !errors.Is(err, io.EOF) && !errors.As(err, &e) {
					t.Fatalf("error %T %v is neither io.EOF nor *providers.Error", err, err)
				}
				return
			}
			if i == 0 && ev.Kind != providers.EventStart {
				t.Fatalf("first event is %v, want EventStart", ev.Kind)
			}
			if ev.ToolIndex < 0 || ev.Choice < 0 {
				t.Fatalf("negative index in %+v", ev)
			}
			if i > len(sse) {
				t.Fatal("more events than input bytes")
			}
		}
	})
}

// FuzzStreamEncoder feeds arbitrary event sequences (as a translator might) and checks that every
// chunk is valid JSON and that an OpenAI reader accepts the whole stream.
func FuzzStreamEncoder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6}, "text \"q\" \u2028", true)
	f.Add([]byte{6, 6, 5, 5, 44, 100, 200}, "", false)
	f.Fuzz(func(t *testing.T, ops []byte, text string, includeUsage bool) {
		e := NewStreamEncoder("id", "m", 1, includeUsage)
		var out []byte
		for i, op := range ops {
			ev := providers.StreamEvent{Kind: providers.EventKind(op % 7), Choice: int(op>>3) % 3, ToolIndex: int(op>>5) % 4,
				Text: text, Args: text, ToolName: "f", FinishReason: []string{"", "stop", "length", "weird"}[i%4]}
			if ev.Kind == providers.EventUsage {
				ev.Usage = usage(i, len(text))
			}
			out = e.Encode(out, ev)
		}
		out = e.Done(out)
		for _, line := range strings.Split(string(out), "\n") {
			if line == "" || line == "data: [DONE]" {
				continue
			}
			d, ok := strings.CutPrefix(line, "data: ")
			if !ok || !json.Valid([]byte(d)) {
				t.Fatalf("bad line %q in\n%s", line, out)
			}
		}
		evs, err := decodeString(string(out))
		if err != nil {
			t.Fatalf("decoding the encoder's output: %v\n%s", err, out)
		}
		if len(evs) == 0 || evs[0].Kind != providers.EventStart {
			t.Fatalf("no start: %+v", evs)
		}
	})
}

func FuzzRewriteRequest(f *testing.F) {
	f.Add([]byte(opencodeBody), "m", "sys", 100)
	f.Add([]byte(`{"messages":[],"stream":true,"stream_options":{"include_usage":false,"x":1},"max_tokens":1e9}`), "", "", 5)
	f.Add([]byte(`{"a":1,"a":2,"model":null}`), "x", "", 0)
	f.Fuzz(func(t *testing.T, body []byte, model, system string, maxTokens int) {
		info, perr := PeekRequest(body)
		valid := json.Valid(body)
		if perr == nil && !valid {
			t.Fatalf("PeekRequest accepted invalid JSON %q", body)
		}
		if info.InputTokens < 0 || info.Messages < 0 {
			t.Fatalf("negative counts %+v", info)
		}
		out, err := RewriteRequest(body, Rewrite{Model: model, SystemPrompt: system, MaxTokens: maxTokens})
		if err != nil {
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
				t.Fatalf("error %v is not a bad-request *providers.Error", err)
			}
			return
		}
		if !valid {
			t.Fatalf("RewriteRequest accepted invalid JSON %q", body)
		}
		if !json.Valid(out) {
			t.Fatalf("RewriteRequest(%s) = %s is invalid JSON", body, out)
		}
		var in, got map[string]json.RawMessage
		if json.Unmarshal(body, &in) != nil {
			return
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range in {
			switch k {
			case "model", "messages", "max_tokens", "max_completion_tokens", "stream_options":
				continue
			}
			if !bytes.Equal(got[k], v) {
				t.Fatalf("key %q changed from %s to %s", k, v, got[k])
			}
		}
		if gm, _ := jsonscan.StringValue(got["model"]); model != "" && gm != string([]rune(model)) {
			t.Fatalf("model = %s, want %q", got["model"], model)
		}
	})
}
