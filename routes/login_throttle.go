package routes

import (
	"sync"
	"time"
)

// loginThrottle slows down password guessing, per client IP and per username at once.
//
// Each key gets loginFreeFailures failed attempts; every failure after that locks the key for
// loginBaseLock, doubling with each further failure up to loginMaxLock. A success clears the
// key; failures older than loginForget are forgotten. Locking per username means an attacker
// can keep an account locked for a while, so the lock stays short (at most loginMaxLock) and
// the per-IP lock stops a single source long before that matters.
//
// An attempt is reserved before its password is checked and counts against the keys while the
// check runs, so a burst of parallel guesses gets no more checks than the same guesses one by
// one: the reservations themselves use up the free failures.
type loginThrottle struct {
	now func() time.Time
	// shared, when set, keeps the state where every instance sees it (Deps.LoginThrottle); the
	// entries below then only serve while it is unreachable.
	shared SharedLoginThrottle

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

// SharedLoginThrottle keeps the login throttle's state for several instances (cluster's, in
// Redis, SPEC §17) with the rule of LoginPolicy. Reserve takes an attempt on every key or says how
// long to wait; an error means the store is unreachable, and this instance throttles on its own
// memory until it answers again.
type SharedLoginThrottle interface {
	Reserve(keys []string, now time.Time) (wait time.Duration, err error)
	Fail(keys []string, now time.Time)
	Succeed(keys []string, now time.Time)
	Cancel(keys []string, now time.Time)
}

// LoginPolicy is the throttle's rule, for a shared throttle to apply: free failures per key, the
// first lock, the longest lock, and how long failures are remembered.
func LoginPolicy() (free int, baseLock, maxLock, forget time.Duration) {
	return loginFreeFailures, loginBaseLock, loginMaxLock, loginForget
}

type throttleEntry struct {
	failures    int
	pending     int // attempts reserved and not yet settled
	lastFailure time.Time
	lockedUntil time.Time
}

const (
	loginFreeFailures = 5
	loginBaseLock     = 30 * time.Second
	loginMaxLock      = 15 * time.Minute
	loginForget       = time.Hour
	// loginMaxEntries bounds memory when many addresses fail: stale entries are pruned first.
	loginMaxEntries = 10000
)

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, entries: map[string]*throttleEntry{}}
}

// loginAttempt is a reserved attempt; exactly one of fail, succeed or cancel settles it.
type loginAttempt struct {
	t    *loginThrottle
	keys []string
	// shared: reserved in the shared throttle, and settled there.
	shared bool
}

// reserve takes an attempt on every key, or returns how long the caller must wait (at least a
// second) when any key is locked or has its remaining attempts already in flight.
func (t *loginThrottle) reserve(keys ...string) (*loginAttempt, time.Duration) {
	if t.shared != nil {
		wait, err := t.shared.Reserve(keys, t.now())
		if err == nil {
			if wait > 0 {
				return nil, max(wait, time.Second)
			}
			return &loginAttempt{t: t, keys: keys, shared: true}, 0
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		e, ok := t.entries[k]
		if !ok {
			continue
		}
		if e.pending == 0 && e.failures > 0 && now.Sub(e.lastFailure) > loginForget && !now.Before(e.lockedUntil) {
			*e = throttleEntry{}
		}
		d := e.lockedUntil.Sub(now)
		if d <= 0 && e.pending >= e.allowance() {
			d = time.Second // the last attempts are being checked right now
		}
		wait = max(wait, d)
	}
	if wait > 0 {
		return nil, max(wait, time.Second)
	}
	for _, k := range keys {
		e, ok := t.entries[k]
		if !ok {
			if len(t.entries) >= loginMaxEntries {
				t.prune(now)
			}
			e = &throttleEntry{}
			t.entries[k] = e
		}
		e.pending++
	}
	return &loginAttempt{t: t, keys: keys}, 0
}

// allowance is how many attempts may run before the key locks: the free ones left, or one at a
// time once a lock has run out.
func (e *throttleEntry) allowance() int {
	return max(loginFreeFailures-e.failures, 1)
}

// fail records the attempt as a failure on every key.
func (a *loginAttempt) fail() {
	if a.shared {
		a.t.shared.Fail(a.keys, a.t.now())
		return
	}
	a.t.settle(a.keys, func(e *throttleEntry, now time.Time) {
		e.failures++
		e.lastFailure = now
		if over := e.failures - loginFreeFailures; over >= 0 {
			lock := loginBaseLock << min(over, 10)
			e.lockedUntil = now.Add(min(lock, loginMaxLock))
		}
	})
}

// succeed clears every key's failures.
func (a *loginAttempt) succeed() {
	if a.shared {
		a.t.shared.Succeed(a.keys, a.t.now())
		return
	}
	a.t.settle(a.keys, func(e *throttleEntry, _ time.Time) {
		e.failures, e.lastFailure, e.lockedUntil = 0, time.Time{}, time.Time{}
	})
}

// cancel gives the attempt back uncounted (the password was never checked).
func (a *loginAttempt) cancel() {
	if a.shared {
		a.t.shared.Cancel(a.keys, a.t.now())
		return
	}
	a.t.settle(a.keys, func(*throttleEntry, time.Time) {})
}

func (t *loginThrottle) settle(keys []string, f func(e *throttleEntry, now time.Time)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		e, ok := t.entries[k]
		if !ok {
			continue
		}
		e.pending--
		f(e, now)
		if e.pending == 0 && e.failures == 0 {
			delete(t.entries, k)
		}
	}
}

// prune drops entries that are neither locked, remembered nor in use; if that is not enough,
// the idle entries with the oldest failures go.
func (t *loginThrottle) prune(now time.Time) {
	for k, e := range t.entries {
		if e.pending == 0 && now.After(e.lockedUntil) && now.Sub(e.lastFailure) > loginForget {
			delete(t.entries, k)
		}
	}
	for len(t.entries) >= loginMaxEntries {
		var oldestKey string
		var oldest time.Time
		for k, e := range t.entries {
			if e.pending == 0 && (oldestKey == "" || e.lastFailure.Before(oldest)) {
				oldestKey, oldest = k, e.lastFailure
			}
		}
		if oldestKey == "" {
			return // every entry has an attempt in flight; they are few (passwordSlots bounds them)
		}
		delete(t.entries, oldestKey)
	}
}
