package gateway

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func TestLimiterAdmitsUpToTheLimitThenRefusesWithRetryAfter(t *testing.T) {
	l := NewMemoryLimiter()
	rates := []Rate{{Limit: 3, Window: time.Minute}}
	now := t0.Add(500 * time.Millisecond) // inside second 0
	for i := range 3 {
		r := l.Allow("c", rates, now)
		if !r.Allowed || r.Remaining != int64(2-i) || r.Limit != 3 {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, r, 2-i)
		}
	}
	r := l.Allow("c", rates, now.Add(30*time.Second))
	if r.Allowed || r.Refused != 0 {
		t.Fatalf("4th request: %+v, want refused by rate 0", r)
	}
	// The three requests sit in the bucket [0s,1s); it leaves the window at 61s.
	if want := 61*time.Second - 30500*time.Millisecond; r.RetryAfter != want {
		t.Fatalf("RetryAfter = %v, want %v", r.RetryAfter, want)
	}
	if r := l.Allow("c", rates, now.Add(30*time.Second).Add(r.RetryAfter-time.Millisecond)); r.Allowed {
		t.Fatal("admitted 1ms before RetryAfter")
	}
	if r := l.Allow("c", rates, t0.Add(61*time.Second)); !r.Allowed {
		t.Fatalf("at RetryAfter: %+v, want allowed", r)
	}
	// Another key is independent.
	if r := l.Allow("other", rates, now); !r.Allowed {
		t.Fatal("other key refused")
	}
}

// A burst at the end of one minute and another at the start of the next: fixed calendar windows
// would admit both (2× the limit within two seconds); a sliding window must not.
func TestLimiterBurstStraddlingAWindowBoundary(t *testing.T) {
	tests := []struct {
		name   string
		rate   Rate
		before time.Time // first burst, just before a calendar boundary
		after  time.Time // second burst, just after it
	}{
		{"minute", Rate{Limit: 10, Window: time.Minute}, t0.Add(59*time.Second + 900*time.Millisecond), t0.Add(60*time.Second + 100*time.Millisecond)},
		{"hour", Rate{Limit: 100, Window: time.Hour}, t0.Add(59*time.Minute + 59*time.Second), t0.Add(time.Hour + time.Second)},
		{"day", Rate{Limit: 1000, Window: 24 * time.Hour}, t0.Add(13*time.Hour + 59*time.Minute), t0.Add(14*time.Hour + time.Minute)}, // UTC midnight
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewMemoryLimiter()
			rates := []Rate{tt.rate}
			admitted := 0
			for range tt.rate.Limit {
				if l.Allow("c", rates, tt.before).Allowed {
					admitted++
				}
			}
			if admitted != int(tt.rate.Limit) {
				t.Fatalf("first burst admitted %d, want %d", admitted, tt.rate.Limit)
			}
			for range tt.rate.Limit {
				if r := l.Allow("c", rates, tt.after); r.Allowed {
					t.Fatalf("second burst right after the boundary was admitted: %d requests within %v", tt.rate.Limit+1, tt.after.Sub(tt.before))
				}
			}
			// One window after the first burst (plus one bucket of resolution) the limit is free again.
			later := tt.before.Add(tt.rate.Window + tt.rate.Window/windowBuckets)
			if r := l.Allow("c", rates, later); !r.Allowed {
				t.Fatalf("a window later: %+v, want allowed", r)
			}
		})
	}
}

// Random traffic against three windows at once; every admitted request is checked against the
// requests admitted before it: no window of any length ever holds more than its limit.
func TestLimiterNoWindowAdmitsMoreThanItsLimit(t *testing.T) {
	rates := []Rate{{Limit: 20, Window: time.Minute}, {Limit: 150, Window: time.Hour}, {Limit: 400, Window: 24 * time.Hour}}
	rng := rand.New(rand.NewPCG(1, 2))
	l := NewMemoryLimiter()
	now := t0
	var admitted []time.Time
	refusedBy := make([]int, len(rates))
	for range 20_000 {
		// Mostly bursts, sometimes long pauses, so every window fills and drains.
		switch n := rng.IntN(400); {
		case n == 0:
			now = now.Add(time.Duration(rng.Int64N(int64(30 * time.Hour))))
		case n < 40:
			now = now.Add(time.Duration(rng.Int64N(int64(2 * time.Minute))))
		default:
			now = now.Add(time.Duration(rng.Int64N(int64(3 * time.Second))))
		}
		r := l.Allow("c", rates, now)
		if !r.Allowed {
			refusedBy[r.Refused]++
			if r.RetryAfter <= 0 || r.RetryAfter > rates[r.Refused].Window+time.Second {
				t.Fatalf("RetryAfter %v out of range for %v", r.RetryAfter, rates[r.Refused].Window)
			}
			continue
		}
		admitted = append(admitted, now)
		for _, rate := range rates {
			n := 0
			for i := len(admitted) - 1; i >= 0 && admitted[i].After(now.Add(-rate.Window)); i-- {
				n++
			}
			if int64(n) > rate.Limit {
				t.Fatalf("%d requests admitted within %v before %v; limit %d", n, rate.Window, now, rate.Limit)
			}
		}
	}
	for i, n := range refusedBy {
		if n == 0 {
			t.Errorf("rate %d never refused anything: the traffic did not exercise it", i)
		}
	}
	if len(admitted) < 1000 {
		t.Fatalf("only %d admitted: the limiter is far too strict", len(admitted))
	}
}

func TestLimiterRefusalCountsNothingAndStatusCountsNothing(t *testing.T) {
	l := NewMemoryLimiter()
	rates := []Rate{{Limit: 2, Window: time.Minute}, {Limit: 5, Window: time.Hour}}
	for range 2 {
		l.Allow("c", rates, t0)
	}
	// Refused by the minute rate: the hour rate must not count these.
	for range 10 {
		if l.Allow("c", rates, t0).Allowed {
			t.Fatal("minute limit not enforced")
		}
	}
	st := l.Status("c", rates, t0.Add(2*time.Minute))
	if !st.Allowed || st.Limit != 2 || st.Remaining != 2 {
		t.Fatalf("Status after the minute: %+v, want allowed, tightest = minute with 2 left", st)
	}
	for range 3 {
		if !l.Allow("c", rates, t0.Add(2*time.Minute)).Allowed {
			// third is refused by the minute rate again; that is fine
			break
		}
	}
	st = l.Status("c", rates, t0.Add(5*time.Minute))
	if st.Limit != 5 || st.Remaining != 1 {
		t.Fatalf("Status: %+v, want the hour rate as tightest with 1 left (2+2 counted)", st)
	}
	// The hour is counted in 1-minute buckets: the newest request (bucket [2m,3m)) leaves at 1h3m.
	if want := time.Hour + 3*time.Minute - 5*time.Minute; st.Reset != want {
		t.Fatalf("Reset = %v, want %v: the time until the newest counted request leaves the hour", st.Reset, want)
	}
	l.Forget("c")
	if st := l.Status("c", rates, t0.Add(5*time.Minute)); st.Remaining != 2 {
		t.Fatalf("after Forget: %+v", st)
	}
}

func TestLimiterWithoutRatesAlwaysAdmits(t *testing.T) {
	l := NewMemoryLimiter()
	for range 1000 {
		if r := l.Allow("c", []Rate{{}, {}, {}}, t0); !r.Allowed || r.Limit != 0 {
			t.Fatalf("%+v", r)
		}
	}
}
