package providers

import (
	"io"
	"time"
)

// After a stream's last event an HTTP/1.1 upstream still has a few bytes to send: the blank line
// closing the event, the chunked encoding's last chunk. net/http returns the connection to its
// pool only when the body was read to its end, and closes it otherwise. These bound that read.
const (
	maxStreamTail  = 4 << 10
	streamTailWait = 200 * time.Millisecond
)

// CloseStream closes a streamed upstream body. ended says the stream's last event was read: then
// what is left is read first, at most maxStreamTail bytes for at most streamTailWait, so the
// connection can carry the next request; an upstream that sends more, or nothing, is cut off. A
// stream that did not end (the client left, an error) is closed at once. Every stream's Close
// ends here.
func CloseStream(body io.ReadCloser, ended bool) error {
	if ended {
		cut := time.AfterFunc(streamTailWait, func() { body.Close() })
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxStreamTail))
		cut.Stop()
	}
	return body.Close()
}
