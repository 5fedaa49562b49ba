package providers

import (
	"bufio"
	"bytes"
	"io"
)

// SSEEvent is one server-sent event. Data is valid until the next call to Next.
type SSEEvent struct {
	Name string
	Data []byte
}

// SSEReader reads server-sent events with no limit on line length (a 1 MB data line is fine).
// It accepts \n and \r\n line endings, joins multi-line data with \n, and skips comments.
type SSEReader struct {
	r    *bufio.Reader
	line []byte
	data []byte
	name []byte
}

// sseBuffer is the SSE reader's buffer: as large as the HTTP client's own read buffer below it
// (a larger one buffers nothing more, and an open stream holds it for its whole life); a longer
// line is gathered from several reads.
const sseBuffer = 4 << 10

// NewSSEReader reads events from r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, sseBuffer)}
}

// Next returns the next event that has data. It returns io.EOF at the end of the body (an
// unterminated last event is still returned first) and the underlying read error otherwise.
func (s *SSEReader) Next() (SSEEvent, error) {
	s.data = s.data[:0]
	s.name = s.name[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && hasData {
				return SSEEvent{Name: string(s.name), Data: s.data}, nil
			}
			return SSEEvent{}, err
		}
		if len(line) == 0 {
			if hasData {
				return SSEEvent{Name: string(s.name), Data: s.data}, nil
			}
			s.name = s.name[:0]
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, value...)
			hasData = true
		case "event":
			s.name = append(s.name[:0], value...)
		}
	}
}

// readLine returns the next line without its terminator. A final line without terminator is
// returned with a nil error; io.EOF comes only when nothing is left.
func (s *SSEReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		s.line = append(s.line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(s.line) > 0 {
				break
			}
			return nil, err
		}
		break
	}
	line := s.line
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
