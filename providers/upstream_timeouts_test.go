package providers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The header bound ends when the headers arrive: a body that follows later than the header
// timeout but within the idle timeout is read whole. Headers later than the header timeout, or a
// body silent for longer than the idle timeout, end the call with that timeout as the cause.
func TestHeaderThenIdleTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/late-headers" {
			time.Sleep(time.Second)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		pause := 600 * time.Millisecond // longer than the header timeout, shorter than the idle one
		if r.URL.Path == "/silent-body" {
			pause = 3 * time.Second
		}
		select {
		case <-time.After(pause):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	cfg := testConfig()
	cfg.HeaderTimeout, cfg.IdleTimeout = 300*time.Millisecond, 1500*time.Millisecond

	resp, err := post(t, context.Background(), cfg, srv.URL+"/slow-body", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("headers in time: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != `{"ok":true}` {
		t.Fatalf("body after a pause within the idle timeout: %q, %v", b, err)
	}

	if _, err := post(t, context.Background(), cfg, srv.URL+"/late-headers", strings.NewReader(`{}`)); err == nil ||
		AsError(err).Kind != KindTimeout || !strings.Contains(err.Error(), ErrHeaderTimeout.Error()) {
		t.Fatalf("late headers: %v", err)
	}

	resp, err = post(t, context.Background(), cfg, srv.URL+"/silent-body", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("headers in time: %v", err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("silent body: %v, want the idle timeout", err)
	}
}
