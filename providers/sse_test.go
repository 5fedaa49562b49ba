package providers

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains r, copying each event (Data is only valid until the next call).
func readAll(t *testing.T, r *SSEReader) ([]SSEEvent, error) {
	t.Helper()
	var out []SSEEvent
	for {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, SSEEvent{Name: ev.Name, Data: bytes.Clone(ev.Data)})
	}
}

func TestSSEReader(t *testing.T) {
	type ev struct{ name, data string }
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"openai chunks and DONE", "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
			[]ev{{"", `{"a":1}`}, {"", `{"b":2}`}, {"", "[DONE]"}}},
		{"CRLF framing", "data: one\r\n\r\ndata: two\r\n\r\n", []ev{{"", "one"}, {"", "two"}}},
		{"comments and keepalives are skipped", ": keepalive\n\n: ping\ndata: x\n\n:\n\n", []ev{{"", "x"}}},
		{"named events (anthropic)", "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {}\n\n",
			[]ev{{"message_start", `{"type":"message_start"}`}, {"ping", "{}"}}},
		{"multi-line data is joined with newlines", "data: first\ndata: second\ndata:\n\n", []ev{{"", "first\nsecond\n"}}},
		{"no space after colon", "data:{\"x\":1}\n\n", []ev{{"", `{"x":1}`}}},
		{"only the first space is removed", "data:  two spaces\n\n", []ev{{"", " two spaces"}}},
		{"unterminated last event is returned", "data: a\n\ndata: tail", []ev{{"", "a"}, {"", "tail"}}},
		{"last event without blank line", "data: a\n", []ev{{"", "a"}}},
		{"event without data is dropped and its name forgotten", "event: lonely\n\ndata: x\n\n", []ev{{"", "x"}}},
		{"unknown fields ignored", "id: 7\nretry: 100\ndata: x\n\n", []ev{{"", "x"}}},
		{"field without colon: data with empty value", "data\n\n", []ev{{"", ""}}},
		{"blank lines between events", "\n\n\ndata: a\n\n\n\ndata: b\n\n", []ev{{"", "a"}, {"", "b"}}},
		{"colon inside the value is kept", "data: a: b: c\n\n", []ev{{"", "a: b: c"}}},
		{"empty body", "", nil},
		{"only comments", ": a\n: b\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "one byte at a time"} {
				var src io.Reader = strings.NewReader(tt.in)
				if mode != "whole" {
					src = iotest.OneByteReader(src)
				}
				got, err := readAll(t, NewSSEReader(src))
				if !errors.Is(err, io.EOF) {
					t.Fatalf("%s: err = %v, want io.EOF", mode, err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %d events %q, want %d %q", mode, len(got), got, len(tt.want), tt.want)
				}
				for i := range got {
					if got[i].Name != tt.want[i].name || string(got[i].Data) != tt.want[i].data {
						t.Errorf("%s: event %d = (%q, %q), want (%q, %q)", mode, i, got[i].Name, got[i].Data,
							tt.want[i].name, tt.want[i].data)
					}
				}
			}
		})
	}
}

func TestSSEReaderOneMegabyteLine(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	in := "data: {\"content\":\"" + big + "\"}\n\ndata: [DONE]\n\n"
	for _, mode := range []string{"whole", "half reader"} {
		var src io.Reader = strings.NewReader(in)
		if mode != "whole" {
			src = iotest.HalfReader(src)
		}
		got, err := readAll(t, NewSSEReader(src))
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%s: err = %v", mode, err)
		}
		if len(got) != 2 {
			t.Fatalf("%s: got %d events, want 2", mode, len(got))
		}
		if want := `{"content":"` + big + `"}`; string(got[0].Data) != want {
			t.Fatalf("%s: big event has %d bytes, want %d", mode, len(got[0].Data), len(want))
		}
		if string(got[1].Data) != "[DONE]" {
			t.Fatalf("%s: second event = %q", mode, got[1].Data)
		}
	}
}

func TestSSEReaderReadErrorIsReturned(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewSSEReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)))
	ev, err := r.Next()
	if err != nil || string(ev.Data) != "a" {
		t.Fatalf("first event = %q, %v", ev.Data, err)
	}
	// The half-read second event must not be passed off as complete.
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func TestSSEReaderDataReusesBuffer(t *testing.T) {
	// Data is documented as valid until the next call: the reader must not allocate per event.
	in := strings.Repeat("data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n", 200)
	r := NewSSEReader(strings.NewReader(in))
	if _, err := r.Next(); err != nil { // warm the buffers
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next allocates %.1f times per event, want 0", allocs)
	}
}
