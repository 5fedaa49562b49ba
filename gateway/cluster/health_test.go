package cluster

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A Redis outage logs a line at most every five seconds however many calls fail, counts every
// failure, skips Redis for a second after each, and logs once when Redis answers again.
func TestHealthLogsAtMostEveryFewSeconds(t *testing.T) {
	var logs bytes.Buffer
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	h, err := newHealth(reg, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	lines := func() int { return strings.Count(logs.String(), "\n") }
	for i := range 100 {
		h.failed("limiter", errors.New("connection refused"))
		now = now.Add(40 * time.Millisecond) // 4s in all
		if i == 0 && h.usable() {
			t.Fatal("Redis is tried again right after a failure")
		}
	}
	if lines() != 1 {
		t.Fatalf("%d log lines for 100 failures within 4s, want 1:\n%s", lines(), logs.String())
	}
	now = now.Add(time.Second)
	if !h.usable() {
		t.Fatal("Redis is not tried again a second after the last failure")
	}
	now = now.Add(time.Second)
	h.failed("quota", errors.New("connection refused"))
	if lines() != 2 || !strings.Contains(logs.String(), "failures_not_logged=99") {
		t.Fatalf("after 5s: want a second line counting the 99 not logged:\n%s", logs.String())
	}
	if n := testutil.ToFloat64(h.errors.WithLabelValues("limiter")); n != 100 {
		t.Fatalf("ai_gateway_redis_errors_total{op=limiter} = %v, want 100", n)
	}
	if testutil.ToFloat64(h.up) != 0 {
		t.Fatal("ai_gateway_redis_up is not 0 during the outage")
	}
	h.ok()
	h.ok()
	if lines() != 3 || !strings.Contains(logs.String(), "redis reachable again") || testutil.ToFloat64(h.up) != 1 {
		t.Fatalf("recovery: want one line and redis_up 1:\n%s", logs.String())
	}
}
