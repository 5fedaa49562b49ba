package gateway

import (
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

func TestCountersAcrossMidnight(t *testing.T) {
	m := NewMemoryCounters()
	q := Quota{MaxRequestsPerDay: 2, MaxOutputTokensPerDay: 100}
	r1, refused, _ := m.Reserve("c", "2026-03-14", q, 10, 60, 1)
	if refused != QuotaAdmitted {
		t.Fatal(refused)
	}
	m.Settle("c", r1, providers.Usage{InputTokens: 10, OutputTokens: 50})
	// Started before midnight, still streaming after it: it holds 50 of the remaining output.
	r2, _, _ := m.Reserve("c", "2026-03-14", q, 10, 60, 1)
	if r2.OutputTokens != 50 {
		t.Fatalf("reserved %d, want what is left: 50", r2.OutputTokens)
	}
	if _, refused, _ := m.Reserve("c", "2026-03-14", q, 0, 0, 1); refused != QuotaRequests {
		t.Fatalf("third request of the day: %v, want QuotaRequests", refused)
	}

	// New day: yesterday's usage no longer counts, the open stream still holds its reservation.
	r3, refused, u := m.Reserve("c", "2026-03-15", q, 0, 100, 1)
	if refused != QuotaAdmitted || r3.OutputTokens != 50 || u.Requests != 1 || u.InFlight != 2 {
		t.Fatalf("first request of the new day: %v %+v %+v", refused, r3, u)
	}
	m.Settle("c", r2, providers.Usage{InputTokens: 10, OutputTokens: 40}) // counted for the 14th, not today
	u = m.Get("c", "2026-03-15")
	if u.Requests != 1 || u.OutputTokens != 0 || u.InFlight != 1 || u.ReservedOutput != 50 {
		t.Fatalf("after yesterday's stream ended: %+v", u)
	}
	m.Release("c", r3)
	if u := m.Get("c", "2026-03-15"); u.Requests != 0 || u.InFlight != 0 || u.ReservedOutput != 0 {
		t.Fatalf("after release: %+v", u)
	}
}

// The usage_daily row of a call goes to the day it started, whatever day it ends.
func TestCallThatCrossesMidnightIsAccountedToItsStartDay(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	e.clock.Set(time.Date(2026, 3, 14, 23, 59, 0, 0, time.UTC))
	call, err := e.gw.Begin(e.auth("app"), Admission{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	call.End(ok200(10, 20))
	e.flush()
	rows, err := db.NewUsageStore(e.db).ForDay(t.Context(), "2026-03-14")
	if err != nil || len(rows) != 1 || rows[0].OutputTokens != 20 {
		t.Fatalf("usage of the 14th: %+v, %v", rows, err)
	}
	if u := e.gw.Usage(e.auth("app")); u.Day != "2026-03-15" || u.Usage.Requests != 0 || u.Usage.OutputTokens != 0 {
		t.Fatalf("today's usage %+v", u)
	}
}
