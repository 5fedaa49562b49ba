package anthropic

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// Anthropic's cache counts become canonical usage the same way from a whole answer, a decoded
// stream and a sniffed (forwarded) stream: input includes the cache reads and writes, the
// one-hour writes are kept apart; message_delta overrides only the counts it carries.
func TestUsageCacheCountsEveryReader(t *testing.T) {
	const usage = `{"input_tokens":7,"cache_creation_input_tokens":500,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":100},"output_tokens":1}`
	want := providers.Usage{InputTokens: 2507, OutputTokens: 5, CachedTokens: 2000, CacheCreationTokens: 500, CacheCreation1hTokens: 100}

	body := `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":` +
		strings.Replace(usage, `"output_tokens":1`, `"output_tokens":5`, 1) + `}`
	resp, err := DecodeResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage != want {
		t.Errorf("DecodeResponse: %+v, want %+v", resp.Usage, want)
	}
	if u, _, ok := UsageFromBody([]byte(body)); !ok || u != want {
		t.Errorf("UsageFromBody: %+v, want %+v", u, want)
	}

	events := [][2]string{
		{"message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":` + usage + `}}`},
		{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}`},
		{"message_stop", `{"type":"message_stop"}`},
	}
	var sse strings.Builder
	var sniff UsageSniffer
	for _, ev := range events {
		sse.WriteString("event: " + ev[0] + "\ndata: " + ev[1] + "\n\n")
		sniff.Observe(ev[0], []byte(ev[1]))
	}
	if u := sniff.Usage(); u != want {
		t.Errorf("UsageSniffer: %+v, want %+v", u, want)
	}
	s := newStream(io.NopCloser(strings.NewReader(sse.String())), "anthropic")
	var last providers.Usage
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == providers.EventUsage {
			last = *ev.Usage
		}
	}
	if last != want {
		t.Errorf("stream decoder: %+v, want %+v", last, want)
	}

	// Back out through the Anthropic door: the same fields a native answer has.
	got := string(appendUsage(nil, want))
	if w := strings.Replace(usage, `"output_tokens":1`, `"output_tokens":5`, 1); got != w {
		t.Errorf("appendUsage:\n got %s\nwant %s", got, w)
	}
}
