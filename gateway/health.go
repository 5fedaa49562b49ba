package gateway

import (
	"crypto/sha256"

	"encoding/hex"
	"github.com/aigateway/ai-gateway/providers"
	"strings"
	"sync"
	"time"
)

// Routing says how the gateway treats a failed upstream attempt (SPEC §15, config upstream.*).
type Routing struct {
	// Retries is how many times a retryable failure is retried on the same target.
	Retries int
	// BackoffMax caps the jittered wait before a retry, Retry-After included; 0 = no wait.
	BackoffMax time.Duration
	// BreakerFailures consecutive failed attempts open a target's breaker; 0 = no breaker.
	BreakerFailures int
	// BreakerCooldown is how long an open breaker skips its target before one probe may pass.
	BreakerCooldown time.Duration
}

// Breaker states, as the dashboard and the tests name them.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half-open"
)

// upstreamHealth is what the gateway knows about one target reached with one key: its circuit
// breaker, and whether the key is benched (401/403) or resting (429). It is shared by every
// client that uses the same backend, base URL and key.
type upstreamHealth struct {
	// label names the target in metrics and on the dashboard: backend, base URL, key hint.
	label string

	mu        sync.Mutex
	failures  int
	openUntil time.Time // zero: closed
	probing   bool      // half-open: the one probe is in flight
	benchedAt time.Time // zero: not benched
	benchErr  string
	restUntil time.Time
	// lastErr is the upstream's last failure and lastAt when it came: what a caller is told
	// when the target is skipped without a call.
	lastErr *providers.Error
	lastAt  time.Time
}

// HealthStatus is a snapshot of one target key's health, for the admin UI.
type HealthStatus struct {
	// Target names the target key: backend, base URL and key hint, never the key.
	Target string `json:"target"`
	// Breaker is BreakerClosed, BreakerOpen or BreakerHalfOpen; OpenUntil is set when open.
	Breaker   string    `json:"breaker"`
	OpenUntil time.Time `json:"open_until,omitzero"`
	Failures  int       `json:"failures"`
	// BenchedAt and BenchError are set when the key answered 401/403.
	BenchedAt  time.Time `json:"benched_at,omitzero"`
	BenchError string    `json:"bench_error,omitempty"`
	// RestUntil is set while the key rests after a 429.
	RestUntil time.Time `json:"rest_until,omitzero"`
}

// healthOf returns the shared health of a target reached with key, creating it on first use.
func (g *Gateway) healthOf(backend, baseURL, azureVersion, key, hint string) *upstreamHealth {
	sum := sha256.Sum256([]byte(backend + "\x00" + baseURL + "\x00" + azureVersion + "\x00" + key))
	id := hex.EncodeToString(sum[:])
	if h, ok := g.health.Load(id); ok {
		return h.(*upstreamHealth)
	}
	where := baseURL
	if where == "" {
		where = "default"
	}
	label := backend + " " + where
	if hint != "" {
		label += " …" + hint
	}
	h, _ := g.health.LoadOrStore(id, &upstreamHealth{label: strings.TrimSpace(label)})
	return h.(*upstreamHealth)
}

// status reports h as of now.
func (h *upstreamHealth) status(now time.Time) HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := HealthStatus{Target: h.label, Breaker: BreakerClosed, Failures: h.failures, BenchedAt: h.benchedAt,
		BenchError: h.benchErr}
	switch {
	case h.openUntil.IsZero():
	case now.Before(h.openUntil):
		s.Breaker, s.OpenUntil = BreakerOpen, h.openUntil
	default:
		s.Breaker = BreakerHalfOpen
	}
	if now.Before(h.restUntil) {
		s.RestUntil = h.restUntil
	}
	return s
}

// usable reports whether the key may be tried now: not benched, not resting.
func (h *upstreamHealth) usable(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.benchedAt.IsZero() && !now.Before(h.restUntil)
}

// admit asks the breaker for one attempt: always when closed; never while open; once, for the
// probe, when the cooldown is over (half-open).
func (h *upstreamHealth) admit(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.openUntil.IsZero():
		return true
	case now.Before(h.openUntil), h.probing:
		return false
	}
	h.probing = true
	return true
}

// succeeded closes the breaker: the upstream answered (an answer, or the caller's own error).
func (h *upstreamHealth) succeeded(m *routingMetrics) {
	h.mu.Lock()
	wasOpen := !h.openUntil.IsZero()
	h.failures, h.openUntil, h.probing = 0, time.Time{}, false
	h.mu.Unlock()
	if wasOpen {
		m.breakerOpen.WithLabelValues(h.label).Set(0)
	}
}

// failed counts a failed attempt with error e; the failures-th in a row, or a failed probe,
// opens the breaker for cooldown. failures 0 means no breaker.
func (h *upstreamHealth) failed(now time.Time, e *providers.Error, r Routing, m *routingMetrics) {
	h.mu.Lock()
	h.lastErr, h.lastAt = e, now
	if r.BreakerFailures <= 0 {
		h.mu.Unlock()
		return
	}
	h.failures++
	open := h.probing || h.failures >= r.BreakerFailures
	if open {
		h.openUntil, h.probing = now.Add(r.BreakerCooldown), false
	}
	h.mu.Unlock()
	if open {
		m.breakerOpen.WithLabelValues(h.label).Set(1)
	}
}

// last is the upstream's last failure on this key and when it came (nil if none).
func (h *upstreamHealth) last() (*providers.Error, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastErr, h.lastAt
}

// released gives up a probe that decided nothing (the caller went away).
func (h *upstreamHealth) released() {
	h.mu.Lock()
	h.probing = false
	h.mu.Unlock()
}

// bench takes the key out of rotation after a 401/403, until an administrator saves the client.
func (h *upstreamHealth) bench(now time.Time, why string) {
	h.mu.Lock()
	h.benchedAt, h.benchErr = now, why
	h.mu.Unlock()
}

// unbench puts the key back in rotation (its client was saved).
func (h *upstreamHealth) unbench() {
	h.mu.Lock()
	h.benchedAt, h.benchErr = time.Time{}, ""
	h.mu.Unlock()
}

// rest keeps the key out of rotation until until (a 429's Retry-After).
func (h *upstreamHealth) rest(until time.Time) {
	h.mu.Lock()
	if until.After(h.restUntil) {
		h.restUntil = until
	}
	h.mu.Unlock()
}
