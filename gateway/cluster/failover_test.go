package cluster

import (
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
	"github.com/aigateway/ai-gateway/providers"
)

// When Redis goes away, requests keep flowing on the instance's own memory (fail-open per
// instance) and the failures are counted; when it comes back, the instance shares again by
// itself. The outage is a proxy in front of Redis that the test closes and opens again.
func TestFailOpenAndRecovery(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	p := newProxy(t, redisAddr(t))
	viaProxy := openInstance(t, p.url(), prefix)
	direct := openInstance(t, redistest.URL(), prefix)
	lim, other := viaProxy.Limiter(), direct.Limiter()
	counters := viaProxy.Counters()
	rates := []gateway.Rate{{Limit: 3, Window: time.Minute}}
	now := time.Now()

	for i := range 3 {
		if !lim.Allow("c", rates, now).Allowed {
			t.Fatalf("request %d refused before the outage", i)
		}
	}
	if r := other.Status("c", rates, now); r.Remaining != 0 {
		t.Fatalf("the other instance sees %d remaining, want 0: the counts are not shared", r.Remaining)
	}
	if n := viaProxy.redisErrors(t); n != 0 {
		t.Fatalf("%v redis errors before the outage", n)
	}
	day := "2026-12-04"
	before, refused, _ := counters.Reserve("c", day, gateway.Quota{MaxRequestsPerDay: 10}, 7, 9, 1)
	if refused != gateway.QuotaAdmitted || before.Local {
		t.Fatalf("reserve before the outage: %+v %v, want admitted in Redis", before, refused)
	}

	p.close()
	// Settled during the outage: kept, and written once Redis is back.
	counters.Settle("c", before, providers.Usage{InputTokens: 7, OutputTokens: 4})
	if r := lim.Allow("c", rates, now); !r.Allowed {
		t.Fatalf("refused during the outage: %+v; want the instance's own limiter to admit it", r)
	}
	res, refused, _ := counters.Reserve("c", day, gateway.Quota{MaxRequestsPerDay: 10}, 5, 5, 1)
	if refused != gateway.QuotaAdmitted || !res.Local {
		t.Fatalf("reserve during the outage: %+v %v, want admitted locally", res, refused)
	}
	if n := viaProxy.redisErrors(t); n == 0 {
		t.Fatal("no ai_gateway_redis_errors_total during the outage")
	}

	p.open()
	// Any call tries Redis again once a second has passed since the last failure.
	deadline := time.Now().Add(10 * time.Second)
	for viaProxy.redisUp(t) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("still deciding alone 10s after Redis came back")
		}
		lim.Status("c", rates, now)
		time.Sleep(50 * time.Millisecond)
	}
	// The instance's own window holds one request of three; the shared one is full.
	if r := lim.Allow("c", rates, now); r.Allowed {
		t.Fatalf("admitted after Redis came back: %+v; the shared window is full", r)
	}
	// Back on Redis: the shared window (3 of 3) refuses; the settlement kept during the outage
	// reaches the shared day, and the reservation made alone during it settles where it was
	// made, adding nothing there.
	counters.Settle("c", res, providers.Usage{InputTokens: 5, OutputTokens: 5})
	want := gateway.DayUsage{Day: day, Requests: 1, InputTokens: 7, OutputTokens: 4}
	deadline = time.Now().Add(10 * time.Second)
	for {
		u := direct.Counters().Get("c", day)
		if u == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shared day after the outage: %+v, want %+v", u, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A change announced on one instance reaches the others, and a subscriber whose connection
// was cut resubscribes by itself and reloads once for what it may have missed.
func TestEventsAcrossInstances(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	p := newProxy(t, redisAddr(t))
	a := openInstance(t, redistest.URL(), prefix).Events()
	b := openInstance(t, p.url(), prefix).Events()
	got := make(chan string, 10)
	cancel := b.Subscribe(func(origin string) { got <- origin })
	defer cancel()
	wait := func(want string) {
		t.Helper()
		for {
			select {
			case o := <-got:
				if o == want {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no announcement %q within 10s", want)
			}
		}
	}
	// The subscription is asynchronous: announce until the first one arrives.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := a.Publish(t.Context(), "instance-a"); err != nil {
			t.Fatal(err)
		}
		select {
		case o := <-got:
			if o != "instance-a" {
				t.Fatalf("origin %q, want instance-a", o)
			}
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no announcement arrived")
			}
			continue
		}
		break
	}

	p.close()
	p.open()
	wait("") // resubscribed: reload once
	if err := a.Publish(t.Context(), "instance-a-again"); err != nil {
		t.Fatal(err)
	}
	wait("instance-a-again")
}
