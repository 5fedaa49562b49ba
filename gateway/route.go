package gateway

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// upstream is what one attempt calls: a target's provider with one of its keys, and the model
// to ask it for.
type upstream struct {
	provider providers.Provider
	model    string
	backend  string
}

// attemptFunc makes one attempt on up. It returns nil once the answer is the caller's (a whole
// body, or a stream whose headers arrived): nothing has been written to the caller before that,
// so an error may be retried.
type attemptFunc func(ctx context.Context, up upstream) error

// Outcomes of an attempt, the outcome label of ai_gateway_upstream_attempts_total.
const (
	outcomeOK          = "ok"
	outcomeClientError = "client_error"
	outcomeAuth        = "auth"
	outcomeRateLimited = "rate_limited"
	outcomeServerError = "server_error"
	outcomeTimeout     = "timeout"
	outcomeUnreachable = "unreachable"
	outcomeBreakerOpen = "breaker_open"
	outcomeNoKey       = "no_key"
	outcomeCanceled    = "canceled"
)

// route runs try on the call's targets in order (SPEC §15): on each target, keys in turn, a
// retryable failure retried up to Routing.Retries times after a jittered backoff, then the next
// target. A caller's error (a 4xx other than 401/403/408/429) ends the routing: every target
// would refuse it too. Each attempt is recorded on the call for the request log. The error is
// the last attempt's.
func (g *Gateway) route(ctx context.Context, call *Call, try attemptFunc) error {
	r := g.opts.Routing
	var last error
	for ti, t := range call.client.targets {
		if ti > 0 && last != nil {
			g.routing.fallbacks.WithLabelValues(call.client.Name).Inc()
		}
		model := call.model
		if t.model != "" {
			model = t.model
		}
		start := int(t.next.Add(1) - 1)
		retries := 0
		for turn := 0; ; turn++ {
			k := t.keyAt(start+turn, g.now())
			if k == nil {
				if turn == 0 {
					last = g.skip(call, t, outcomeNoKey, "every key of this target is benched (401/403) or resting (429)",
						&providers.Error{Kind: providers.KindUnavailable, Provider: t.backend,
							Message: "every upstream key of this target is benched (401/403) or resting (429)"})
				}
				break
			}
			if k.err != nil {
				msg := "this target's backend settings are incomplete or invalid; ask the gateway admin to fix them"
				last = g.skip(call, t, outcomeNoKey, msg, &providers.Error{Kind: providers.KindInternal, Provider: t.backend, Message: msg})
				if turn+1 >= len(t.keys) {
					break
				}
				continue
			}
			if !k.health.admit(g.now()) {
				last = g.skip(call, t, outcomeBreakerOpen, "skipped: the circuit breaker is open after repeated failures",
					&providers.Error{Kind: providers.KindUnavailable, Provider: t.backend,
						Message: "the circuit breaker of this upstream is open after repeated failures"})
				break
			}
			began := g.now()
			err := try(call.startAttempt(ctx), upstream{provider: k.provider, model: model, backend: t.backend})
			if err != nil {
				call.endAttempt(err)
			}
			if err == nil {
				k.health.succeeded(g.routing)
				call.attempted(t, began, 200, "", outcomeOK)
				call.answered = t
				return nil
			}
			e := call.client.RedactError(providers.AsError(err))
			outcome, retryable := classify(e)
			call.attempted(t, began, e.Status(), e.Message, outcome)
			last = e
			now := g.now()
			switch {
			case outcome == outcomeCanceled || ctx.Err() != nil:
				k.health.released()
				return e
			case outcome == outcomeClientError:
				k.health.succeeded(g.routing) // the upstream is fine; the request is not
				return e
			case outcome == outcomeAuth:
				k.health.bench(now, strconv.Itoa(e.Status())+": "+e.Message)
				k.health.failed(now, e, r, g.routing)
				continue // the next key, without spending a retry
			}
			k.health.failed(now, e, r, g.routing)
			if outcome == outcomeRateLimited {
				if wait, ok := retryAfter(e.RetryAfter); ok {
					k.health.rest(now.Add(wait))
				}
			}
			if !retryable || retries >= r.Retries {
				break
			}
			if ra, ok := retryAfter(e.RetryAfter); ok && ra > r.BackoffMax && outcome != outcomeRateLimited {
				break // the upstream asks for a longer wait than a retry may take: the next target now
			}
			retries++
			wait := backoff(retries, e.RetryAfter, r.BackoffMax)
			if t.keyAt(start+turn+1, now.Add(wait)) == nil {
				break // every key still rests (or is benched) after the wait: the next target now
			}
			if err := sleep(ctx, wait); err != nil {
				return e
			}
		}
	}
	if last == nil {
		last = &providers.Error{Kind: providers.KindInternal, Message: "this client has no upstream target"}
	}
	return last
}

// keyAt is the key whose turn is at turn among the keys usable now (not benched, not resting),
// or nil when there is none. turn counts on across requests and attempts, so keys take turns
// and a retry takes the next one.
func (t *target) keyAt(turn int, now time.Time) *targetKey {
	if len(t.keys) == 1 {
		if t.keys[0].health.usable(now) {
			return t.keys[0]
		}
		return nil
	}
	usable := make([]*targetKey, 0, len(t.keys))
	for _, k := range t.keys {
		if k.health.usable(now) {
			usable = append(usable, k)
		}
	}
	if len(usable) == 0 {
		return nil
	}
	return usable[turn%len(usable)]
}

// skip records an attempt that did not reach the upstream, with why. Its error for the caller
// is the target's last failure, as the upstream answered it (status, message, Retry-After), or
// fallback when there was none.
func (g *Gateway) skip(call *Call, t *target, outcome, why string, fallback *providers.Error) error {
	e := fallback
	var at time.Time
	for _, k := range t.keys {
		if le, when := k.health.last(); le != nil && when.After(at) {
			e, at = le, when
		}
	}
	call.attempted(t, g.now(), e.Status(), why, outcome)
	return e
}

// attempted records one attempt for the request log and the metrics.
func (c *Call) attempted(t *target, began time.Time, status int, msg, outcome string) {
	c.g.routing.attempts.WithLabelValues(t.backend, outcome).Inc()
	c.attempts = append(c.attempts, db.Attempt{Provider: t.backend, BaseURL: t.baseURL, Status: status,
		LatencyMS: c.g.now().Sub(began).Milliseconds(), Error: msg, OmittedTools: c.omitted})
	c.omitted = nil
}

// classify says what an attempt's failure was, and whether it may be retried (SPEC §15): a
// connection failure, a timeout before headers, 408, 429, 500, 502, 503, 504 and 529.
func classify(e *providers.Error) (outcome string, retryable bool) {
	switch e.Kind {
	case providers.KindCanceled:
		return outcomeCanceled, false
	case providers.KindUnavailable:
		if e.HTTPStatus == 0 {
			return outcomeUnreachable, true
		}
	case providers.KindTimeout:
		if e.HTTPStatus == 0 {
			return outcomeTimeout, true
		}
	case providers.KindInternal:
		if e.Provider == "" {
			return outcomeClientError, false // the gateway's own (a translation it cannot make)
		}
	}
	switch s := e.Status(); s {
	case http.StatusUnauthorized, http.StatusForbidden:
		if e.Provider != "" {
			return outcomeAuth, false
		}
		return outcomeClientError, false
	case http.StatusTooManyRequests:
		return outcomeRateLimited, true
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return outcomeTimeout, true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, 529:
		return outcomeServerError, true
	default:
		if s >= 500 {
			return outcomeServerError, false
		}
	}
	return outcomeClientError, false
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// backoff is the wait before retry n (from 1): the upstream's Retry-After when it sent one, else
// an exponential step from 100ms with full jitter; either capped at limit.
func backoff(n int, retryAfterValue string, limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	if d, ok := retryAfter(retryAfterValue); ok {
		return min(d, limit)
	}
	step := min(100*time.Millisecond<<min(n-1, 10), limit)
	return step/2 + rand.N(step/2+1)
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
