package gateway

import (
	"fmt"
	"math"
	"time"

	"github.com/aigateway/ai-gateway/pricing"
	"github.com/aigateway/ai-gateway/providers"
)

// reasonBudget* name the budgets in messages and as the reason label of ai_gateway_rate_limited_total.
const (
	reasonBudgetDay   = "budget_usd_per_day"
	reasonBudgetMonth = "budget_usd_per_month"
)

// reserveBudget is admission's last step (SPEC §16): it reserves the request's worst-case cost,
// the estimated input plus the output cap of every choice at the model's price, against the
// client's dollar budgets. Without a cap (outCap 0) the cap becomes what the budgets leave, as
// the daily output quota does, so no answer can cost more than was reserved. With fallbacks the
// worst case is the dearest target's (targetRates): whichever answers, the budget holds. A
// request the budgets cannot hold is refused with KindRateLimited, code "budget_exceeded" and
// Retry-After to the reset (the next UTC midnight, or the first of next month for the monthly
// budget).
//
// A model without a price reserves nothing: its cost is unknown, and refusing every request to
// an unpriced model would stop clients that run local models.
func (g *Gateway) reserveBudget(c *Client, a Admission, now time.Time, model string, outCap, choices int64) (SpendReservation, int64, error) {
	if !c.Budget.Set() || model == "" || a.Op == OpCountTokens || a.Op == OpModels {
		return SpendReservation{}, outCap, nil
	}
	rates := g.targetRates(c, model)
	if len(rates) == 0 {
		return SpendReservation{}, outCap, nil
	}
	day, month := dayOf(now), monthOf(now)
	var inCost int64
	var outPrice float64
	for _, r := range rates {
		inCost = max(inCost, pricing.Cost(r, pricing.Tokens{Input: max(a.InputTokens, 0)}))
		outPrice = max(outPrice, r.For(a.InputTokens).Output)
	}
	if outCap == 0 && outPrice > 0 && a.Op != OpEmbed {
		left := budgetLeft(g.spend.Get(c.key, day, month), c.Budget)
		// micro-dollars / (micro-dollars per token) = tokens, shared among the choices.
		per := math.Floor(float64(left-inCost) / outPrice / float64(choices))
		outCap = int64(min(max(per, 0), math.MaxInt32))
		if outCap < 1 {
			return SpendReservation{}, 0, g.refuseBudget(c, a, now, model, "day", left)
		}
	}
	var worst int64
	for _, r := range rates {
		worst = max(worst, pricing.Cost(r, pricing.Tokens{Input: max(a.InputTokens, 0), Output: outCap * choices}))
	}
	r, refused := g.spend.Reserve(c.key, day, month, c.Budget, worst)
	if refused != "" {
		left := budgetLeft(g.spend.Get(c.key, day, month), c.Budget)
		return SpendReservation{}, 0, g.refuseBudget(c, a, now, model, refused, left)
	}
	return r, outCap, nil
}

// targetRates are the prices of every target that may answer a call for model (SPEC §15): the
// client's own backend and each fallback, at the model it would be asked for. Any of them may
// answer, so the reservation holds the dearest; an unpriced target reserves nothing (its cost
// is unknown), as an unpriced client does.
func (g *Gateway) targetRates(c *Client, model string) []pricing.Rates {
	if len(c.targets) == 0 {
		if p := g.PriceOf(c.Backend, model); p.OK {
			return []pricing.Rates{p.Rates}
		}
		return nil
	}
	out := make([]pricing.Rates, 0, len(c.targets))
	for _, t := range c.targets {
		m := model
		if t.model != "" {
			m = t.model
		}
		if p := g.PriceOf(t.backend, m); p.OK {
			out = append(out, p.Rates)
		}
	}
	return out
}

// refuseBudget accounts for and returns the refusal of a request the budget named by which
// ("day" or "month", whichever is tighter when unsure) cannot hold.
func (g *Gateway) refuseBudget(c *Client, a Admission, now time.Time, model, which string, left int64) error {
	s := g.spend.Get(c.key, dayOf(now), monthOf(now))
	reason, limit, spent, reset, when := reasonBudgetDay, c.Budget.DayMicros, s.DayMicros, nextMidnight(now), "at 00:00 UTC"
	if which == "month" || c.Budget.DayMicros <= 0 || (c.Budget.MonthMicros > 0 && c.Budget.MonthMicros-s.MonthMicros < c.Budget.DayMicros-s.DayMicros) {
		reason, limit, spent, reset, when = reasonBudgetMonth, c.Budget.MonthMicros, s.MonthMicros, nextMonth(now), "on the 1st of next month (UTC)"
	}
	g.metrics.rateLimited.WithLabelValues(c.Name, reason).Inc()
	per := "day"
	if reason == reasonBudgetMonth {
		per = "month"
	}
	msg := fmt.Sprintf("budget exceeded: this API key may spend %s per %s; %s spent, %s in flight, and this request could cost more than the %s left; it resets %s",
		USD(limit), per, USD(spent), USD(s.Reserved), USD(left), when)
	return g.reject(c, a, now, model, &Refusal{Kind: providers.KindRateLimited, Code: "budget_exceeded",
		Message: msg, RetryAfter: max(reset.Sub(now), time.Second)})
}

// USD formats micro-dollars as dollars with up to six decimals, e.g. "$1.25", "$0.000123".
func USD(micros int64) string {
	sign := ""
	if micros < 0 {
		sign, micros = "-", -micros
	}
	whole, frac := micros/1_000_000, micros%1_000_000
	if frac == 0 {
		return fmt.Sprintf("%s$%d.00", sign, whole)
	}
	s := fmt.Sprintf("%06d", frac)
	for len(s) > 2 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return fmt.Sprintf("%s$%d.%s", sign, whole, s)
}

// settleSpend prices the call's usage at the price of the backend that answered (nil:
// unpriced), adds it to the client's spend and drops the call's budget reservation. saved is
// what the prompt cache saved on the call (costOf).
func (c *Call) settleSpend(backend, used, asked string, u providers.Usage) (cost *int64, saved int64) {
	g := c.g
	cost, saved = g.costOf(backend, used, asked, pricing.Tokens{Input: int64(u.InputTokens),
		CacheRead: int64(u.CachedTokens), CacheWrite: int64(u.CacheCreationTokens), Output: int64(u.OutputTokens)})
	var actual int64
	if cost != nil {
		actual = *cost
	}
	g.spend.Settle(c.client.key, c.spent, dayOf(c.start), monthOf(c.start), actual)
	return cost, saved
}

// costRollup is a call's part of the daily rollup: its cost, or one unpriced request when it
// used tokens of a model without a price.
func costRollup(cost *int64, u providers.Usage) (micros, unpriced int64) {
	if cost != nil {
		return *cost, 0
	}
	if u.InputTokens > 0 || u.OutputTokens > 0 {
		return 0, 1
	}
	return 0, 0
}
