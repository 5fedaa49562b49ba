package gateway

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

func TestStatsSnapshot(t *testing.T) {
	s := NewMemoryStats()
	base := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	ev := func(at time.Duration, client, model string, errs, in, out int64) {
		s.Record(StatEvent{Time: base.Add(at), Client: client, Model: model, Requests: 1, Errors: errs, InputTokens: in, OutputTokens: out})
	}
	ev(-2*time.Hour, "a", "m1", 0, 1, 1)     // earlier today, outside the last hour
	ev(-30*time.Minute, "a", "m1", 0, 10, 5) // in the last hour
	ev(-5*time.Second, "b", "m2", 1, 0, 0)   // one error
	for i := range 20 {                      // 20 requests in the last 10 s
		ev(-time.Duration(i%10)*time.Second-time.Second, "a", "m2", 0, 2, 1)
	}
	ev(0, "b", "m1", 0, 3, 3) // the current second does not count towards requests/s yet
	s.Record(StatEvent{Time: base, Client: "a", Model: "m1", Requests: 100, InputTokens: 1000, CachedTokens: 600, TotalsOnly: true})

	snap := s.Snapshot(base)
	if want := (Totals{Requests: 124, Errors: 1, InputTokens: 1054, OutputTokens: 29, CachedTokens: 600}); snap.Today != want {
		t.Fatalf("today %+v, want %+v", snap.Today, want)
	}
	if snap.RequestsPerSecond != 2.1 {
		t.Fatalf("requests/s = %v, want 21 requests over 10 s", snap.RequestsPerSecond)
	}
	if len(snap.LastHour) != 60 || len(snap.LastDay) != 144 {
		t.Fatalf("series lengths %d, %d", len(snap.LastHour), len(snap.LastDay))
	}
	last := snap.LastHour[59]
	if !last.Time.Equal(base) || last.Requests != 1 {
		t.Fatalf("current minute %+v", last)
	}
	prev := snap.LastHour[58] // 09:59: the 20 burst requests and the error
	if !prev.Time.Equal(base.Add(-time.Minute)) || prev.Requests != 21 || prev.Errors != 1 || prev.InputTokens != 40 {
		t.Fatalf("09:59 %+v", prev)
	}
	if p := snap.LastHour[29]; !p.Time.Equal(base.Add(-30*time.Minute)) || p.Requests != 1 || p.InputTokens != 10 {
		t.Fatalf("09:30 %+v", p)
	}
	var hour int64
	for _, p := range snap.LastHour {
		hour += p.Requests
	}
	if hour != 23 {
		t.Fatalf("last hour holds %d requests, want 23 (not the one 2 h ago, not the restored totals)", hour)
	}
	// 10-minute buckets: 08:00 holds the request from 2 h ago.
	if p := snap.LastDay[143-12]; !p.Time.Equal(base.Add(-2*time.Hour)) || p.Requests != 1 {
		t.Fatalf("08:00 bucket %+v", p)
	}
	if len(snap.Clients) != 2 || snap.Clients[0].Name != "a" || snap.Clients[0].Requests != 122 || snap.Clients[1].Errors != 1 {
		t.Fatalf("clients %+v", snap.Clients)
	}
	if len(snap.Models) != 2 || snap.Models[0].Name != "m1" || snap.Models[0].Requests != 103 {
		t.Fatalf("models %+v", snap.Models)
	}
	if _, err := json.Marshal(snap); err != nil {
		t.Fatal(err)
	}

	// A new UTC day starts from zero; the charts still show the last hour.
	next := time.Date(2026, 3, 15, 0, 0, 30, 0, time.UTC)
	s2 := NewMemoryStats()
	s2.Record(StatEvent{Time: next.Add(-time.Minute), Client: "a", Model: "m", Requests: 1})
	snap = s2.Snapshot(next)
	if snap.Today.Requests != 0 || len(snap.Clients) != 0 || snap.LastHour[58].Requests != 1 {
		t.Fatalf("after midnight: today %+v clients %v, 23:59 %+v", snap.Today, snap.Clients, snap.LastHour[58])
	}
	// An hour later, the old minutes are gone from the ring.
	if snap := s2.Snapshot(next.Add(2 * time.Hour)); snap.LastHour[58].Requests != 0 || snap.LastDay[143-13].Requests != 1 {
		t.Fatalf("two hours later: %+v / %+v", snap.LastHour[58], snap.LastDay[143-13])
	}
}

func TestGatewayStatsCountInFlightAndErrors(t *testing.T) {
	row := clientRow(1, "app")
	row.ModelWhitelist = db.Strings{"gpt-4o"}
	e := newEnv(t, []db.Client{row}, nil)
	c := e.auth("app")
	a, _ := e.gw.Begin(c, Admission{Model: "gpt-4o"})
	b, _ := e.gw.Begin(c, Admission{Model: "gpt-4o"})
	e.gw.Begin(c, Admission{Model: "nope"}) //nolint:errcheck // refused: counted as an error
	s := e.gw.Stats()
	if s.InFlight != 2 || s.Today.Requests != 1 || s.Today.Errors != 1 {
		t.Fatalf("stats %+v", s)
	}
	a.End(ok200(10, 20))
	b.End(Outcome{Err: &providers.Error{Kind: providers.KindTimeout, Message: "slow"}})
	s = e.gw.Stats()
	if s.InFlight != 0 || s.Today.Requests != 3 || s.Today.Errors != 2 || s.Today.OutputTokens != 20 {
		t.Fatalf("stats %+v", s)
	}
	if len(s.Models) != 2 || s.Models[0].Name != "gpt-4o" || s.Models[0].Requests != 2 || s.Models[1].Name != "other" {
		t.Fatalf("models %+v", s.Models)
	}
}
