package cluster

import (
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
)

// Failed logins spread over instances count together: five free failures in all, then a lock
// of 30s doubling per failure; parallel attempts cannot outrun it; a success clears the key;
// attempts given back count for nothing.
func TestLoginThrottleAcrossInstances(t *testing.T) {
	redistest.Need(t)
	prefix := testPrefix(t)
	p := LoginPolicy{Free: 5, BaseLock: 30 * time.Second, MaxLock: 15 * time.Minute, Forget: time.Hour}
	a := openInstance(t, redistest.URL(), prefix).LoginThrottle(p)
	b := openInstance(t, redistest.URL(), prefix).LoginThrottle(p)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	keys := []string{"ip:192.0.2.1", "user:admin"}
	reserve := func(l *LoginThrottle, at time.Time) time.Duration {
		t.Helper()
		wait, err := l.Reserve(keys, at)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}

	// A cancelled attempt costs nothing.
	if w := reserve(a, now); w != 0 {
		t.Fatalf("first attempt waits %s", w)
	}
	a.Cancel(keys, now)
	for i := range 4 {
		l := []*LoginThrottle{a, b}[i%2]
		if w := reserve(l, now); w != 0 {
			t.Fatalf("failure %d: waits %s", i+1, w)
		}
		l.Fail(keys, now)
	}
	// One free failure is left: of two parallel attempts, one is checked, the other waits.
	if w := reserve(a, now); w != 0 {
		t.Fatalf("fifth attempt waits %s", w)
	}
	if w := reserve(b, now); w != time.Second {
		t.Fatalf("a parallel sixth attempt waits %s, want 1s (the last free one is being checked)", w)
	}
	a.Fail(keys, now)
	if w := reserve(b, now.Add(time.Second)); w != 29*time.Second {
		t.Fatalf("after five failures on two instances: wait %s, want 29s of the 30s lock", w)
	}
	if w := reserve(a, now.Add(30*time.Second)); w != 0 {
		t.Fatalf("after the lock: wait %s", w)
	}
	a.Fail(keys, now.Add(30*time.Second))
	if w := reserve(b, now.Add(31*time.Second)); w != 59*time.Second {
		t.Fatalf("sixth failure: wait %s, want 59s of the doubled lock", w)
	}
	if w := reserve(b, now.Add(90*time.Second)); w != 0 {
		t.Fatalf("after the doubled lock: wait %s", w)
	}
	b.Succeed(keys, now.Add(90*time.Second))

	// Cleared: five parallel attempts pass, the sixth waits for them.
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w, err := []*LoginThrottle{a, b}[i%2].Reserve(keys, now.Add(91*time.Second)); err == nil && w == 0 {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 5 {
		t.Fatalf("%d of 6 parallel attempts passed after a success, want 5", passed)
	}
}

// Redis unreachable: Reserve says so, and the caller throttles on its own memory.
func TestLoginThrottleUnreachable(t *testing.T) {
	redistest.Need(t)
	p := newProxy(t, redisAddr(t))
	l := openInstance(t, p.url(), testPrefix(t)).LoginThrottle(LoginPolicy{Free: 5, BaseLock: time.Second, MaxLock: time.Minute, Forget: time.Hour})
	p.close()
	if _, err := l.Reserve([]string{"user:admin"}, time.Now()); err == nil {
		t.Fatal("no error from an unreachable Redis")
	}
}
