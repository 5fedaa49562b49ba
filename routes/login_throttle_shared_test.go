package routes

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// fakeSharedThrottle records what the login throttle asks of a shared store and answers as told.
type fakeSharedThrottle struct {
	wait    time.Duration
	err     error
	settled []string
}

func (f *fakeSharedThrottle) Reserve([]string, time.Time) (time.Duration, error) {
	return f.wait, f.err
}
func (f *fakeSharedThrottle) Fail([]string, time.Time)    { f.settled = append(f.settled, "fail") }
func (f *fakeSharedThrottle) Succeed([]string, time.Time) { f.settled = append(f.settled, "succeed") }
func (f *fakeSharedThrottle) Cancel([]string, time.Time)  { f.settled = append(f.settled, "cancel") }

// With a shared store (Redis), the throttle's decisions and settlements go there; while the store
// is unreachable, the instance's own memory throttles, and attempts reserved there settle there.
func TestLoginThrottleShared(t *testing.T) {
	clock := &edgeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	shared := &fakeSharedThrottle{}
	th := newLoginThrottle(clock.Now)
	th.shared = shared

	a, w := th.reserve("ip:10.0.0.1", "user:admin")
	if a == nil || w != 0 {
		t.Fatalf("shared store admits: attempt %v, wait %v", a, w)
	}
	a.fail()
	a, _ = th.reserve("ip:10.0.0.1", "user:admin")
	a.succeed()
	if want := []string{"fail", "succeed"}; !slices.Equal(shared.settled, want) {
		t.Fatalf("settled in the shared store: %v, want %v", shared.settled, want)
	}
	if len(th.entries) != 0 {
		t.Fatalf("the shared store's attempts left %d entries in memory", len(th.entries))
	}

	shared.wait = 300 * time.Millisecond
	if a, w := th.reserve("user:admin"); a != nil || w != time.Second {
		t.Fatalf("shared store refuses: attempt %v, wait %v (want at least a second)", a, w)
	}

	// Unreachable: five failures in memory, then the lock.
	shared.wait, shared.err = 0, errors.New("redis unavailable")
	for i := range loginFreeFailures {
		a, w := th.reserve("user:admin")
		if a == nil {
			t.Fatalf("failure %d: locked for %v", i+1, w)
		}
		a.fail()
	}
	if w := throttleWait(th, "user:admin"); w != loginBaseLock {
		t.Fatalf("in memory after five failures: wait %v, want %v", w, loginBaseLock)
	}
	if len(shared.settled) != 2 {
		t.Fatalf("attempts made in memory were settled in the shared store: %v", shared.settled)
	}
}
