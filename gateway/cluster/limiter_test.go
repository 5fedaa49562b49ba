package cluster

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
)

// The Redis limiter decides exactly as the in-memory one: the same sequence of requests, at the
// same times, gets the same answers (allowed, which limit refused, Retry-After, the headers'
// limit, remaining and reset), across the window's edge and with two limits at once.
func TestLimiterMatchesMemory(t *testing.T) {
	redistest.Need(t)
	shared := openInstance(t, redistest.URL(), testPrefix(t)).Limiter()
	mem := gateway.NewMemoryLimiter()
	rates := []gateway.Rate{{Limit: 5, Window: time.Minute}, {Limit: 8, Window: time.Hour}, {}}
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	steps := []time.Duration{0, 100 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond, 10 * time.Second,
		10 * time.Second, 30 * time.Second, 59 * time.Second, 61 * time.Second, 62 * time.Second, 62 * time.Second,
		63 * time.Second, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute, 5 * time.Minute, 61 * time.Minute}
	for i, d := range steps {
		now := start.Add(d)
		for _, status := range []bool{true, false} {
			var got, want gateway.RateResult
			if status {
				got, want = shared.Status("c1", rates, now), mem.Status("c1", rates, now)
			} else {
				got, want = shared.Allow("c1", rates, now), mem.Allow("c1", rates, now)
			}
			if got != want {
				t.Fatalf("step %d (+%s, status %v): redis %+v, memory %+v", i, d, status, got, want)
			}
		}
	}
	// No limit set: always allowed, nothing stored.
	if r := shared.Allow("c2", []gateway.Rate{{}, {}, {}}, start); !r.Allowed || r.Refused != -1 || r.Limit != 0 {
		t.Fatalf("no limit: %+v", r)
	}
}

// Three instances sharing one Redis admit exactly 60 of 200 concurrent requests against a 60
// requests per minute limit, not 60 each.
func TestLimiterExactAcrossInstances(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	limiters := []*Limiter{
		openInstance(t, redistest.URL(), prefix).Limiter(),
		openInstance(t, redistest.URL(), prefix).Limiter(),
		openInstance(t, redistest.URL(), prefix).Limiter(),
	}
	rates := []gateway.Rate{{Limit: 60, Window: time.Minute}}
	now := time.Now()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if limiters[i%3].Allow("client", rates, now).Allowed {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 60 {
		t.Fatalf("admitted %d of 200 across three instances, want exactly 60", n)
	}
	if r := limiters[2].Status("client", rates, now); r.Remaining != 0 || r.Allowed {
		t.Fatalf("status after the burst: %+v", r)
	}
}

// A restart restores a client's window from the request log only when no instance counts it
// yet: the first instance's restore counts, a later instance's does not count the same
// requests twice.
func TestLimiterRestoreOnlyOnce(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	a, b := openInstance(t, redistest.URL(), prefix).Limiter(), openInstance(t, redistest.URL(), prefix).Limiter()
	rates := []gateway.Rate{{Limit: 10, Window: time.Minute}}
	now := time.Now()
	a.Restore("c", rates, now.Add(-10*time.Second), 4)
	a.Restore("c", rates, now.Add(-5*time.Second), 2) // the same instance adds its next minute
	b.Restore("c", rates, now.Add(-5*time.Second), 6) // another instance started later: skipped
	if r := b.Status("c", rates, now); r.Remaining != 4 {
		t.Fatalf("remaining after the restores = %d, want 4 (10 - 6 restored once)", r.Remaining)
	}
	a.Forget("c")
	if r := b.Status("c", rates, now); r.Remaining != 10 {
		t.Fatalf("remaining after Forget = %d, want 10", r.Remaining)
	}
}
