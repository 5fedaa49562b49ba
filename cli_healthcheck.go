package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// defaultHealthURL is where `ai-gateway healthcheck` asks by default: the readiness endpoint of
// a gateway on this machine's default port.
const defaultHealthURL = "http://127.0.0.1:8090/readyz"

// cmdHealthcheck asks a running gateway whether it is ready (GET /readyz answers 200) and fails
// otherwise: the container health check of an image that has no curl or wget.
func cmdHealthcheck(ctx context.Context, args []string, configPath string, _ func(string) string, stdout io.Writer) error {
	fs := subFlags("healthcheck", stdout, &configPath)
	u := fs.String("url", defaultHealthURL, "the readiness URL to ask")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: the gateway does not answer: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: not ready: %d %s", resp.StatusCode, body)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}
