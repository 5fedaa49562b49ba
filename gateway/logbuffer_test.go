package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestLogBufferDefersWritesAndFlushesOnClose(t *testing.T) {
	var out syncBuffer
	b := NewLogBuffer(&out, time.Hour)
	b.Write([]byte("line 1\n"))
	b.Write([]byte("line 2\n"))
	if got := out.String(); got != "" {
		t.Fatalf("written before the interval: %q", got)
	}
	b.Close()
	if got := out.String(); got != "line 1\nline 2\n" {
		t.Fatalf("after Close = %q", got)
	}
}

func TestLogBufferWritesAtOnceWhenFull(t *testing.T) {
	var out syncBuffer
	b := NewLogBuffer(&out, time.Hour)
	defer b.Close()
	line := strings.Repeat("x", 1023) + "\n"
	for range logBufferFull / len(line) {
		b.Write([]byte(line))
	}
	deadline := time.After(5 * time.Second)
	for out.String() == "" {
		select {
		case <-deadline:
			t.Fatal("a full buffer was not written")
		case <-time.After(time.Millisecond):
		}
	}
}
