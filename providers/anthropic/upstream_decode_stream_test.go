package anthropic

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// collect reads a whole Anthropic SSE body through the stream decoder.
func collect(t *testing.T, sse string) ([]providers.StreamEvent, error) {
	t.Helper()
	s := newStream(io.NopCloser(strings.NewReader(sse)), "anthropic")
	defer s.Close()
	var evs []providers.StreamEvent
	for {
		ev, err := s.Next()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
		if len(evs) > 10000 {
			t.Fatal("stream does not end")
		}
	}
}

var kindNames = map[providers.EventKind]string{
	providers.EventStart: "start", providers.EventText: "text", providers.EventReasoning: "reasoning",
	providers.EventToolCall: "tool_call", providers.EventToolArgs: "tool_args", providers.EventFinish: "finish", providers.EventUsage: "usage",
}

// dumpEvents renders events one JSON line each, zero fields left out.
func dumpEvents(t *testing.T, evs []providers.StreamEvent) []byte {
	t.Helper()
	var out []byte
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		var m map[string]any
		json.Unmarshal(b, &m)
		m = prune(m).(map[string]any)
		m["Kind"] = kindNames[ev.Kind]
		line, _ := json.Marshal(m)
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

func TestStreamDecodeGolden(t *testing.T) {
	sse, err := os.ReadFile("testdata/stream_parallel_tools.sse")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := collect(t, string(sse))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "stream_parallel_tools", dumpEvents(t, evs))

	if evs[0].Kind != providers.EventStart || evs[0].ID != "msg_01X" || evs[0].Model != "claude-sonnet-4-5" {
		t.Errorf("first event = %+v", evs[0])
	}
	// Tool indices count tool calls (0, 1, 2), not Anthropic blocks (2, 3, 4); each call's
	// fragments join to its arguments; a call without fragments gets {}.
	args := map[int]string{}
	ids := map[int]string{}
	var reasoning, sig, text strings.Builder
	for _, ev := range evs {
		switch ev.Kind {
		case providers.EventToolCall:
			ids[ev.ToolIndex] = ev.ToolID
			args[ev.ToolIndex] += ev.Args
		case providers.EventToolArgs:
			args[ev.ToolIndex] += ev.Args
		case providers.EventReasoning:
			reasoning.WriteString(ev.Text)
			sig.WriteString(ev.Signature)
		case providers.EventText:
			text.WriteString(ev.Text)
		}
	}
	wantIDs := map[int]string{0: "toolu_01A", 1: "toolu_01B", 2: "toolu_01C"}
	wantArgs := map[int]string{0: `{"location": "Paris"}`, 1: `{}`, 2: `{"location":"Rome"}`}
	for i := range 3 {
		if ids[i] != wantIDs[i] || args[i] != wantArgs[i] {
			t.Errorf("tool %d: id %q args %q, want %q %q", i, ids[i], args[i], wantIDs[i], wantArgs[i])
		}
	}
	if reasoning.String() != "Two cities, two calls." || sig.String() != "EqQBCkYIBxgC" || text.String() != "Checking both." {
		t.Errorf("reasoning %q sig %q text %q", reasoning.String(), sig.String(), text.String())
	}
	last, finish := evs[len(evs)-1], evs[len(evs)-2]
	if finish.Kind != providers.EventFinish || finish.FinishReason != providers.FinishToolCalls {
		t.Errorf("finish = %+v", finish)
	}
	want := providers.Usage{InputTokens: 331, OutputTokens: 89, CachedTokens: 300, CacheCreationTokens: 10}
	if last.Kind != providers.EventUsage || *last.Usage != want {
		t.Errorf("last = %+v %+v, want usage %+v", last, last.Usage, want)
	}
}

const sseStart = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"

func TestStreamDecodeUsageOverride(t *testing.T) {
	// Newer API versions repeat input and cache counts in message_delta: they win.
	evs, err := collect(t, sseStart+
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"input_tokens\":7,\"cache_read_input_tokens\":3,\"output_tokens\":9}}\n\n"+
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if want := (providers.Usage{InputTokens: 10, OutputTokens: 9, CachedTokens: 3}); *last.Usage != want {
		t.Errorf("usage %+v, want %+v", *last.Usage, want)
	}
	if evs[len(evs)-2].FinishReason != providers.FinishLength {
		t.Errorf("finish %q", evs[len(evs)-2].FinishReason)
	}
}

func TestStreamDecodeErrors(t *testing.T) {
	text := "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
	tests := []struct {
		name       string
		sse        string
		wantStatus int
		wantType   string
		wantMsg    string
		wantText   string
	}{
		{"overloaded mid-stream", sseStart + text + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
			529, "overloaded_error", "Overloaded", "Hel"},
		{"unknown error type", sseStart + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"new_error\",\"message\":\"?\"}}\n\n", 502, "new_error", "?", ""},
		{"truncated", sseStart + text, 502, "", "upstream stream ended before the answer was complete", "Hel"},
		{"empty", "", 502, "", "upstream closed the stream without sending an answer", ""},
		{"not JSON", sseStart + "event: content_block_delta\ndata: {oops\n\n", 502, "", "anthropic sent an invalid stream event: invalid character 'o'", ""},
		{"args for a text block", sseStart + text + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
			502, "", "not a tool_use block", "Hel"},
		{"huge index", sseStart + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":99999999,\"content_block\":{\"type\":\"text\"}}\n\n", 502, "", "out of range", ""},
		{"wrong field type", sseStart + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":\"x\"}\n\n", 502, "", "invalid stream event", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := collect(t, tt.sse)
			var e *providers.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *providers.Error", err)
			}
			if e.Status() != tt.wantStatus || e.Type != tt.wantType || !strings.Contains(e.Message, tt.wantMsg) || e.Provider != "anthropic" {
				t.Errorf("err = %+v (status %d)", e, e.Status())
			}
			var text string
			for _, ev := range evs {
				text += ev.Text
			}
			if text != tt.wantText {
				t.Errorf("text before the error = %q, want %q", text, tt.wantText)
			}
		})
	}
}

func TestStreamDecodeTolerance(t *testing.T) {
	// CRLF framing, comments, no event lines, and a stream that ends after message_delta
	// without message_stop are all a complete answer.
	sse := ": keepalive\r\n\r\n" +
		"data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"m\",\"usage\":{\"input_tokens\":1}}}\r\n\r\n" +
		"data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"Hi\"}}\r\n\r\n" +
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}\r\n\r\n" +
		"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\r\n\r\n"
	evs, err := collect(t, sse)
	if err != nil {
		t.Fatal(err)
	}
	got := dumpEvents(t, evs)
	want := `{"ID":"msg_2","Kind":"start","Model":"m","Usage":{"InputTokens":1}}
{"Kind":"usage","Usage":{"InputTokens":1}}
{"Kind":"text","Text":"Hi"}
{"Kind":"text","Text":"!"}
{"FinishReason":"stop","Kind":"finish"}
{"Kind":"usage","Usage":{"InputTokens":1,"OutputTokens":2}}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Events after message_stop are not read.
	evs, err = collect(t, sseStart+"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"late\"}}\n\n")
	if err != nil || len(evs) != 2 {
		t.Errorf("after message_stop: %d events, err %v", len(evs), err)
	}
}

func TestStreamPrimeReportsEarlyError(t *testing.T) {
	s := newStream(io.NopCloser(strings.NewReader("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n")), "anthropic")
	err := s.prime()
	var e *providers.Error
	if !errors.As(err, &e) || e.Status() != 529 {
		t.Errorf("prime = %v, want the overloaded error", err)
	}
	s = newStream(io.NopCloser(strings.NewReader("")), "anthropic")
	if err := s.prime(); !errors.As(err, &e) || e.Status() != http.StatusBadGateway {
		t.Errorf("prime on empty body = %v", err)
	}
}
