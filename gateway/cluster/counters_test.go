package cluster

import (
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
	"github.com/aigateway/ai-gateway/providers"
)

// The Redis counters keep the rules of the in-memory ones: the same reservations, releases,
// settlements and refusals give the same answers and the same day.
func TestCountersMatchMemory(t *testing.T) {
	redistest.Need(t)
	shared := openInstance(t, redistest.URL(), testPrefix(t)).Counters()
	mem := gateway.NewMemoryCounters()
	q := gateway.Quota{MaxRequestsPerDay: 6, MaxInputTokensPerDay: 1000, MaxOutputTokensPerDay: 500}
	day := "2026-12-04"
	type reserve struct{ in, out, choices int64 }
	var held [][2]gateway.Reservation
	for i, r := range []reserve{{100, 200, 1}, {0, 0, 1}, {300, 100, 2}, {700, 10, 1}, {10, 1000, 3}, {10, 10, 1}, {1, 1, 1}} {
		gr, gq, gu := shared.Reserve("c", day, q, r.in, r.out, r.choices)
		mr, mq, mu := mem.Reserve("c", day, q, r.in, r.out, r.choices)
		if gr != mr || gq != mq || gu != mu {
			t.Fatalf("reserve %d %+v:\nredis  %+v %v %+v\nmemory %+v %v %+v", i, r, gr, gq, gu, mr, mq, mu)
		}
		if gq == gateway.QuotaAdmitted {
			held = append(held, [2]gateway.Reservation{gr, mr})
		}
		if i == 2 {
			shared.Release("c", held[0][0])
			mem.Release("c", held[0][1])
			held = held[1:]
		}
	}
	if len(held) < 2 {
		t.Fatalf("only %d reservations admitted; the sequence tests too little", len(held))
	}
	for _, h := range held {
		u := providers.Usage{InputTokens: 50, OutputTokens: 20, CachedTokens: 5, ReasoningTokens: 3}
		shared.Settle("c", h[0], u)
		mem.Settle("c", h[1], u)
	}
	shared.Refuse("c", day)
	mem.Refuse("c", day)
	if g, m := shared.Get("c", day), mem.Get("c", day); g != m {
		t.Fatalf("day after settling:\nredis  %+v\nmemory %+v", g, m)
	}
	if g := shared.Get("other", day); g != (gateway.DayUsage{Day: day}) {
		t.Fatalf("a client never seen: %+v", g)
	}
}

// A daily token quota shared by three instances is never exceeded under concurrent requests:
// the reservations of every instance count against the one quota.
func TestCountersQuotaAcrossInstances(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	cs := []*Counters{
		openInstance(t, redistest.URL(), prefix).Counters(),
		openInstance(t, redistest.URL(), prefix).Counters(),
		openInstance(t, redistest.URL(), prefix).Counters(),
	}
	q := gateway.Quota{MaxOutputTokensPerDay: 1000}
	day := "2026-12-04"
	var mu sync.Mutex
	var reserved int64
	var wg sync.WaitGroup
	for i := range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[i%3]
			r, refused, _ := c.Reserve("c", day, q, 10, 30, 1)
			if refused != gateway.QuotaAdmitted {
				return
			}
			mu.Lock()
			reserved += r.OutputTokens
			mu.Unlock()
			c.Settle("c", r, providers.Usage{InputTokens: 10, OutputTokens: int(r.OutputTokens)})
		}()
	}
	wg.Wait()
	u := cs[0].Get("c", day)
	if u.OutputTokens > 1000 || reserved > 1000 {
		t.Fatalf("output tokens %d (reserved %d) passed the daily quota of 1000", u.OutputTokens, reserved)
	}
	if u.OutputTokens != 1000 || u.InFlight != 0 || u.ReservedOutput != 0 {
		t.Fatalf("day after the burst: %+v, want the quota used exactly and nothing in flight", u)
	}
}

// Usage restored from the database counts once: an instance that starts while the day is
// already counted in Redis leaves it alone.
func TestCountersRestoreOnlyOnce(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	a, b := openInstance(t, redistest.URL(), prefix).Counters(), openInstance(t, redistest.URL(), prefix).Counters()
	day := "2026-12-04"
	a.Restore("c", day, gateway.DayUsage{Requests: 3, InputTokens: 30})
	a.Restore("c", day, gateway.DayUsage{Requests: 1, OutputTokens: 7}) // a second model's row
	b.Restore("c", day, gateway.DayUsage{Requests: 4, InputTokens: 30, OutputTokens: 7})
	if u := b.Get("c", day); u.Requests != 4 || u.InputTokens != 30 || u.OutputTokens != 7 {
		t.Fatalf("restored day: %+v, want 4 requests, 30 in, 7 out", u)
	}
	b.Forget("c")
	if u := a.Get("c", day); u.Requests != 0 {
		t.Fatalf("after Forget: %+v", u)
	}
}
