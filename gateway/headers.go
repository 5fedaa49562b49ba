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

// RateLimits is the rate-limit state of one answer, taken at admission: Each writes it as
// headers with one small allocation (the scratch buffer). The zero value writes none.
type RateLimits struct{ s rateState }

// Each calls set with every x-ratelimit-* header, in order (SPEC §4):
//
//   - x-ratelimit-{limit,remaining,reset}-requests: the limit with the fewest requests left
//     among the per-minute, per-hour and per-day rate limits and the daily request quota;
//     reset is the time until it is back to its full allowance;
//   - x-ratelimit-{limit,remaining,reset}-tokens: the daily input-token quota (OpenAI's
//     "tokens"), and the same with -input-tokens and -output-tokens for each daily token quota,
//     resetting at 00:00 UTC.
//
// Remaining tokens count tokens reserved by requests still in flight as used. A group is left
// out when its limit is not set. Durations are written like OpenAI's ("1s", "6m0s"). value is
// scratch memory, valid only during the call: set copies what it keeps.
func (r RateLimits) Each(set func(name string, value []byte)) {
	s := r.s
	var scratch [24]byte
	num := func(n int64) []byte { return strconv.AppendInt(scratch[:0], n, 10) }
	if s.reqLimit > 0 {
		set("x-ratelimit-limit-requests", num(s.reqLimit))
		set("x-ratelimit-remaining-requests", num(s.reqRemaining))
		set("x-ratelimit-reset-requests", appendReset(scratch[:0], s.reqReset))
	}
	if s.inLimit > 0 {
		set("x-ratelimit-limit-tokens", num(s.inLimit))
		set("x-ratelimit-remaining-tokens", num(s.inRemaining))
		set("x-ratelimit-reset-tokens", appendReset(scratch[:0], s.dayReset))
		set("x-ratelimit-limit-input-tokens", num(s.inLimit))
		set("x-ratelimit-remaining-input-tokens", num(s.inRemaining))
		set("x-ratelimit-reset-input-tokens", appendReset(scratch[:0], s.dayReset))
	}
	if s.outLimit > 0 {
		set("x-ratelimit-limit-output-tokens", num(s.outLimit))
		set("x-ratelimit-remaining-output-tokens", num(s.outRemaining))
		set("x-ratelimit-reset-output-tokens", appendReset(scratch[:0], s.dayReset))
	}
}

// Headers are the headers Each writes, as strings of their own.
func (r RateLimits) Headers() []Header {
	var h []Header
	r.Each(func(name string, value []byte) { h = append(h, Header{name, string(value)}) })
	return h
}

// headers formats the state as the x-ratelimit-* headers (see RateLimits.Each).
func (s rateState) headers() []Header { return RateLimits{s}.Headers() }

// appendReset appends d rounded up to the second as time.Duration writes it: "0s" when nothing
// is counted, "59s", "6m0s", "24h0m0s".
func appendReset(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, "0s"...)
	}
	secs := int64(ceilSeconds(d) / time.Second)
	h, m, sec := secs/3600, secs/60%60, secs%60
	if h > 0 {
		b = append(strconv.AppendInt(b, h, 10), 'h')
	}
	if h > 0 || m > 0 {
		b = append(strconv.AppendInt(b, m, 10), 'm')
	}
	return append(strconv.AppendInt(b, sec, 10), 's')
}
