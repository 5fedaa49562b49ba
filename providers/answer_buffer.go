package providers

import (
	"io"
	"sync"
)

// AnswerBuffer holds a whole upstream answer read with ReadAnswer: memory from a pool that the
// next answer reuses once Release gives it back. Whoever holds the answer last releases it,
// after every byte of it has been copied out (to the client's response buffer, to a log row);
// nothing may read the answer after that. A nil *AnswerBuffer is an answer outside the pool, and
// Release on it does nothing.
type AnswerBuffer struct {
	b []byte
}

// maxPooledAnswer is the largest answer whose memory goes back to the pool: larger ones are
// rare, and keeping their buffers would hold memory for the next small one.
const maxPooledAnswer = 64 << 10

var answerPool = sync.Pool{New: func() any { return new(AnswerBuffer) }}

// ReadAnswer is ReadBody into pooled memory when the answer announced a size the pool serves
// (Content-Length): the body, and the buffer to release once the body has been copied out. Any
// other answer is read by ReadBody and comes with a nil buffer.
func ReadAnswer(r io.Reader, size, limit int64) ([]byte, *AnswerBuffer, error) {
	if size <= 0 || size >= limit || size+1 > maxPooledAnswer {
		b, err := ReadBody(r, size, limit)
		return b, nil, err
	}
	ab := answerPool.Get().(*AnswerBuffer)
	if int64(cap(ab.b)) < size+1 {
		ab.b = make([]byte, 0, max(size+1, 2<<10))
	}
	// Read into the announced size plus one byte where the end shows, as ReadBody does.
	b := ab.b[: 0 : size+1]
	for len(b) < cap(b) {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, ab, nil
		}
		if err != nil {
			ab.Release()
			return nil, nil, err
		}
	}
	// More than announced: read on, within limit, into memory of its own.
	rest, err := ReadBody(r, -1, limit-int64(len(b)))
	whole := append(append(make([]byte, 0, len(b)+len(rest)), b...), rest...)
	ab.Release()
	return whole, nil, err
}

// Release gives the buffer back to the pool. The answer read into it must not be used again.
func (ab *AnswerBuffer) Release() {
	if ab == nil {
		return
	}
	answerPool.Put(ab)
}
