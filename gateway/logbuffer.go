package gateway

import (
	"io"
	"sync"
	"time"
)

// LogBuffer batches the process log off the request path: Write only copies the line under a
// mutex, and one goroutine writes what collected every interval, or at once when 64 KiB are
// waiting. One access-log line per request would otherwise cost one write syscall per request.
// Close writes the rest; at most one interval of lines is lost if the process crashes.
type LogBuffer struct {
	w        io.Writer
	interval time.Duration

	mu  sync.Mutex
	buf []byte
	// flushMu serialises Flush, which owns spare: the buffer written last, reused as the next buf.
	flushMu sync.Mutex
	spare   []byte
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

const logBufferFull = 64 << 10

// NewLogBuffer starts a LogBuffer writing to w every interval (100ms when ≤ 0).
func NewLogBuffer(w io.Writer, interval time.Duration) *LogBuffer {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	b := &LogBuffer{w: w, interval: interval, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Write queues p; it never blocks on w.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= logBufferFull
	b.mu.Unlock()
	if full {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes what is waiting now.
func (b *LogBuffer) Flush() {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf = b.spare
	b.mu.Unlock()
	if len(out) > 0 {
		b.w.Write(out) //nolint:errcheck // nowhere left to report a failing log
	}
	b.spare = nil
	if cap(out) <= 4*logBufferFull { // a burst's big buffer is let go
		b.spare = out[:0]
	}
}

func (b *LogBuffer) run() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-b.wake:
		case <-b.stop:
			b.Flush()
			return
		}
		b.Flush()
	}
}

// Close writes the rest and stops the goroutine; later Writes are written by the next Flush only.
func (b *LogBuffer) Close() error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return nil
}
