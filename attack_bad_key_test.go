package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAttackBadKeyFlood: calls with a wrong key are in the request history (so "401 bad key"
// finds them), showing only the key's last 4 characters, and a flood of them is rate-limited
// so it cannot fill the log.
func TestAttackBadKeyFlood(t *testing.T) {
	g := startRelGateway(t, nil, "")
	const wrong = "gm_thisIsNotAKeyOfAnyClient_9z8Y"
	for range 300 {
		if st := chat(t, g.url, wrong, "gpt-4o-mini"); st != http.StatusUnauthorized {
			t.Fatalf("wrong key: %d, want 401", st)
		}
	}
	if err := g.stop(); err != nil { // writes what is queued
		t.Fatal(err)
	}
	h := g.openDB()
	var rows []struct {
		ClientID     int64  `bun:"client_id"`
		Status       int    `bun:"status"`
		ErrorMessage string `bun:"error_message"`
		Endpoint     string `bun:"endpoint"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.NewSelect().Table("request_log").Column("client_id", "status", "error_message", "endpoint").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no request log row for 300 calls with a wrong key")
	}
	if len(rows) > 60 { // a burst of 20 and one a second: the test runs for a few seconds at most
		t.Fatalf("%d rows for 300 calls with a wrong key: the log is not protected from a flood", len(rows))
	}
	r := rows[0]
	if r.ClientID != 0 || r.Status != 401 || r.Endpoint != "/v1/chat/completions" || !strings.Contains(r.ErrorMessage, "…9z8Y") {
		t.Fatalf("row %+v: want client 0, 401, the endpoint and the key's last 4 characters", r)
	}
	for _, r := range rows {
		if strings.Contains(r.ErrorMessage, wrong[:12]) {
			t.Fatalf("the key itself is in the log: %q", r.ErrorMessage)
		}
	}
}
