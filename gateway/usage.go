package gateway

import "time"

// UsageReport is a client's own view of its limits and today's usage (GET /v1/usage).
type UsageReport struct {
	Client string `json:"client"`
	// Day is today (UTC); the daily quotas reset at ResetsAt.
	Day       string         `json:"day"`
	ResetsAt  time.Time      `json:"resets_at"`
	RateLimit RateLimit      `json:"rate_limit"`
	Quota     Quota          `json:"quota"`
	Usage     UsageToday     `json:"usage"`
	Spend     SpendUSD       `json:"spend"`
	Budget    BudgetUSD      `json:"budget"`
	Remaining UsageRemaining `json:"remaining"`
}

// SpendUSD is what a client spent today and this month (UTC), in dollars; requests to models
// without a price add nothing.
type SpendUSD struct {
	TodayUSD float64 `json:"today_usd"`
	MonthUSD float64 `json:"month_usd"`
}

// BudgetUSD is a client's dollar budgets; 0 means none.
type BudgetUSD struct {
	USDPerDay   float64 `json:"usd_per_day"`
	USDPerMonth float64 `json:"usd_per_month"`
}

// UsageToday is what a client used today; tokens of requests still in flight are not in it yet.
type UsageToday struct {
	// Requests counts every request of the day, as the dashboard does: forwarded ones and those the
	// gateway refused (Refused of them: rate limits, quotas, models not allowed). Only
	// Requests - Refused count against the daily request quota.
	Requests        int64 `json:"requests"`
	Refused         int64 `json:"refused"`
	InputTokens     int64 `json:"input_tokens"`
	OutputTokens    int64 `json:"output_tokens"`
	CachedTokens    int64 `json:"cached_tokens"`
	ReasoningTokens int64 `json:"reasoning_tokens"`
	InFlight        int64 `json:"in_flight"`
}

// UsageRemaining is what a client may still use; null where there is no limit.
type UsageRemaining struct {
	// Requests, InputTokens and OutputTokens are left of today's quotas (in-flight reservations
	// count as used).
	Requests     *int64 `json:"requests"`
	InputTokens  *int64 `json:"input_tokens"`
	OutputTokens *int64 `json:"output_tokens"`
	// RequestsThisMinute, …Hour and …Day are left of the sliding-window rate limits.
	RequestsThisMinute *int64 `json:"requests_this_minute"`
	RequestsThisHour   *int64 `json:"requests_this_hour"`
	RequestsThisDay    *int64 `json:"requests_this_day"`
	// USDToday and USDMonth are left of the dollar budgets, in dollars (in-flight reservations
	// count as spent); never below 0.
	USDToday *float64 `json:"usd_today"`
	USDMonth *float64 `json:"usd_month"`
}

// Usage reports c's limits, today's usage and what remains. It counts nothing.
func (g *Gateway) Usage(c *Client) UsageReport {
	now := g.now()
	day := dayOf(now)
	du := g.counters.Get(c.key, day)
	r := UsageReport{
		Client:    c.Name,
		Day:       day,
		ResetsAt:  nextMidnight(now),
		RateLimit: c.RateLimit,
		Quota:     c.Quota,
		Usage: UsageToday{
			Requests: du.Requests + du.Refused, Refused: du.Refused, InputTokens: du.InputTokens, OutputTokens: du.OutputTokens,
			CachedTokens: du.CachedTokens, ReasoningTokens: du.ReasoningTokens, InFlight: du.InFlight,
		},
	}
	left := func(limit, used int64) *int64 {
		if limit <= 0 {
			return nil
		}
		v := max(limit-used, 0)
		return &v
	}
	r.Remaining.Requests = left(c.Quota.MaxRequestsPerDay, du.Requests)
	r.Remaining.InputTokens = left(c.Quota.MaxInputTokensPerDay, du.InputTokens+du.ReservedInput)
	r.Remaining.OutputTokens = left(c.Quota.MaxOutputTokensPerDay, du.OutputTokens+du.ReservedOutput)
	sp := g.spend.Get(c.key, day, monthOf(now))
	r.Spend = SpendUSD{TodayUSD: float64(sp.DayMicros) / 1e6, MonthUSD: float64(sp.MonthMicros) / 1e6}
	r.Budget = BudgetUSD{USDPerDay: float64(c.Budget.DayMicros) / 1e6, USDPerMonth: float64(c.Budget.MonthMicros) / 1e6}
	usdLeft := func(limit, spent int64) *float64 {
		if limit <= 0 {
			return nil
		}
		v := float64(max(limit-spent-sp.Reserved, 0)) / 1e6
		return &v
	}
	r.Remaining.USDToday = usdLeft(c.Budget.DayMicros, sp.DayMicros)
	r.Remaining.USDMonth = usdLeft(c.Budget.MonthMicros, sp.MonthMicros)
	rateLeft := [3]**int64{&r.Remaining.RequestsThisMinute, &r.Remaining.RequestsThisHour, &r.Remaining.RequestsThisDay}
	for i, rate := range c.rates {
		if rate.Limit <= 0 {
			continue
		}
		// Ask about one rate at a time (the others set to "no limit"), so each reports its own
		// remaining count rather than the tightest one.
		var one [3]Rate
		one[i] = rate
		s := g.limiter.Status(c.key, one[:], now)
		*rateLeft[i] = left(s.Limit, s.Limit-s.Remaining)
	}
	return r
}
