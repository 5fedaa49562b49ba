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
type loginThrottle struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures    int
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

// wait returns how long the caller must wait before trying again: the longest lock among keys.
func (t *loginThrottle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for _, k := range keys {
		if e, ok := t.entries[k]; ok {
			if d := e.lockedUntil.Sub(now); d > longest {
				longest = d
			}
		}
	}
	return longest
}

// fail records a failed attempt for every key.
func (t *loginThrottle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		e, ok := t.entries[k]
		if !ok {
			if len(t.entries) >= loginMaxEntries {
				t.prune(now)
			}
			e = &throttleEntry{}
			t.entries[k] = e
		} else if now.Sub(e.lastFailure) > loginForget {
			*e = throttleEntry{}
		}
		e.failures++
		e.lastFailure = now
		if over := e.failures - loginFreeFailures; over >= 0 {
			lock := loginBaseLock << min(over, 10)
			e.lockedUntil = now.Add(min(lock, loginMaxLock))
		}
	}
}

// succeed clears every key.
func (t *loginThrottle) succeed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.entries, k)
	}
}

// prune drops entries that are neither locked nor remembered; if that is not enough, the entries
// with the oldest failures go.
func (t *loginThrottle) prune(now time.Time) {
	for k, e := range t.entries {
		if now.After(e.lockedUntil) && now.Sub(e.lastFailure) > loginForget {
			delete(t.entries, k)
		}
	}
	for len(t.entries) >= loginMaxEntries {
		var oldestKey string
		var oldest time.Time
		for k, e := range t.entries {
			if oldestKey == "" || e.lastFailure.Before(oldest) {
				oldestKey, oldest = k, e.lastFailure
			}
		}
		delete(t.entries, oldestKey)
	}
}
