package cluster

import (
	"testing"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
)

// The Redis budget counters keep the rules of the in-memory ones, and their totals sum every
// client.
func TestSpendMatchesMemory(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	shared, other := openInstance(t, redistest.URL(), prefix).Spend(), openInstance(t, redistest.URL(), prefix).Spend()
	mem := gateway.NewMemorySpend()
	day, month := "2026-12-04", "2026-12"
	b := gateway.Budget{DayMicros: 1_000_000, MonthMicros: 3_000_000}
	shared.Restore("c", day, month, "2026-12-01", 1_500_000)
	mem.Restore("c", day, month, "2026-12-01", 1_500_000)
	shared.Restore("c", day, month, day, 200_000)
	mem.Restore("c", day, month, day, 200_000)
	other.Restore("c", day, month, day, 200_000) // a later instance: already counted
	var held [][2]gateway.SpendReservation
	for i, worst := range []int64{300_000, 400_000, 200_000, 100_000} {
		gr, gw := shared.Reserve("c", day, month, b, worst)
		mr, mw := mem.Reserve("c", day, month, b, worst)
		if gr != mr || gw != mw {
			t.Fatalf("reserve %d (%d): redis %+v %q, memory %+v %q", i, worst, gr, gw, mr, mw)
		}
		if gw == "" {
			held = append(held, [2]gateway.SpendReservation{gr, mr})
		}
	}
	if g, m := other.Get("c", day, month), mem.Get("c", day, month); g != m {
		t.Fatalf("in flight: redis %+v, memory %+v", g, m)
	}
	for _, h := range held {
		other.Settle("c", h[0], day, month, 50_000)
		mem.Settle("c", h[1], day, month, 50_000)
	}
	if g, m := shared.Get("c", day, month), mem.Get("c", day, month); g != m {
		t.Fatalf("settled: redis %+v, memory %+v", g, m)
	}
	// The month's budget refuses once the month is spent.
	if _, why := shared.Reserve("c", day, month, gateway.Budget{MonthMicros: 1_800_000}, 200_000); why != "month" {
		t.Fatalf("month budget: refused %q, want month", why)
	}
	other.Settle("d", gateway.SpendReservation{}, day, month, 1_000)
	gd, gm := shared.Total(day, month)
	md, mm := mem.Total(day, month)
	if gd != md+1_000 || gm != mm+1_000 {
		t.Fatalf("totals: redis %d/%d, want %d/%d", gd, gm, md+1_000, mm+1_000)
	}
}
