package gateway

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// Calls with a missing, unknown or disabled key go to the request log, but at most
// unauthorizedBurst rows at once and one more per unauthorizedEvery: a flood of bad keys
// cannot fill the log or the writer's queue. The next row written says how many were left out.
const (
	unauthorizedBurst = 20
	unauthorizedEvery = time.Second
)

// unauthorizedLog is the token bucket of those rows.
type unauthorizedLog struct {
	mu      sync.Mutex
	tokens  float64
	last    time.Time
	skipped int64
}

// take reports whether a row may be written at now, and how many were skipped before it.
func (u *unauthorizedLog) take(now time.Time) (bool, int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last.IsZero() {
		u.tokens = unauthorizedBurst
	} else if d := now.Sub(u.last); d > 0 {
		u.tokens = min(u.tokens+float64(d)/float64(unauthorizedEvery), unauthorizedBurst)
	}
	u.last = now
	if u.tokens < 1 {
		u.skipped++
		return false, 0
	}
	u.tokens--
	skipped := u.skipped
	u.skipped = 0
	return true, skipped
}

// Unauthorized logs a call that Authenticate refused (e) with key: a request log row of no
// client (client id 0) that shows only the key's last 4 characters, and only when the key is
// long enough for that to reveal little. It is not counted in the stats: it belongs to no
// client. Rows are rate-limited (see unauthorizedBurst) and go through the background writer.
func (g *Gateway) Unauthorized(a Admission, key string, e error) {
	now := g.now()
	ok, skipped := g.unauthorized.take(now)
	if !ok {
		return
	}
	if a.Received.IsZero() {
		a.Received = now
	}
	msg := "invalid API key"
	if pe := providers.AsError(e); pe != nil {
		msg = pe.Message
	}
	if len(key) >= 16 {
		msg += fmt.Sprintf(" (key ending in …%s)", db.StorableText(key[len(key)-4:], 8))
	}
	if skipped > 0 {
		msg += fmt.Sprintf("; %d more calls with a bad key were not logged before this one", skipped)
	}
	g.writer.add(&pendingLog{row: db.RequestLog{
		Time:           a.Received.UTC(),
		RequestID:      strings.Clone(a.RequestID),
		Endpoint:       a.Endpoint,
		ModelRequested: strings.Clone(a.Model),
		Stream:         a.Stream,
		Status:         401,
		ErrorClass:     errorClass(providers.KindAuth),
		ErrorMessage:   msg,
		Refused:        true,
		LatencyMS:      now.Sub(a.Received).Milliseconds(),
		ClientIP:       strings.Clone(a.ClientIP),
	}}, nil)
}
