package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// `ai-gateway healthcheck` is the Docker image's health check: it succeeds against a running
// gateway's /readyz and fails, saying why, when the gateway is not ready or not there.
func TestHealthcheckCommand(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, nil, "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0")
	out, err := runCmd(t, nil, "healthcheck", "-url", srv.url+"/readyz")
	if err != nil || strings.TrimSpace(out) != "ready" {
		t.Fatalf("against a running gateway: %v %q", err, out)
	}

	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"database unreachable"}`, http.StatusServiceUnavailable)
	}))
	defer notReady.Close()
	if _, err := runCmd(t, nil, "healthcheck", "-url", notReady.URL+"/readyz"); err == nil || !strings.Contains(err.Error(), "not ready: 503") {
		t.Fatalf("against a gateway that is not ready: %v", err)
	}

	srv.stop()
	if _, err := runCmd(t, nil, "healthcheck", "-url", srv.url+"/readyz", "-timeout", "2s"); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("against a stopped gateway: %v", err)
	}
}
