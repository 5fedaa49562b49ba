package cluster

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/ai-gateway/gateway"
)

// Spend are gateway.SpendCounters shared through Redis: each client's settled cost per UTC day
// and month (field "m" of a hash each; "own" as in Counters), its reservations in flight (one
// number), and the totals of every client per day and month for the dashboard. Reserve is one
// Lua script with the rules of gateway.MemorySpend. While Redis is unreachable the instance's
// own MemorySpend decides, and its reservations (SpendReservation.Local) are settled there.
type Spend struct {
	s     *Shared
	local *gateway.MemorySpend
}

var _ gateway.SpendCounters = (*Spend)(nil)

// Spend returns the shared budget counters.
func (s *Shared) Spend() *Spend { return &Spend{s: s, local: gateway.NewMemorySpend()} }

// monthTTL keeps a month's hash past its month; reservedTTL drops reservations an instance that
// died never settled, a day after the client's last reservation.
const (
	monthTTL    = 40 * 24 * time.Hour
	reservedTTL = 24 * time.Hour
)

// spendReserve: KEYS are the day's and the month's hashes and the reserved counter; ARGV the
// day and month budgets (0 = none), the worst case and the TTLs (s) of the three. It returns 0
// when admitted, 1 when the day's budget refuses, 2 when the month's does.
var spendReserve = redis.NewScript(`
local d = tonumber(redis.call('HGET', KEYS[1], 'm')) or 0
local m = tonumber(redis.call('HGET', KEYS[2], 'm')) or 0
local r = tonumber(redis.call('GET', KEYS[3])) or 0
local bd, bm, worst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if bd > 0 and d + r + worst > bd then return 1 end
if bm > 0 and m + r + worst > bm then return 2 end
redis.call('INCRBY', KEYS[3], worst)
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
for j = 1, 2 do
  redis.call('HSETNX', KEYS[j], 'own', '-')
  redis.call('EXPIRE', KEYS[j], tonumber(ARGV[3 + j]))
end
return 0
`)

// spendRestore: KEYS are the client's month hash, the restored day's hash (or "" when the day
// is not today), and the totals of today and the month; ARGV this instance, the cost and the
// TTLs (s) of the day and the month. A month another instance already counts is left alone.
var spendRestore = redis.NewScript(`
local o = redis.call('HGET', KEYS[1], 'own')
if o and o ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'own', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'm', n)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('INCRBY', KEYS[4], n)
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[4]))
if KEYS[2] ~= '' then
  redis.call('HINCRBY', KEYS[2], 'm', n)
  redis.call('HSET', KEYS[2], 'own', ARGV[1])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
  redis.call('INCRBY', KEYS[3], n)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[3]))
end
return 1
`)

func (m *Spend) dayKey(key, day string) string     { return m.s.key("sd", key, day) }
func (m *Spend) monthKey(key, month string) string { return m.s.key("sm", key, month) }
func (m *Spend) reservedKey(key string) string     { return m.s.key("sr", key) }
func (m *Spend) totalKey(period string) string     { return m.s.key("st", period) }

// Reserve implements gateway.SpendCounters.
func (m *Spend) Reserve(key, day, month string, b gateway.Budget, worst int64) (gateway.SpendReservation, string) {
	var refused int64
	if !m.s.try("budget", func(ctx context.Context) error {
		var err error
		refused, err = spendReserve.Run(ctx, m.s.rdb, []string{m.dayKey(key, day), m.monthKey(key, month), m.reservedKey(key)},
			b.DayMicros, b.MonthMicros, worst, int64(dayTTL/time.Second), int64(monthTTL/time.Second), int64(reservedTTL/time.Second)).Int64()
		return err
	}) {
		r, why := m.local.Reserve(key, day, month, b, worst)
		r.Local = why == ""
		return r, why
	}
	switch refused {
	case 1:
		return gateway.SpendReservation{}, "day"
	case 2:
		return gateway.SpendReservation{}, "month"
	}
	return gateway.SpendReservation{Day: day, Month: month, Micros: worst}, ""
}

// Settle implements gateway.SpendCounters.
func (m *Spend) Settle(key string, r gateway.SpendReservation, day, month string, actual int64) {
	if r.Local {
		m.local.Settle(key, r, day, month, actual)
		return
	}
	m.s.settle("budget settle", func(ctx context.Context) error {
		_, err := m.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if r.Micros != 0 {
				p.DecrBy(ctx, m.reservedKey(key), r.Micros)
			}
			if actual != 0 {
				for _, k := range []string{m.dayKey(key, day), m.monthKey(key, month)} {
					p.HIncrBy(ctx, k, "m", actual)
					p.HSetNX(ctx, k, "own", "-")
				}
				p.IncrBy(ctx, m.totalKey(day), actual)
				p.IncrBy(ctx, m.totalKey(month), actual)
				p.Expire(ctx, m.dayKey(key, day), dayTTL)
				p.Expire(ctx, m.totalKey(day), dayTTL)
				p.Expire(ctx, m.monthKey(key, month), monthTTL)
				p.Expire(ctx, m.totalKey(month), monthTTL)
			}
			return nil
		})
		return err
	})
}

// Restore implements gateway.SpendCounters. Only the first instance to restore a client's month
// counts the database's spend into it (see Counters.Restore).
func (m *Spend) Restore(key, today, month, day string, micros int64) {
	m.local.Restore(key, today, month, day, micros)
	if micros == 0 || len(day) < 7 || day[:7] != month {
		return
	}
	dayKey, dayTotal := "", m.totalKey(today)
	if day == today {
		dayKey = m.dayKey(key, day)
	}
	m.s.try("budget restore", func(ctx context.Context) error {
		return spendRestore.Run(ctx, m.s.rdb, []string{m.monthKey(key, month), dayKey, dayTotal, m.totalKey(month)},
			m.s.instance, micros, int64(dayTTL/time.Second), int64(monthTTL/time.Second)).Err()
	})
}

// Get implements gateway.SpendCounters.
func (m *Spend) Get(key, day, month string) gateway.Spend {
	var d, mo, r *redis.StringCmd
	if !m.s.try("budget read", func(ctx context.Context) error {
		_, err := m.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			d = p.HGet(ctx, m.dayKey(key, day), "m")
			mo = p.HGet(ctx, m.monthKey(key, month), "m")
			r = p.Get(ctx, m.reservedKey(key))
			return nil
		})
		return err
	}) {
		return m.local.Get(key, day, month)
	}
	return gateway.Spend{Day: day, Month: month, DayMicros: parseInt(d.Val()), MonthMicros: parseInt(mo.Val()),
		Reserved: parseInt(r.Val())}
}

// Total implements gateway.SpendCounters.
func (m *Spend) Total(day, month string) (dayMicros, monthMicros int64) {
	var vals []any
	if !m.s.try("budget totals", func(ctx context.Context) error {
		var err error
		vals, err = m.s.rdb.MGet(ctx, m.totalKey(day), m.totalKey(month)).Result()
		return err
	}) || len(vals) != 2 {
		return m.local.Total(day, month)
	}
	d, _ := vals[0].(string)
	mo, _ := vals[1].(string)
	return parseInt(d), parseInt(mo)
}

// Forget implements gateway.SpendCounters.
func (m *Spend) Forget(key string) {
	m.local.Forget(key)
	m.s.forget(m.s.key("sd", key, "*"), m.s.key("sm", key, "*"), m.reservedKey(key))
}
