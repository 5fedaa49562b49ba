package providers

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// referenceSSE is a deliberately naive parser of the same dialect (LF or CRLF line ends, comments,
// data joined with \n, an unterminated last event still returned), used as the fuzz oracle.
func referenceSSE(in []byte) []SSEEvent {
	lines := bytes.Split(in, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // input ended with a newline
	}
	var out []SSEEvent
	var name, data []byte
	has := false
	flush := func() {
		if has {
			out = append(out, SSEEvent{Name: string(name), Data: bytes.Clone(data)})
		}
		name, data, has = nil, nil, false
	}
	for _, l := range lines {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			flush()
			continue
		}
		if l[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(l, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "data":
			if has {
				data = append(data, '\n')
			}
			data = append(data, value...)
			has = true
		case "event":
			name = append(name[:0], value...)
		}
	}
	flush()
	return out
}

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		"event: x\r\ndata: y\r\n\r\n",
		": keepalive\n\ndata: a\ndata: b\n\n",
		"data: tail",
		"data\n\nevent:\ndata:\n\n",
		"\r\n\r\ndata: \r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := referenceSSE(in)
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = bytes.NewReader(in)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			r := NewSSEReader(src)
			var got []SSEEvent
			for {
				ev, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				got = append(got, SSEEvent{Name: ev.Name, Data: bytes.Clone(ev.Data)})
				if len(got) > len(in)+1 {
					t.Fatalf("more events than input bytes")
				}
			}
			if len(got) != len(want) {
				t.Fatalf("oneByte=%v: %d events %q, reference %d %q", oneByte, len(got), got, len(want), want)
			}
			for i := range got {
				if got[i].Name != want[i].Name || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("oneByte=%v: event %d = %q/%q, reference %q/%q", oneByte, i, got[i].Name, got[i].Data,
						want[i].Name, want[i].Data)
				}
			}
		}
	})
}
