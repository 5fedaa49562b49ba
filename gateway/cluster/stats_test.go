package cluster

import (
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
)

// The dashboard of any instance adds up the cluster: the oldest instance's numbers with what it
// restored from the database at start, plus what each other instance served since it started
// (what they restored is the same database, already counted), and lists each instance.
func TestStatsAddUpTheCluster(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	older := openInstance(t, redistest.URL(), prefix).Stats()
	newer := openInstance(t, redistest.URL(), prefix).Stats()
	now := time.Now().UTC()

	// Both restored the same 100 requests of earlier today from the database.
	for _, st := range []*Stats{older, newer} {
		st.Record(gateway.StatEvent{Time: now, Client: "app", Model: "m", Requests: 100, Errors: 4, InputTokens: 1000, TotalsOnly: true})
	}
	older.Record(gateway.StatEvent{Time: now, Client: "app", Model: "m", Requests: 1, InputTokens: 10})
	newer.Record(gateway.StatEvent{Time: now, Client: "other", Model: "m", Requests: 1, Errors: 1, InputTokens: 20})
	newer.Record(gateway.StatEvent{Time: now, Client: "other", Model: "m", Requests: 1, InputTokens: 20})
	older.Start("host-a:8090", func() int64 { return 3 })
	newer.Start("host-b:8090", func() int64 { return 2 })
	defer older.Close()
	defer newer.Close()

	var snap gateway.Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap = newer.Snapshot(time.Now())
		if len(snap.Instances) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other instance never showed up: %+v", snap.Instances)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if want := (gateway.Totals{Requests: 103, Errors: 5, InputTokens: 1050}); snap.Today != want {
		t.Fatalf("today = %+v, want %+v (restored once, plus each instance's own)", snap.Today, want)
	}
	if snap.InFlight != 3 {
		t.Fatalf("in flight = %d, want the other instance's 3 (the gateway adds its own)", snap.InFlight)
	}
	a, b := snap.Instances[0], snap.Instances[1]
	if a.Host != "host-a:8090" || a.Self || a.Today.Requests != 1 || a.InFlight != 3 ||
		b.Host != "host-b:8090" || !b.Self || b.Today.Requests != 2 || b.Today.Errors != 1 {
		t.Fatalf("instances, oldest first: %+v", snap.Instances)
	}
	if len(snap.Clients) != 2 || snap.Clients[0].Name != "app" || snap.Clients[0].Requests != 101 || snap.Clients[1].Requests != 2 {
		t.Fatalf("top clients: %+v", snap.Clients)
	}
	last := snap.LastHour[len(snap.LastHour)-1]
	if last.Requests != 3 || last.Errors != 1 {
		t.Fatalf("this minute = %+v, want both instances' 3 requests", last.Totals)
	}

	// An instance that stops is gone from the others' dashboards.
	older.Close()
	if s := newer.Snapshot(time.Now()); len(s.Instances) != 0 || s.Today.Requests != 102 {
		t.Fatalf("after the older instance stopped: %d instances, %d requests; want this instance's own numbers", len(s.Instances), s.Today.Requests)
	}
}
