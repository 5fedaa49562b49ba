package gateway

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// Call is one admitted request, from Begin to End. Its getters may be called from any
// goroutine; End must be called exactly once (a second call does nothing).
type Call struct {
	g              *Gateway
	client         *Client
	adm            Admission
	requestedModel string
	model          string
	label          string
	provider       providers.Provider
	maxOutput      int
	res            Reservation
	spent          SpendReservation // against the dollar budgets
	start          time.Time
	limits         rateState

	firstByte  atomic.Int64 // ns after start; 0 = not yet
	upstreamAt atomic.Int64 // ns after start; 0 = not yet
	extra      atomic.Int64 // overhead reported with AddOverhead, ns
	ended      atomic.Bool
	// ctx is the upstream context made by Context, if any; it is in client.running until End.
	ctx context.Context
	// spans are the call's spans (trace.go); nil when tracing is off.
	spans *callSpans
	// attempts are the upstream attempts so far and answered the target that answered (route.go);
	// written by the goroutine of Do before it returns, read by End.
	attempts db.Attempts
	answered *target
	// omitted are the tools the current attempt's request left out (providers.Request.OmittedTools),
	// noted on the attempt when it is recorded.
	omitted []string
	// toolSteps are the MCP tool calls made for the call (toolloop.go, tool.go).
	toolSteps db.ToolSteps
}

// Model is the model to ask the upstream for: the requested one or the client's default.
func (c *Call) Model() string { return c.model }

// MaxOutputTokens is the output-token cap to send upstream, in whatever field the protocol
// uses; 0 means no cap (leave the client's request as it is).
func (c *Call) MaxOutputTokens() int { return c.maxOutput }

// RateLimitHeaders are the x-ratelimit-* headers for this response, as of admission.
func (c *Call) RateLimitHeaders() []Header { return c.limits.headers() }

// RateLimits is the state RateLimitHeaders formats, for writing the headers without allocating.
func (c *Call) RateLimits() RateLimits { return RateLimits{c.limits} }

// Context returns the context of the call's upstream request: a child of parent that the
// returned cancel ends, and that the gateway ends when an administrator deletes the client,
// disables it or gives it a new key while the call runs. Its cause is then an error that
// providers.AsError reads as a *providers.Error of KindAuth saying why, for the front door to
// send in-band; End accounts the call with that error and the usage it is given. Call Context
// at most once, before the upstream request, and End after the context's last use.
func (c *Call) Context(parent context.Context) (context.Context, context.CancelFunc) {
	return c.own(context.WithCancelCause(parent))
}

// own is Context for a ctx made for this call alone, with its cancel: the call's context is ctx
// itself, ended by the gateway in the same cases.
func (c *Call) own(ctx context.Context, cancel context.CancelCauseFunc) (context.Context, context.CancelFunc) {
	c.ctx = ctx
	c.client.running.join(c, cancel)
	return ctx, func() { cancel(context.Canceled) }
}

// Upstream marks the moment the request is handed to the upstream. The gateway's overhead is
// the time from Admission.Received to this moment plus whatever AddOverhead reports.
func (c *Call) Upstream() { c.mark(&c.upstreamAt) }

// FirstByte marks the moment the first byte of the answer is sent to the client (time to first
// token). Later calls do nothing.
func (c *Call) FirstByte() { c.mark(&c.firstByte) }

func (c *Call) mark(at *atomic.Int64) {
	d := max(int64(c.g.now().Sub(c.start)), 1)
	at.CompareAndSwap(0, d)
}

// AddOverhead adds gateway time spent after the request went upstream (translating and relaying
// the answer) to the overhead observed in ai_gateway_overhead_seconds.
func (c *Call) AddOverhead(d time.Duration) { c.extra.Add(int64(d)) }

// Outcome is how a call ended.
type Outcome struct {
	// Status is the HTTP status the client got (or would have got: 499 when it went away).
	// 0 means 200 without Err, else Err's status. A status ≥ 400 with a nil Err means the
	// upstream answered with that status and the front door passed it on.
	Status int
	// Usage is the upstream's usage report (Estimated when the gateway counted itself).
	Usage        providers.Usage
	FinishReason string
	// Err is the failure, if any; its message goes to the log (redacted).
	Err error
	// ModelUsed is the model the upstream reports; empty means Call.Model.
	ModelUsed string
	// RequestBody and ResponseBody are logged only when body logging is on: the first 64 KiB,
	// with keys redacted. They are copied; the caller may reuse them after End.
	RequestBody  []byte
	ResponseBody []byte
}

// End settles the call: the reservation becomes the real usage, the metrics and live stats are
// updated, and the request log row and usage delta go to the background writer. It never
// blocks on the database. Only the first call counts.
func (c *Call) End(o Outcome) {
	if !c.ended.CompareAndSwap(false, true) {
		return
	}
	g, cl := c.g, c.client
	now := g.now()
	latency := now.Sub(c.start)
	if c.ctx != nil {
		cl.running.leave(c)
		// Whatever error the front door saw (the transport's wrapping of the cause, a read that
		// failed), a call the administrator stopped is logged as such.
		if o.Err != nil {
			var why *revocation
			if errors.As(context.Cause(c.ctx), &why) {
				o.Err, o.Status = why.refusal(), 0
			}
		}
	}

	var perr *providers.Error
	if o.Err != nil {
		perr = providers.AsError(o.Err)
	}
	status := o.Status
	if status == 0 {
		status = 200
		if perr != nil {
			status = perr.Status()
		}
	}
	failed := status >= 400 || perr != nil
	u := o.Usage

	g.counters.Settle(cl.key, c.res, u)
	// The answer served is the target that answered (route.go): its backend and the model it was
	// asked for name the request in the log and price its usage, once.
	provider, asked := cl.Backend, c.model
	if c.answered != nil {
		provider = c.answered.backend
		if c.answered.model != "" {
			asked = c.answered.model
		}
	} else if n := len(c.attempts); n > 0 {
		provider = c.attempts[n-1].Provider
	}
	used := strings.Clone(o.ModelUsed) // may point into a reused upstream buffer
	if used == "" {
		used = asked
	}
	cost, saved := c.settleSpend(provider, used, asked, u)
	g.inFlight.Add(-1)
	m := g.metrics
	m.inProgress.Dec()
	m.requests.WithLabelValues(cl.Name, c.label, statusLabel(status)).Inc()
	if u.InputTokens > 0 {
		m.inputTokens.WithLabelValues(cl.Name, c.label).Add(float64(u.InputTokens))
	}
	if u.OutputTokens > 0 {
		m.outputTokens.WithLabelValues(cl.Name, c.label).Add(float64(u.OutputTokens))
	}
	m.spend(cl.Name, c.label, cost, u)
	m.duration.WithLabelValues(cl.Name).Observe(latency.Seconds())
	ttft := time.Duration(c.firstByte.Load())
	if ttft > 0 {
		m.ttft.WithLabelValues(cl.Name).Observe(ttft.Seconds())
	}
	if overhead := time.Duration(c.upstreamAt.Load() + c.extra.Load()); overhead > 0 {
		m.overhead.Observe(overhead.Seconds())
	}
	if upstreamFailure(perr, status) {
		m.upstreamErrors.WithLabelValues(cl.Name, provider).Inc()
	}

	var errs int64
	if failed {
		errs = 1
	}
	g.stats.Record(StatEvent{Time: now, Client: cl.Name, Model: c.label, Requests: 1, Errors: errs,
		InputTokens: int64(u.InputTokens), OutputTokens: int64(u.OutputTokens), CachedTokens: int64(u.CachedTokens),
		CacheSavedMicros: saved})

	row := db.RequestLog{
		Time:             c.start.UTC(),
		RequestID:        c.adm.RequestID,
		ClientID:         cl.ID,
		Endpoint:         c.adm.Endpoint,
		ModelRequested:   c.requestedModel,
		ModelUsed:        used,
		Provider:         provider,
		Attempts:         c.attempts,
		ToolSteps:        c.toolSteps,
		Stream:           c.adm.Stream,
		Status:           status,
		InputTokens:      int64(u.InputTokens),
		OutputTokens:     int64(u.OutputTokens),
		CachedTokens:     int64(u.CachedTokens),
		ReasoningTokens:  int64(u.ReasoningTokens),
		CacheWriteTokens: int64(u.CacheCreationTokens),
		CostMicros:       cost,
		Estimated:        u.Estimated,
		LatencyMS:        latency.Milliseconds(),
		TTFTMS:           ttft.Milliseconds(),
		FinishReason:     strings.Clone(o.FinishReason),
		ClientIP:         c.adm.ClientIP,
		TraceID:          c.adm.TraceID,
	}
	if perr != nil {
		row.ErrorClass = errorClass(perr.Kind)
		row.ErrorMessage = perr.Message
	} else if status >= 400 {
		row.ErrorClass = errorClass(providers.KindForStatus(status))
	}
	if g.storeBodies.Load() {
		row.RequestBody = clipBody(o.RequestBody)
		row.ResponseBody = clipBody(o.ResponseBody)
	}
	usage := db.UsageDaily{
		ClientID:         cl.ID,
		Day:              c.res.Day,
		Model:            c.model,
		Requests:         1,
		Errors:           errs,
		InputTokens:      int64(u.InputTokens),
		OutputTokens:     int64(u.OutputTokens),
		CachedTokens:     int64(u.CachedTokens),
		ReasoningTokens:  int64(u.ReasoningTokens),
		CacheWriteTokens: int64(u.CacheCreationTokens),
		SavedMicros:      saved,
	}
	usage.CostMicros, usage.Unpriced = costRollup(cost, u)
	g.writer.add(&pendingLog{row: row, secrets: cl.upstreamKeys}, &usage)
	c.endTrace(&o, status, perr, used, ttft)
}

// upstreamFailure reports whether the upstream failed the call (as opposed to the client going
// away): an error from the provider, or an error status passed on from the upstream.
func upstreamFailure(e *providers.Error, status int) bool {
	if e == nil {
		return status >= 400 && status != 499
	}
	switch e.Kind {
	case providers.KindUpstream, providers.KindUnavailable, providers.KindTimeout:
		return true
	case providers.KindCanceled:
		return false
	}
	return e.Provider != ""
}

// errorClass is the request log's error_class for a kind.
func errorClass(k providers.ErrorKind) string {
	switch k {
	case providers.KindBadRequest:
		return "bad_request"
	case providers.KindAuth:
		return "auth"
	case providers.KindPermission:
		return "permission"
	case providers.KindNotFound:
		return "not_found"
	case providers.KindTooLarge:
		return "too_large"
	case providers.KindRateLimited:
		return "rate_limited"
	case providers.KindUpstream:
		return "upstream"
	case providers.KindUnavailable:
		return "unavailable"
	case providers.KindTimeout:
		return "timeout"
	case providers.KindCanceled:
		return "canceled"
	}
	return "internal"
}

// statusLabel formats common statuses without allocating.
func statusLabel(status int) string {
	switch status {
	case 200:
		return "200"
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 404:
		return "404"
	case 429:
		return "429"
	case 499:
		return "499"
	case 500:
		return "500"
	case 502:
		return "502"
	case 503:
		return "503"
	case 504:
		return "504"
	}
	return strconv.Itoa(status)
}
