package main

// Issue 14, item 11: a connection that never sent a request (what any HTTP client's pool leaves
// behind) does not hold the shutdown for its whole timeout; it is closed at once, while a stream
// in flight still finishes.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestAttackShutdownIdleConnection(t *testing.T) {
	held := newHeldStreams(1)
	up := newRelMock(t, held.ServeHTTP)
	defer up.Close()
	g := startRelGateway(t, nil, up.URL) // shutdown_timeout: the default 30s
	addr := strings.TrimPrefix(g.url, "http://")

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	// A stream in flight, its upstream waiting for release.
	resp, err := http.DefaultClient.Do(g.newRequest(context.Background(), relOpenAI, beOpenAI, true, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-held.opened

	stopped := make(chan error, 1)
	go func() { stopped <- g.stop() }()

	// The idle connection is closed by the shutdown, not by the test's bound.
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := idle.Read(make([]byte, 1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Errorf("a connection that never sent a request was still open 10s into the shutdown (timeout 30s)")
	case n != 0 || err == nil:
		t.Errorf("idle connection: read %d bytes, %v; want it closed", n, err)
	}

	// The stream still finishes the normal way, and then the program stops.
	close(held.release)
	b, err := io.ReadAll(resp.Body)
	if err != nil || !streamEnded(relOpenAI, string(b)) {
		t.Errorf("the stream in flight did not finish: %v\n%s", err, b)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the program had not stopped 20s after the stream ended")
	}
}
