package gemini

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func seedFiles(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeRequest: any body either decodes or fails with a 400, never panics, and whatever
// decodes can be encoded for a Gemini backend or is refused with a 400.
func FuzzDecodeRequest(f *testing.F) {
	seedFiles(f, "decode_genai.json", "decode_snake.json", "decode_camel.json")
	f.Add([]byte(`{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"parts":[{"functionResponse":{"name":"f","response":{"output":1}}}]}]}`))
	f.Add([]byte(`{"generationConfig":{"maxOutputTokens":"1e3","topK":"4.5","candidateCount":9}}`))
	f.Add([]byte(`{"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT","nullable":true,"anyOf":[{"type":"STRING"}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest("gemini-2.5-flash", body)
		if err != nil {
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		for _, m := range req.Messages {
			for _, tc := range m.ToolCalls {
				if !json.Valid([]byte(tc.Arguments)) {
					t.Fatalf("invalid arguments %q", tc.Arguments)
				}
			}
		}
		for _, tl := range req.Tools {
			if len(tl.Parameters) > 0 && !json.Valid(tl.Parameters) {
				t.Fatalf("invalid parameters %s", tl.Parameters)
			}
		}
		g, err := encodeRequest(req)
		if err != nil {
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
				t.Fatalf("encode error %v is not a bad request", err)
			}
			return
		}
		if out := marshal(g); !json.Valid(out) {
			t.Fatalf("encoded an invalid body %s", out)
		}
	})
}

// FuzzStreamDecode feeds arbitrary SSE data payloads to the stream decoder: events or a
// *providers.Error, never a panic; tool-call arguments are always valid JSON.
func FuzzStreamDecode(f *testing.F) {
	sse := string(readFileForFuzz(f, "stream_tools.sse"))
	for _, ev := range strings.Split(sse, "\r\n\r\n") {
		if d, ok := strings.CutPrefix(ev, "data: "); ok {
			f.Add([]byte(d))
		}
	}
	f.Add([]byte(`{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`))
	f.Add([]byte(`{"promptFeedback":{"blockReason":"SAFETY"}}`))
	f.Add([]byte(`{"candidates":[{"index":3,"content":{"parts":[{"functionCall":{"name":"f","args":null}}]},"finishReason":"STOP"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := streamDecoder{model: "m", random: counter()}
		for range 2 { // the second pass exercises the started state
			evs, err := d.decode(data, nil)
			if err != nil {
				var e *providers.Error
				if !errors.As(err, &e) || e.Status() < 400 {
					t.Fatalf("error %v is not an upstream error", err)
				}
				return
			}
			for _, ev := range evs {
				if ev.Kind == providers.EventToolCall && !json.Valid([]byte(ev.Args)) {
					t.Fatalf("invalid args %q", ev.Args)
				}
				if ev.Choice < 0 || ev.Choice >= maxCandidates {
					t.Fatalf("choice %d out of range", ev.Choice)
				}
			}
		}
	})
}

func readFileForFuzz(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzRewriteRequest: for any valid JSON object, the rewrite is valid JSON and the cap holds.
func FuzzRewriteRequest(f *testing.F) {
	seedFiles(f, "decode_genai.json", "decode_snake.json")
	f.Add([]byte(`{"generationConfig":{"maxOutputTokens":"99999"},"systemInstruction":{"parts":[]}}`))
	f.Add([]byte(`{"generation\u0043onfig":{"max_output_tokens":1e9}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := RewriteRequest(body, Rewrite{SystemPrompt: "G\"<", MaxTokens: 77})
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("rewrite of %q is invalid JSON: %q", body, out)
		}
		info, err := PeekRequest(out)
		if err != nil {
			t.Fatalf("rewritten body unreadable: %v", err)
		}
		if info.MaxTokens > 77 {
			t.Fatalf("cap not enforced: %q → %q", body, out)
		}
	})
}

// FuzzToolID: any id decodes without panicking, and encoded ids round-trip.
func FuzzToolID(f *testing.F) {
	f.Add("get_weather", "fc-1", "U0lH")
	f.Add("", "", dummySignature)
	f.Fuzz(func(t *testing.T, name, uid, sig string) {
		decodeToolID(name + uid + sig)
		id := encodeToolID("abcdefABCDEF", name, uid, sig)
		n, u, s, ok := decodeToolID(id)
		if !ok || n != name || u != uid || s != sig {
			t.Fatalf("round trip of %q %q %q gave %q %q %q %v", name, uid, sig, n, u, s, ok)
		}
	})
}
