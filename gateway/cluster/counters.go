package cluster

import (
	"context"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// Counters are gateway.UsageCounters shared through Redis: one hash per client and UTC day,
// reserved and refused atomically by a Lua script with the rules of gateway.MemoryCounters.
// While Redis is unreachable the instance's own MemoryCounters admit, and the reservations made
// there (Reservation.Local) are settled there.
type Counters struct {
	s     *Shared
	local *gateway.MemoryCounters
}

var _ gateway.UsageCounters = (*Counters)(nil)

// Counters returns the shared daily quota counters.
func (s *Shared) Counters() *Counters { return &Counters{s: s, local: gateway.NewMemoryCounters()} }

// dayTTL keeps a day's hash past its day, for the requests that settle after midnight.
const dayTTL = 48 * time.Hour

// A day's hash has the fields r, f, i, o, c, x, n, ri and ro: requests, refused, input, output,
// cached and reasoning tokens, in flight, reserved input and output tokens; "own" is the
// instance that restored the day from the database ("-" when it was counted first).

// countersReserve: KEYS[1] is the day's hash; ARGV are the quotas on requests, input and output
// tokens, then in, out and choices as gateway.UsageCounters.Reserve takes them. It returns the
// refusal (gateway.QuotaRefusal), the output tokens reserved, then the day's fields.
var countersReserve = redis.NewScript(`
local k = KEYS[1]
local v = redis.call('HMGET', k, 'r', 'f', 'i', 'o', 'c', 'x', 'n', 'ri', 'ro')
for j = 1, 9 do v[j] = tonumber(v[j]) or 0 end
local maxReq, maxIn, maxOut = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local input, out, choices = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function answer(refused, reserved)
  local r = {refused, reserved}
  for j = 1, 9 do r[j + 2] = v[j] end
  return r
end
if maxReq > 0 and v[1] + 1 > maxReq then return answer(1, 0) end
if maxIn > 0 and v[3] + v[8] + math.max(input, 1) > maxIn then return answer(2, 0) end
if maxOut > 0 then
  local left = maxOut - v[4] - v[9]
  if left < choices then return answer(3, 0) end
  if out > math.floor(left / choices) then out = math.floor(left / choices) end
end
local inRes, outRes = math.max(input, 0), out * choices
redis.call('HINCRBY', k, 'r', 1)
redis.call('HINCRBY', k, 'n', 1)
redis.call('HINCRBY', k, 'ri', inRes)
redis.call('HINCRBY', k, 'ro', outRes)
redis.call('HSETNX', k, 'own', '-')
redis.call('EXPIRE', k, 172800)
v[1], v[7], v[8], v[9] = v[1] + 1, v[7] + 1, v[8] + inRes, v[9] + outRes
return answer(0, outRes)
`)

// countersRestore: KEYS[1] is the day's hash; ARGV[1] is this instance, then the amounts to add
// to r, f, i, o, c and x. A day another instance already counts is left alone.
var countersRestore = redis.NewScript(`
local o = redis.call('HGET', KEYS[1], 'own')
if o and o ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'own', ARGV[1])
local f = {'r', 'f', 'i', 'o', 'c', 'x'}
for j = 1, 6 do redis.call('HINCRBY', KEYS[1], f[j], tonumber(ARGV[j + 1])) end
redis.call('EXPIRE', KEYS[1], 172800)
return 1
`)

func (c *Counters) dayKey(key, day string) string { return c.s.key("q", key, day) }

// Reserve implements gateway.UsageCounters.
func (c *Counters) Reserve(key, day string, q gateway.Quota, in, out, choices int64) (gateway.Reservation, gateway.QuotaRefusal, gateway.DayUsage) {
	choices = max(choices, 1)
	out = min(max(out, 0), math.MaxInt32)
	var v []int64
	ok := c.s.try("quota", func(ctx context.Context) error {
		var err error
		v, err = countersReserve.Run(ctx, c.s.rdb, []string{c.dayKey(key, day)},
			q.MaxRequestsPerDay, q.MaxInputTokensPerDay, q.MaxOutputTokensPerDay, in, out, choices).Int64Slice()
		return err
	})
	if !ok || len(v) != 11 {
		r, refused, u := c.local.Reserve(key, day, q, in, out, choices)
		r.Local = refused == gateway.QuotaAdmitted
		return r, refused, u
	}
	u := dayUsage(day, v[2:])
	if refused := gateway.QuotaRefusal(v[0]); refused != gateway.QuotaAdmitted {
		return gateway.Reservation{}, refused, u
	}
	return gateway.Reservation{Day: day, InputTokens: max(in, 0), OutputTokens: v[1]}, gateway.QuotaAdmitted, u
}

// dayUsage reads the fields of a day in the order r, f, i, o, c, x, n, ri, ro.
func dayUsage(day string, v []int64) gateway.DayUsage {
	return gateway.DayUsage{Day: day, Requests: v[0], Refused: v[1], InputTokens: v[2], OutputTokens: v[3],
		CachedTokens: v[4], ReasoningTokens: v[5], InFlight: v[6], ReservedInput: v[7], ReservedOutput: v[8]}
}

// Release implements gateway.UsageCounters.
func (c *Counters) Release(key string, r gateway.Reservation) {
	if r.Local {
		c.local.Release(key, r)
		return
	}
	c.incr("quota release", c.dayKey(key, r.Day), add{"n", -1}, add{"ri", -r.InputTokens}, add{"ro", -r.OutputTokens}, add{"r", -1})
}

// Settle implements gateway.UsageCounters.
func (c *Counters) Settle(key string, r gateway.Reservation, u providers.Usage) {
	if r.Local {
		c.local.Settle(key, r, u)
		return
	}
	c.incr("quota settle", c.dayKey(key, r.Day), add{"n", -1}, add{"ri", -r.InputTokens}, add{"ro", -r.OutputTokens},
		add{"i", int64(u.InputTokens)}, add{"o", int64(u.OutputTokens)}, add{"c", int64(u.CachedTokens)}, add{"x", int64(u.ReasoningTokens)})
}

// Refuse implements gateway.UsageCounters.
func (c *Counters) Refuse(key, day string) {
	c.incr("quota refuse", c.dayKey(key, day), add{"f", 1})
}

// add is an amount to add to a field of a hash.
type add struct {
	field string
	n     int64
}

// incr makes the additions to a hash in one transaction, now or, while Redis is away, once it
// is back.
func (c *Counters) incr(what, hash string, adds ...add) {
	c.s.settle(what, func(ctx context.Context) error {
		_, err := c.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, a := range adds {
				if a.n != 0 {
					p.HIncrBy(ctx, hash, a.field, a.n)
				}
			}
			p.HSetNX(ctx, hash, "own", "-")
			p.Expire(ctx, hash, dayTTL)
			return nil
		})
		return err
	})
}

// Restore implements gateway.UsageCounters. Only the first instance to restore a client's day
// counts the database's usage into it; one that starts while others run finds the day already
// counted (and more current than the database) and leaves it be.
func (c *Counters) Restore(key, day string, u gateway.DayUsage) {
	c.local.Restore(key, day, u)
	c.s.try("quota restore", func(ctx context.Context) error {
		return countersRestore.Run(ctx, c.s.rdb, []string{c.dayKey(key, day)}, c.s.instance,
			u.Requests, u.Refused, u.InputTokens, u.OutputTokens, u.CachedTokens, u.ReasoningTokens).Err()
	})
}

// Get implements gateway.UsageCounters.
func (c *Counters) Get(key, day string) gateway.DayUsage {
	var vals []any
	if !c.s.try("quota read", func(ctx context.Context) error {
		var err error
		vals, err = c.s.rdb.HMGet(ctx, c.dayKey(key, day), "r", "f", "i", "o", "c", "x", "n", "ri", "ro").Result()
		return err
	}) || len(vals) != 9 {
		return c.local.Get(key, day)
	}
	v := make([]int64, 9)
	for j, x := range vals {
		if s, ok := x.(string); ok {
			v[j] = parseInt(s)
		}
	}
	return dayUsage(day, v)
}

// Forget implements gateway.UsageCounters.
func (c *Counters) Forget(key string) {
	c.local.Forget(key)
	c.s.forget(c.s.key("q", key, "*"))
}
