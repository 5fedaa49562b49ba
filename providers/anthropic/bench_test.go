package anthropic

import (
	"os"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// The per-event work on the hot path of a streamed answer, in each direction.

func BenchmarkStreamDecodeTextDelta(b *testing.B) {
	data := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, this is a typical streamed fragment."}}`)
	d := streamDecoder{provider: "anthropic", started: true, blocks: []blockState{{kind: blockText}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.decode("content_block_delta", data); err != nil {
			b.Fatal(err)
		}
		d.pop()
	}
}

func BenchmarkStreamDecodeToolArgs(b *testing.B) {
	data := []byte(`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Par"}}`)
	d := streamDecoder{provider: "anthropic", started: true, blocks: []blockState{{kind: blockText}, {kind: blockTool}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.decode("content_block_delta", data); err != nil {
			b.Fatal(err)
		}
		d.pop()
	}
}

func BenchmarkStreamEncodeText(b *testing.B) {
	e := NewStreamEncoder("msg_1", "m")
	buf := e.Encode(nil, providers.StreamEvent{Kind: providers.EventStart})
	ev := providers.StreamEvent{Kind: providers.EventText, Text: "Hello, this is a typical streamed fragment."}
	b.ReportAllocs()
	for b.Loop() {
		buf = e.Encode(buf[:0], ev)
	}
}

func BenchmarkStreamEncodeToolArgs(b *testing.B) {
	e := NewStreamEncoder("msg_1", "m")
	buf := e.Encode(nil, providers.StreamEvent{Kind: providers.EventToolCall, ToolID: "call_1", ToolName: "f"})
	ev := providers.StreamEvent{Kind: providers.EventToolArgs, Args: `{"location": "Par`}
	b.ReportAllocs()
	for b.Loop() {
		// Reset the accumulated arguments so the benchmark measures one step, not a growing buffer.
		e.args = e.args[:0]
		buf = e.Encode(buf[:0], ev)
	}
}

func BenchmarkUsageSnifferTextDelta(b *testing.B) {
	data := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, this is a typical streamed fragment."}}`)
	var s UsageSniffer
	b.ReportAllocs()
	for b.Loop() {
		s.Observe("content_block_delta", data)
	}
}

// BenchmarkRewriteRequest is the same-protocol path's policy step on a Claude Code request.
func BenchmarkRewriteRequest(b *testing.B) {
	body, err := os.ReadFile("testdata/decode_claude_code.json")
	if err != nil {
		b.Fatal(err)
	}
	rw := Rewrite{Model: "claude-sonnet-4-5", System: "Gateway policy prompt.", MaxTokens: 8192}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := RewriteRequest(body, rw); err != nil {
			b.Fatal(err)
		}
	}
}
