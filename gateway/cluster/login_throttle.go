package cluster

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// LoginPolicy is the admin login throttle's rule (routes.LoginPolicy): Free failed attempts per
// key, then a lock of BaseLock doubling with each further failure up to MaxLock; failures older
// than Forget are forgotten.
type LoginPolicy struct {
	Free                      int
	BaseLock, MaxLock, Forget time.Duration
}

// LoginThrottle keeps the login throttle's state in Redis, so guesses spread over several
// instances are throttled as if they all went to one (SPEC §17). Each key (a client address or a
// username) is a hash of its failures, last failure and lock, plus a counter of the attempts
// being checked right now that expires on its own, so an instance that dies mid-check cannot
// leave a key blocked.
type LoginThrottle struct {
	s *Shared
	p LoginPolicy
}

// LoginThrottle returns the shared login throttle with policy p.
func (s *Shared) LoginThrottle(p LoginPolicy) *LoginThrottle { return &LoginThrottle{s: s, p: p} }

// pendingTTL bounds how long an attempt may stay reserved: a password check takes well under it.
const pendingTTL = time.Minute

// loginReserve: KEYS are each key's hash and pending counter, in pairs; ARGV now (ms), the free
// failures, Forget and the hashes' TTL (ms). It returns 0 when an attempt was reserved on every
// key, else the wait (ms).
var loginReserve = redis.NewScript(`
local now, free, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for i = 1, #KEYS, 2 do
  local v = redis.call('HMGET', KEYS[i], 'f', 'lf', 'lu')
  local f, lf, lu = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0
  local p = tonumber(redis.call('GET', KEYS[i + 1])) or 0
  if p == 0 and f > 0 and now - lf > forget and now >= lu then
    redis.call('DEL', KEYS[i])
    f, lf, lu = 0, 0, 0
  end
  local d = lu - now
  if d <= 0 and p >= math.max(free - f, 1) then d = 1000 end
  if d > wait then wait = d end
end
if wait > 0 then return wait end
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], tonumber(ARGV[5]))
end
return 0
`)

// loginSettle: KEYS as loginReserve's; ARGV the outcome ("fail", "succeed" or "cancel"), now
// (ms), the free failures, the base and longest lock (ms) and the hashes' TTL (ms).
var loginSettle = redis.NewScript(`
local now, free, base, maxLock = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 1, #KEYS, 2 do
  local p = tonumber(redis.call('GET', KEYS[i + 1])) or 0
  if p > 0 then redis.call('DECR', KEYS[i + 1]) end
  if ARGV[1] == 'fail' then
    local f = redis.call('HINCRBY', KEYS[i], 'f', 1)
    redis.call('HSET', KEYS[i], 'lf', now)
    local over = f - free
    if over >= 0 then
      redis.call('HSET', KEYS[i], 'lu', now + math.min(base * 2 ^ math.min(over, 10), maxLock))
    end
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[6]))
  elseif ARGV[1] == 'succeed' then
    redis.call('DEL', KEYS[i])
  end
end
return 0
`)

func (l *LoginThrottle) keys(keys []string) []string {
	out := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, l.s.key("login", k), l.s.key("login", k, "pending"))
	}
	return out
}

// ttl keeps a key's failures while they can still matter: their lock, then Forget.
func (l *LoginThrottle) ttl() int64 { return (l.p.Forget + l.p.MaxLock).Milliseconds() }

// Reserve takes an attempt on every key, or returns how long the caller must wait when a key is
// locked or has its remaining attempts in flight. An error means Redis did not answer: the
// caller throttles on its own memory.
func (l *LoginThrottle) Reserve(keys []string, now time.Time) (time.Duration, error) {
	var wait int64
	var err error
	ok := l.s.try("login throttle", func(ctx context.Context) error {
		wait, err = loginReserve.Run(ctx, l.s.rdb, l.keys(keys), now.UnixMilli(), l.p.Free, l.p.Forget.Milliseconds(),
			l.ttl(), pendingTTL.Milliseconds()).Int64()
		return err
	})
	if !ok {
		if err == nil {
			err = errUnavailable
		}
		return 0, err
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// Fail records a reserved attempt as a failure on every key.
func (l *LoginThrottle) Fail(keys []string, now time.Time) { l.settle("fail", keys, now) }

// Succeed clears every key's failures.
func (l *LoginThrottle) Succeed(keys []string, now time.Time) { l.settle("succeed", keys, now) }

// Cancel gives a reserved attempt back uncounted.
func (l *LoginThrottle) Cancel(keys []string, now time.Time) { l.settle("cancel", keys, now) }

func (l *LoginThrottle) settle(outcome string, keys []string, now time.Time) {
	l.s.try("login throttle", func(ctx context.Context) error {
		return loginSettle.Run(ctx, l.s.rdb, l.keys(keys), outcome, now.UnixMilli(), l.p.Free,
			l.p.BaseLock.Milliseconds(), l.p.MaxLock.Milliseconds(), l.ttl()).Err()
	})
}
