package openai

import (
	"io"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// agentBody is an opencode-like agent request: a few turns and ten tools with JSON Schemas.
func agentBody() []byte {
	var b strings.Builder
	b.WriteString(`{"model":"gw/m","stream":true,"stream_options":{"include_usage":true},"max_tokens":32000,"tool_choice":"auto","messages":[`)
	b.WriteString(`{"role":"system","content":"` + strings.Repeat("You are a coding agent. ", 80) + `"},`)
	for i := 0; i < 6; i++ {
		b.WriteString(`{"role":"user","content":"Please look at main.go and fix the failing test number ` + strings.Repeat("x", 200) + `"},`)
		b.WriteString(`{"role":"assistant","content":"","tool_calls":[{"id":"call_` + string(rune('a'+i)) + `","type":"function","function":{"name":"read","arguments":"{\"path\":\"main.go\"}"}}]},`)
		b.WriteString(`{"role":"tool","tool_call_id":"call_` + string(rune('a'+i)) + `","content":"` + strings.Repeat("package main\\n", 40) + `"},`)
	}
	b.WriteString(`{"role":"user","content":"go on"}],"tools":[`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"type":"function","function":{"name":"tool` + string(rune('0'+i)) + `","description":"` + strings.Repeat("does things ", 20) + `","parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"path":{"type":"string"},"n":{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991}},"required":["path"]}}}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkRewriteRequest(b *testing.B) {
	body := agentBody()
	rw := Rewrite{Model: "gpt-4o", SystemPrompt: "Gateway policy prompt.", MaxTokens: 8192}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RewriteRequest(body, rw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPeekRequest(b *testing.B) {
	body := agentBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PeekRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// cycleReader repeats data forever, so a stream benchmark needs no memory per event.
type cycleReader struct {
	data []byte
	off  int
}

func (r *cycleReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkForwardChatStreamStep is the per-event cost of relaying an upstream stream: SSE
// framing, validation, sniffing for errors / usage / finish_reason.
func BenchmarkForwardChatStreamStep(b *testing.B) {
	events := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hello, this is a typical token or two"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"abc"}` + "\n\n" +
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]},"finish_reason":null}],"usage":null}` + "\n\n"
	for _, tc := range []struct {
		name    string
		backend string
	}{{"openai", "openai"}, {"mistral-id-mapping", "mistral"}} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := New(providers.Config{Backend: tc.backend})
			if err != nil {
				b.Fatal(err)
			}
			x := &exchange{}
			if tc.backend == "mistral" {
				x.mapID(mistralID("call_client_1"), "call_client_1")
			}
			body := io.NopCloser(&cycleReader{data: []byte(events)})
			f := &Forwarded{Stream: true, c: c, x: x, body: body, sse: providers.NewSSEReader(body), DropUsageChunk: true}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStreamEncoder(b *testing.B) {
	e := NewStreamEncoder("chatcmpl-gw", "claude-sonnet", 1700000000, true)
	ev := providers.StreamEvent{Kind: providers.EventText, Text: "Hello, this is a typical token or two"}
	buf := make([]byte, 0, 1024)
	e.Encode(buf, providers.StreamEvent{Kind: providers.EventStart})
	b.ReportAllocs()
	for b.Loop() {
		buf = e.Encode(buf[:0], ev)
	}
}

func BenchmarkDecodeStream(b *testing.B) {
	events := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello, this is a typical token or two"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n"
	s := DecodeStream(io.NopCloser(&cycleReader{data: []byte(events)}))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
