package gemini

import (
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// A typical mid-stream chunk from streamGenerateContent?alt=sse.
const benchChunk = `{"candidates": [{"content": {"parts": [{"text": " the quick brown fox jumps over the lazy dog, again and again"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 1200,"totalTokenCount": 1200},"modelVersion": "gemini-2.5-flash","responseId": "Y0ZFaPXLM7e1nvgP6uDpwQ4"}`

// BenchmarkStreamDecode is the backend stream step: one SSE data payload to canonical events.
func BenchmarkStreamDecode(b *testing.B) {
	d := streamDecoder{model: "gemini-2.5-flash", random: counter()}
	data := []byte(benchChunk)
	var evs []providers.StreamEvent
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var err error
		if evs, err = d.decode(data, evs[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEncodeText is the front-door stream step: one text event to one SSE chunk.
func BenchmarkStreamEncodeText(b *testing.B) {
	e := NewStreamEncoder("gpt-4o-mini", true)
	buf := e.Encode(nil, providers.StreamEvent{Kind: providers.EventStart, ID: "chatcmpl-123", Model: "gpt-4o-mini"})
	ev := providers.StreamEvent{Kind: providers.EventText, Text: " the quick brown fox jumps over the lazy dog, again and again"}
	b.ReportAllocs()
	for b.Loop() {
		buf = e.Encode(buf[:0], ev)
	}
}

// BenchmarkUsageFromChunk is the relay's per-chunk cost on a forwarded Gemini stream.
func BenchmarkUsageFromChunk(b *testing.B) {
	data := []byte(benchChunk)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := UsageFromChunk(data); !ok {
			b.Fatal("no usage")
		}
	}
}

func BenchmarkRewriteRequest(b *testing.B) {
	body := []byte(`{"contents":[{"role":"user","parts":[{"text":"Explain the theory of relativity in two paragraphs."}]}],"systemInstruction":{"parts":[{"text":"Be precise."}]},"generationConfig":{"temperature":0.3,"maxOutputTokens":32000}}`)
	rw := Rewrite{SystemPrompt: "You are the company assistant.", MaxTokens: 8192}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := RewriteRequest(body, rw); err != nil {
			b.Fatal(err)
		}
		if _, err := PeekRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
