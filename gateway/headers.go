package gateway

import (
	"strconv"
	"time"
)

// Header is one response header.
type Header struct {
	Name  string
	Value string
}

// rateState is what the x-ratelimit-* headers report, taken at admission.
type rateState struct {
	// requests: the tightest of the three rate limits and the daily request quota.
	reqLimit, reqRemaining int64
	reqReset               time.Duration
	// daily token quotas; limit 0 = none.
	inLimit, inRemaining   int64
	outLimit, outRemaining int64
	dayReset               time.Duration
}

func limitState(c *Client, rl RateResult, du DayUsage, now time.Time) rateState {
	s := rateState{dayReset: nextMidnight(now).Sub(now)}
	if rl.Limit > 0 {
		s.reqLimit, s.reqRemaining, s.reqReset = rl.Limit, rl.Remaining, rl.Reset
	}
	if q := c.Quota.MaxRequestsPerDay; q > 0 {
		left := max(q-du.Requests, 0)
		if s.reqLimit == 0 || left < s.reqRemaining {
			s.reqLimit, s.reqRemaining, s.reqReset = q, left, s.dayReset
		}
	}
	if q := c.Quota.MaxInputTokensPerDay; q > 0 {
		s.inLimit, s.inRemaining = q, max(q-du.InputTokens-du.ReservedInput, 0)
	}
	if q := c.Quota.MaxOutputTokensPerDay; q > 0 {
		s.outLimit, s.outRemaining = q, max(q-du.OutputTokens-du.ReservedOutput, 0)
	}
	return s
}

// headers formats the state as OpenAI-style rate-limit headers (SPEC §4):
//
//   - x-ratelimit-{limit,remaining,reset}-requests: the limit with the fewest requests left
//     among the per-minute, per-hour and per-day rate limits and the daily request quota;
//     reset is the time until it is back to its full allowance;
//   - x-ratelimit-{limit,remaining,reset}-tokens: the daily input-token quota (OpenAI's
//     "tokens"), and the same with -input-tokens and -output-tokens for each daily token quota,
//     resetting at 00:00 UTC.
//
// Remaining tokens count tokens reserved by requests still in flight as used. A group is left
// out when its limit is not set. Durations are written like OpenAI's ("1s", "6m0s").
func (s rateState) headers() []Header {
	h := make([]Header, 0, 12) // every header below, allocated once
	if s.reqLimit > 0 {
		h = append(h,
			Header{"x-ratelimit-limit-requests", strconv.FormatInt(s.reqLimit, 10)},
			Header{"x-ratelimit-remaining-requests", strconv.FormatInt(s.reqRemaining, 10)},
			Header{"x-ratelimit-reset-requests", resetValue(s.reqReset)})
	}
	reset := resetValue(s.dayReset)
	if s.inLimit > 0 {
		limit, left := strconv.FormatInt(s.inLimit, 10), strconv.FormatInt(s.inRemaining, 10)
		h = append(h,
			Header{"x-ratelimit-limit-tokens", limit},
			Header{"x-ratelimit-remaining-tokens", left},
			Header{"x-ratelimit-reset-tokens", reset},
			Header{"x-ratelimit-limit-input-tokens", limit},
			Header{"x-ratelimit-remaining-input-tokens", left},
			Header{"x-ratelimit-reset-input-tokens", reset})
	}
	if s.outLimit > 0 {
		h = append(h,
			Header{"x-ratelimit-limit-output-tokens", strconv.FormatInt(s.outLimit, 10)},
			Header{"x-ratelimit-remaining-output-tokens", strconv.FormatInt(s.outRemaining, 10)},
			Header{"x-ratelimit-reset-output-tokens", reset})
	}
	return h
}

// resetValue writes d rounded up to the second ("0s" when nothing is counted).
func resetValue(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return ceilSeconds(d).String()
}
