package gateway

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/pricing"
	"github.com/aigateway/ai-gateway/providers"
)

// budgetEnv is a gateway whose client "b" has a budget of dayUSD per day and monthUSD per month
// (micro-dollars), and model gpt-4o-mini priced by override at $1/$10 per million tokens: one
// input token is 1 µ$, one output token 10 µ$.
func budgetEnv(t *testing.T, dayMicros, monthMicros int64) *testEnv {
	t.Helper()
	row := clientRow(1, "b")
	row.BudgetDayMicros, row.BudgetMonthMicros = dayMicros, monthMicros
	e := newEnv(t, []db.Client{row}, nil)
	e.setPrice(t, "gpt-4o-mini", pricing.Price{Input: 1, Output: 10})
	return e
}

func (e *testEnv) setPrice(t *testing.T, model string, p pricing.Price) {
	t.Helper()
	e.gw.opts.Prices = db.NewModelPrices(e.db)
	if err := e.gw.SetPrice(context.Background(), model, p); err != nil {
		t.Fatal(err)
	}
}

func TestBudgetRefusesThenResetsAtMidnight(t *testing.T) {
	e := budgetEnv(t, 1000, 0) // $0.001 a day
	c := e.auth("b")
	// Worst case: 100 input + 50 output × 10 = 600 µ$; actual 100 + 20×10 = 300 µ$.
	a := Admission{Endpoint: "/v1/chat/completions", InputTokens: 100, MaxOutputTokens: 50}
	for i := range 2 {
		call, err := e.gw.Begin(c, a)
		if err != nil {
			t.Fatalf("request %d refused: %v", i, err)
		}
		call.End(ok200(100, 20))
	}
	// 600 spent; 400 left < 600 worst case.
	_, err := e.gw.Begin(c, a)
	pe := perr(t, err, providers.KindRateLimited)
	if pe.Code != "budget_exceeded" {
		t.Errorf("code = %q, want budget_exceeded", pe.Code)
	}
	now := e.clock.Now()
	wantWait := int64(nextMidnight(now).Sub(now).Seconds())
	if got, _ := strconv.ParseInt(pe.RetryAfter, 10, 64); got < wantWait || got > wantWait+1 {
		t.Errorf("Retry-After = %s, want about %d (to midnight UTC)", pe.RetryAfter, wantWait)
	}
	if s := e.gw.Spend(c); s.DayMicros != 600 || s.Reserved != 0 {
		t.Errorf("spend = %+v, want 600 µ$ settled, nothing reserved", s)
	}
	// A smaller request still fits.
	small, err := e.gw.Begin(c, Admission{InputTokens: 100, MaxOutputTokens: 20})
	if err != nil {
		t.Fatalf("a request within what is left refused: %v", err)
	}
	small.End(ok200(100, 20))

	e.clock.Set(nextMidnight(now).Add(time.Second))
	call, err := e.gw.Begin(c, a)
	if err != nil {
		t.Fatalf("refused after the day's reset: %v", err)
	}
	call.End(ok200(100, 20))
	if s := e.gw.Spend(c); s.DayMicros != 300 || s.MonthMicros != 1200 {
		t.Errorf("after the reset: spend = %+v, want 300 µ$ today and 1200 this month", s)
	}
}

func TestBudgetMonthlyRefusesUntilTheFirst(t *testing.T) {
	e := budgetEnv(t, 0, 700)
	c := e.auth("b")
	call, err := e.gw.Begin(c, Admission{InputTokens: 100, MaxOutputTokens: 50})
	if err != nil {
		t.Fatal(err)
	}
	call.End(ok200(100, 50))
	_, err = e.gw.Begin(c, Admission{InputTokens: 100, MaxOutputTokens: 50})
	pe := perr(t, err, providers.KindRateLimited)
	now := e.clock.Now()
	if want := int64(nextMonth(now).Sub(now).Seconds()); pe.RetryAfter != strconv.FormatInt(want, 10) && pe.RetryAfter != strconv.FormatInt(want+1, 10) {
		t.Errorf("Retry-After = %s, want %d (the 1st of next month)", pe.RetryAfter, want)
	}
	e.clock.Set(nextMonth(now))
	if _, err := e.gw.Begin(c, Admission{InputTokens: 100, MaxOutputTokens: 50}); err != nil {
		t.Errorf("refused in the new month: %v", err)
	}
}

// Without a cap, the budget sets one: the answer cannot cost more than what is left.
func TestBudgetCapsAnUncappedRequest(t *testing.T) {
	e := budgetEnv(t, 1000, 0)
	call, err := e.gw.Begin(e.auth("b"), Admission{InputTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := call.MaxOutputTokens(); got != 90 { // (1000 − 100) / 10
		t.Errorf("output cap = %d, want 90", got)
	}
	call.End(ok200(100, 90))
}

// Concurrent requests reserve before they run: together they never pass the budget.
func TestBudgetConcurrentRequestsNeverOvershoot(t *testing.T) {
	e := budgetEnv(t, 10_000, 0)
	c := e.auth("b")
	var mu sync.Mutex
	var calls []*Call
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call, err := e.gw.Begin(c, Admission{InputTokens: 100, MaxOutputTokens: 50}) // 600 µ$ worst case
			if err == nil {
				mu.Lock()
				calls = append(calls, call)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(calls) != 16 { // 16 × 600 = 9600 ≤ 10000 < 17 × 600
		t.Errorf("%d requests admitted at once, want 16", len(calls))
	}
	for _, call := range calls {
		call.End(ok200(100, 50))
	}
	if s := e.gw.Spend(c); s.DayMicros > 10_000 || s.Reserved != 0 {
		t.Errorf("spend = %+v, over the budget or still reserved", s)
	}
}

// The spend survives a restart: it is restored from the daily rollups.
func TestBudgetSurvivesRestart(t *testing.T) {
	e := budgetEnv(t, 1000, 5000)
	call, err := e.gw.Begin(e.auth("b"), Admission{InputTokens: 100, MaxOutputTokens: 50})
	if err != nil {
		t.Fatal(err)
	}
	call.End(ok200(100, 50))
	e.flush()
	e.start(func(o *Options) { o.Prices = db.NewModelPrices(e.db) })
	c := e.auth("b")
	if s := e.gw.Spend(c); s.DayMicros != 600 || s.MonthMicros != 600 {
		t.Fatalf("after restart spend = %+v, want 600 µ$ today and this month", s)
	}
	if _, err := e.gw.Begin(c, Admission{InputTokens: 100, MaxOutputTokens: 50}); err == nil {
		t.Error("admitted past the day's budget after a restart")
	}
	r := e.gw.Usage(c)
	if r.Remaining.USDToday == nil || *r.Remaining.USDToday != 0.0004 || r.Remaining.USDMonth == nil || *r.Remaining.USDMonth != 0.0044 {
		t.Errorf("remaining = %v / %v", r.Remaining.USDToday, r.Remaining.USDMonth)
	}
}

// Costs land in the log row and the rollup; an override changes the next request's cost; an
// unknown model is unpriced (NULL), not free.
func TestCostInLogAndRollup(t *testing.T) {
	e := budgetEnv(t, 0, 0)
	c := e.auth("b")
	end := func(model string, u providers.Usage) {
		call, err := e.gw.Begin(c, Admission{Model: model})
		if err != nil {
			t.Fatal(err)
		}
		call.End(Outcome{Status: 200, Usage: u})
	}
	end("gpt-4o-mini", providers.Usage{InputTokens: 1000, CachedTokens: 400, CacheCreationTokens: 100, OutputTokens: 30, ReasoningTokens: 10})
	e.setPrice(t, "gpt-4o-mini", pricing.Price{Input: 2, Output: 20, CacheRead: 0.5, CacheWrite: 3})
	end("gpt-4o-mini", providers.Usage{InputTokens: 1000, CachedTokens: 400, CacheCreationTokens: 100, OutputTokens: 30})
	end("no-such-model-anywhere", providers.Usage{InputTokens: 10, OutputTokens: 10})
	end("no-such-model-anywhere", providers.Usage{}) // failed before any token: nothing spent
	e.flush()
	rows := e.logRows()
	want := []int64{1000 + 300, 500*2 + 400/2 + 100*3 + 30*20}
	for i, w := range want {
		if rows[i].CostMicros == nil || *rows[i].CostMicros != w {
			t.Errorf("row %d cost = %v, want %d", i, rows[i].CostMicros, w)
		}
	}
	if rows[0].CacheWriteTokens != 100 || rows[0].CachedTokens != 400 || rows[0].ReasoningTokens != 10 {
		t.Errorf("row 0 tokens = %+v", rows[0])
	}
	if rows[2].CostMicros != nil {
		t.Errorf("unknown model cost = %d, want NULL (unpriced)", *rows[2].CostMicros)
	}
	if rows[3].CostMicros == nil || *rows[3].CostMicros != 0 {
		t.Errorf("a call without tokens cost %v, want 0", rows[3].CostMicros)
	}
	var cost, unpriced, cw int64
	for _, u := range e.usageRows() {
		cost, unpriced, cw = cost+u.CostMicros, unpriced+u.Unpriced, cw+u.CacheWriteTokens
	}
	if cost != want[0]+want[1] || unpriced != 1 || cw != 200 {
		t.Errorf("rollup cost %d unpriced %d cache writes %d", cost, unpriced, cw)
	}
	label := c.modelLabel("gpt-4o-mini")
	if got := testutil.ToFloat64(e.gw.metrics.cost.WithLabelValues("b", label)); got != float64(want[0]+want[1])/1e6 {
		t.Errorf("ai_gateway_cost_usd_total = %g, want %g", got, float64(want[0]+want[1])/1e6)
	}
	if got := testutil.ToFloat64(e.gw.metrics.cachedTokens.WithLabelValues("b", label)); got != 800 {
		t.Errorf("ai_gateway_cached_tokens_total = %g, want 800", got)
	}
	if got := testutil.ToFloat64(e.gw.metrics.reasonTokens.WithLabelValues("b", label)); got != 10 {
		t.Errorf("ai_gateway_reasoning_tokens_total = %g, want 10", got)
	}
}

// An override set on one instance prices the next request on another sharing the database.
func TestPriceOverrideReachesOtherInstances(t *testing.T) {
	bus := NewMemoryClientEvents()
	withBus := func(o *Options) { o.ClientEvents = bus }
	a := newEnv(t, []db.Client{clientRow(1, "b")}, withBus)
	b := newEnv(t, []db.Client{clientRow(1, "b")}, withBus)
	a.gw.opts.Prices = db.NewModelPrices(a.db)
	b.gw.opts.Prices = db.NewModelPrices(a.db) // one shared database
	if err := a.gw.SetPrice(context.Background(), "my-model", pricing.Price{Input: 7, Output: 9}); err != nil {
		t.Fatal(err)
	}
	if p := b.gw.PriceOf("openai", "my-model"); !p.OK || p.Rates.Base().Input != 7 {
		t.Errorf("instance b prices my-model as %+v", p)
	}
}
