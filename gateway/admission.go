package gateway

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// Admission describes a request the front door has parsed and wants to forward.
type Admission struct {
	// Endpoint is the route called, e.g. "/v1/chat/completions" (stored in the request log).
	Endpoint string
	// FrontDoor is the protocol the client speaks: "openai", "anthropic", "gemini" or "responses".
	FrontDoor string
	// Op is what is asked of the upstream (OpGenerate when empty). Only generations reserve
	// output tokens; OpCountTokens and OpModels reserve no tokens, OpModels needs no model.
	Op string
	// Model is the model the client asked for; empty means the client's default model.
	Model  string
	Stream bool
	// InputTokens is the front door's estimate of the prompt's tokens (0 = unknown).
	InputTokens int64
	// MaxOutputTokens is the output cap the client asked for, whatever its field name
	// (max_tokens, max_completion_tokens, maxOutputTokens); 0 = none.
	MaxOutputTokens int64
	// Choices is how many answers the request asks for (OpenAI n, Gemini candidateCount); each
	// may use MaxOutputTokens. 0 means 1; above MaxChoices → KindBadRequest.
	Choices   int64
	RequestID string
	ClientIP  string
	// TraceID is the request's trace id when its trace is recorded (SPEC §19), for the request
	// log; Do fills it in.
	TraceID string
	// Received is when the front door got the request; zero means now. Latency, time to first
	// token and the gateway's overhead are measured from it.
	Received time.Time
}

// Limit names, used in messages and as the reason label of ai_gateway_rate_limited_total.
const (
	reasonPerMinute    = "requests_per_minute"
	reasonPerHour      = "requests_per_hour"
	reasonPerDay       = "requests_per_day"
	reasonDailyRequest = "max_requests_per_day"
	reasonDailyInput   = "max_input_tokens_per_day"
	reasonDailyOutput  = "max_output_tokens_per_day"
)

// MaxChoices bounds the answers one request may ask for (OpenAI's own limit on n): each can use
// the whole output cap, so the number multiplies what one request may cost.
const MaxChoices = 128

var rateReasons = [3]string{reasonPerMinute, reasonPerHour, reasonPerDay}
var rateWindows = [3]string{"minute", "hour", "24 hours"}

// Begin applies the client's policy to a request, in the order of SPEC §6:
//
//  1. the model: empty becomes the client's default model (none at all → KindBadRequest);
//     an id providers.CheckModelID refuses → KindBadRequest;
//     outside a non-empty whitelist → KindPermission, code "model_not_allowed";
//  2. the rate limits per minute, hour and day (sliding windows) → KindRateLimited;
//  3. the daily quotas (UTC) on requests, input tokens (with the estimate) and output tokens
//     → KindRateLimited; the request is counted and its tokens reserved;
//  4. the per-request caps: an estimate above max_input_tokens → KindBadRequest; the output cap
//     is the client's own clamped to max_output_tokens, set to max_output_tokens when the
//     client sent none, and lowered to what is left of the daily output quota;
//  5. the dollar budgets (reserveBudget): the worst-case cost is reserved, a request the budgets
//     cannot hold → KindRateLimited, code "budget_exceeded".
//
// The output cap is per choice, as providers define max_tokens: a request for several choices
// (Admission.Choices, at most MaxChoices, else KindBadRequest before the rate limits) reserves the
// cap times the choices against the daily output quota. When the quota has less room than that,
// the cap is lowered to the room divided among the choices (the number of choices is never
// changed), and a request that would leave a choice less than one token is refused as the
// exhausted quota is.
//
// A request that passes step 2 counts against the rate limits even when a quota or a cap then
// refuses it; only forwarded requests count against the daily quotas. Every request, refused or
// not, counts in the day's totals (dashboard, clients list, /v1/usage "requests").
//
// Refusals are *Refusal (a backend that cannot be built: its *providers.Error); KindRateLimited
// ones carry RetryAfter. Refused
// requests are counted in the metrics, stats and request log; RateLimitHeaders gives the
// headers for the refusal. The returned Call must be ended exactly once with End.
func (g *Gateway) Begin(c *Client, a Admission) (*Call, error) {
	now := g.now()
	if a.Received.IsZero() {
		a.Received = now
	}
	// A front door's strings may point into the server's request buffers, which are reused once
	// the response is out; what the call keeps (metrics labels, log row, usage key) is copied.
	a.Model, a.RequestID, a.ClientIP = strings.Clone(a.Model), strings.Clone(a.RequestID), strings.Clone(a.ClientIP)
	if c == nil || !c.Active {
		return nil, &Refusal{Kind: providers.KindAuth, Message: "invalid API key"}
	}
	// c may be a snapshot taken just before an administrator took its key away.
	if why := c.running.revoked(); why != nil {
		return nil, why.refusal()
	}
	requested := a.Model
	model := a.Model
	if model == "" && a.Op != OpModels && a.Op != OpTool {
		model = c.DefaultModel
	}
	if model == "" && a.Op != OpModels && a.Op != OpTool {
		return nil, g.reject(c, a, now, "", &Refusal{Kind: providers.KindBadRequest, Param: "model",
			Message: "no model given, and this client has no default model"})
	}
	if model != "" {
		if err := providers.CheckModelID(model); err != nil {
			// Do checks what callers send; this catches a default model stored before the
			// admin forms checked it.
			return nil, g.reject(c, a, now, "", refusalOf(err))
		}
	}
	if model != "" && !c.Allows(model) {
		return nil, g.reject(c, a, now, model, &Refusal{Kind: providers.KindPermission, Code: "model_not_allowed",
			Param: "model", Message: fmt.Sprintf("model %q is not allowed for this API key", model)})
	}
	choices := max(a.Choices, 1)
	if choices > MaxChoices {
		return nil, g.reject(c, a, now, model, &Refusal{Kind: providers.KindBadRequest,
			Message: fmt.Sprintf("the request asks for %d choices; at most %d are allowed per request", choices, MaxChoices)})
	}
	provider, err := c.Provider()
	if a.Op != OpModels && a.Op != OpTool {
		// A call is routed (SPEC §15): a fallback serves it when the client's own backend cannot.
		provider, err = c.callable()
	}
	if err != nil {
		return nil, g.reject(c, a, now, model, err)
	}

	rl := g.limiter.Allow(c.key, c.rates[:], now)
	if !rl.Allowed {
		limit := c.rates[rl.Refused].Limit
		return nil, g.rejectLimit(c, a, now, model, rateReasons[rl.Refused], rl.RetryAfter,
			fmt.Sprintf("rate limit reached: at most %d requests per %s for this API key; retry in %s",
				limit, rateWindows[rl.Refused], ceilSeconds(rl.RetryAfter)))
	}

	outCap := a.MaxOutputTokens
	if q := c.Quota.MaxOutputTokens; q > 0 && (outCap <= 0 || outCap > q) {
		outCap = q
	}
	quota := c.Quota
	switch a.Op {
	case OpCountTokens, OpModels, OpTool:
		// Requests like any other (rate limits, the daily request quota), but they spend no
		// tokens: an exhausted token quota does not refuse them.
		a.InputTokens, outCap = 0, 0
		quota.MaxInputTokensPerDay, quota.MaxOutputTokensPerDay = 0, 0
	case OpEmbed:
		outCap = 0
		quota.MaxOutputTokensPerDay = 0
	}
	day := dayOf(now)
	outCap = min(outCap, math.MaxInt32)
	res, refused, du := g.counters.Reserve(c.key, day, quota, a.InputTokens, outCap, choices)
	if refused != QuotaAdmitted {
		wait := nextMidnight(now).Sub(now)
		var reason, msg string
		switch refused {
		case QuotaRequests:
			reason = reasonDailyRequest
			msg = fmt.Sprintf("daily request quota used up: %d requests per day for this API key", c.Quota.MaxRequestsPerDay)
		case QuotaInputTokens:
			reason = reasonDailyInput
			msg = fmt.Sprintf("daily input token quota reached: %d of %d tokens used", du.InputTokens+du.ReservedInput, c.Quota.MaxInputTokensPerDay)
			if a.InputTokens > 0 {
				msg += fmt.Sprintf(", and this request needs about %d", a.InputTokens)
			}
		default:
			reason = reasonDailyOutput
			msg = fmt.Sprintf("daily output token quota used up: %d tokens per day for this API key", c.Quota.MaxOutputTokensPerDay)
			if left := c.Quota.MaxOutputTokensPerDay - du.OutputTokens - du.ReservedOutput; choices > 1 && left > 0 {
				msg = fmt.Sprintf("daily output token quota: %d of %d tokens left, less than one per choice for the %d choices asked for",
					left, c.Quota.MaxOutputTokensPerDay, choices)
			}
		}
		return nil, g.rejectLimit(c, a, now, model, reason, wait, msg+"; it resets at 00:00 UTC")
	}

	if limit := c.Quota.MaxInputTokens; limit > 0 && a.InputTokens > limit {
		g.counters.Release(c.key, res)
		return nil, g.reject(c, a, now, model, &Refusal{Kind: providers.KindBadRequest, Code: "context_length_exceeded",
			Message: fmt.Sprintf("the request has about %d input tokens; this API key allows at most %d per request", a.InputTokens, limit)})
	}
	if outCap > 0 {
		outCap = res.OutputTokens / choices
	}
	spent, outCap, err := g.reserveBudget(c, a, now, model, outCap, choices)
	if err != nil {
		g.counters.Release(c.key, res)
		return nil, err
	}

	g.inFlight.Add(1)
	g.metrics.inProgress.Inc()
	call := &Call{
		g:              g,
		client:         c,
		adm:            a,
		requestedModel: requested,
		model:          model,
		label:          c.modelLabel(model),
		provider:       provider,
		maxOutput:      int(min(outCap, math.MaxInt32)),
		res:            res,
		spent:          spent,
		start:          a.Received,
		limits:         limitState(c, rl, du, now),
	}
	return call, nil
}

// RateLimitHeaders returns the rate-limit headers of c's current state without counting
// anything: for responses where Begin refused the request (Call.RateLimitHeaders otherwise).
func (g *Gateway) RateLimitHeaders(c *Client) []Header { return g.rateLimits(c).Headers() }

// rateLimits is the state RateLimitHeaders formats (the zero RateLimits for no client).
func (g *Gateway) rateLimits(c *Client) RateLimits {
	if c == nil {
		return RateLimits{}
	}
	now := g.now()
	rl := g.limiter.Status(c.key, c.rates[:], now)
	du := g.counters.Get(c.key, dayOf(now))
	return RateLimits{limitState(c, rl, du, now)}
}

func (g *Gateway) rejectLimit(c *Client, a Admission, now time.Time, model, reason string, wait time.Duration, msg string) error {
	g.metrics.rateLimited.WithLabelValues(c.Name, reason).Inc()
	return g.reject(c, a, now, model, &Refusal{Kind: providers.KindRateLimited, Code: "rate_limit_exceeded",
		Message: msg, RetryAfter: max(wait, time.Second)})
}

// reject accounts for a refused request and returns err: a *Refusal, or the *providers.Error of
// a client whose backend cannot be built. A refused request is a request: it is counted in the
// metrics, the live stats, the request log and usage_daily (as refused, so a restart restores
// the same totals), but spends no quota.
func (g *Gateway) reject(c *Client, a Admission, now time.Time, model string, err error) error {
	e := wireError(err)
	status := e.Status()
	label := c.modelLabel(model)
	day := dayOf(now)
	g.metrics.requests.WithLabelValues(c.Name, label, statusLabel(status)).Inc()
	g.stats.Record(StatEvent{Time: now, Client: c.Name, Model: label, Requests: 1, Errors: 1})
	g.counters.Refuse(c.key, day)
	g.writer.add(&pendingLog{row: db.RequestLog{
		Time:           a.Received.UTC(),
		RequestID:      a.RequestID,
		ClientID:       c.ID,
		Endpoint:       a.Endpoint,
		ModelRequested: a.Model,
		ModelUsed:      "",
		Provider:       c.Backend,
		Stream:         a.Stream,
		Status:         status,
		ErrorClass:     errorClass(e.Kind),
		ErrorMessage:   e.Message,
		Refused:        true,
		LatencyMS:      now.Sub(a.Received).Milliseconds(),
		ClientIP:       a.ClientIP,
		TraceID:        a.TraceID,
		CostMicros:     new(int64), // refused: nothing spent
	}}, &db.UsageDaily{ClientID: c.ID, Day: day, Model: model, Requests: 1, Errors: 1, Refused: 1})
	return err
}

// ceilSeconds rounds d up to whole seconds, at least one.
func ceilSeconds(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second * time.Second
	return max(s, time.Second)
}
