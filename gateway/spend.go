package gateway

import (
	"sync"
	"time"
)

// Budget is a client's dollar budget in micro-dollars per UTC day and per calendar month (UTC);
// 0 means none.
type Budget struct {
	DayMicros   int64 `json:"-"`
	MonthMicros int64 `json:"-"`
}

// Set reports whether any budget applies.
func (b Budget) Set() bool { return b.DayMicros > 0 || b.MonthMicros > 0 }

// Spend is one client's spend as the gateway knows it, in micro-dollars.
type Spend struct {
	Day, Month string // YYYY-MM-DD and YYYY-MM (UTC)
	// DayMicros and MonthMicros are the settled cost of today and this month.
	DayMicros, MonthMicros int64
	// Reserved is the worst-case cost of the requests in flight that reserved some; it counts
	// against both budgets until they are settled.
	Reserved int64
}

// SpendReservation is what one admitted request holds against its client's budgets.
type SpendReservation struct {
	Day, Month string
	Micros     int64
	// Local marks a reservation that shared counters made in this instance's own memory while
	// their store was unreachable: it is settled there too.
	Local bool
}

// SpendCounters hold each client's spend of the current UTC day and month: admission reserves
// and refuses against them, Call.End settles, Start restores them from usage_daily. MemorySpend
// serves a single instance; one backed by Redis can share them (SPEC §17). Keys are opaque (one
// per client); days are YYYY-MM-DD and months YYYY-MM.
type SpendCounters interface {
	// Reserve admits a request whose worst case costs worst micro-dollars when neither budget
	// of b would then be passed (reservations in flight counted as spent). Refused, nothing
	// changes and refused names the budget ("day" or "month").
	Reserve(key, day, month string, b Budget, worst int64) (r SpendReservation, refused string)
	// Settle drops r and adds the actual cost to the day and month the request started in.
	Settle(key string, r SpendReservation, day, month string, actual int64)
	// Restore adds spend already recorded on day (from usage_daily at start).
	Restore(key, today, month, day string, micros int64)
	// Get returns key's spend of day and month.
	Get(key, day, month string) Spend
	// Total sums every key's settled spend of day and month.
	Total(day, month string) (dayMicros, monthMicros int64)
	// Forget drops key (the client was deleted).
	Forget(key string)
}

// MemorySpend are SpendCounters held in memory.
type MemorySpend struct {
	keys sync.Map // client key → *spendCounter
}

// NewMemorySpend returns empty in-memory spend counters.
func NewMemorySpend() *MemorySpend { return &MemorySpend{} }

var _ SpendCounters = (*MemorySpend)(nil)

type spendCounter struct {
	mu sync.Mutex
	s  Spend
}

func (m *MemorySpend) counter(key string) *spendCounter {
	v, ok := m.keys.Load(key)
	if !ok {
		v, _ = m.keys.LoadOrStore(key, &spendCounter{})
	}
	return v.(*spendCounter)
}

// roll moves the counter to day and month when they are newer; reservations stay.
func (c *spendCounter) roll(day, month string) {
	if day > c.s.Day {
		c.s.Day, c.s.DayMicros = day, 0
	}
	if month > c.s.Month {
		c.s.Month, c.s.MonthMicros = month, 0
	}
}

// Reserve implements SpendCounters.
func (m *MemorySpend) Reserve(key, day, month string, b Budget, worst int64) (SpendReservation, string) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(day, month)
	s := &c.s
	if b.DayMicros > 0 && s.DayMicros+s.Reserved+worst > b.DayMicros {
		return SpendReservation{}, "day"
	}
	if b.MonthMicros > 0 && s.MonthMicros+s.Reserved+worst > b.MonthMicros {
		return SpendReservation{}, "month"
	}
	s.Reserved += worst
	return SpendReservation{Day: day, Month: month, Micros: worst}, ""
}

// budgetLeft is what the tighter budget of b leaves after s, in micro-dollars (never below 0).
func budgetLeft(s Spend, b Budget) int64 {
	left, set := int64(0), false
	if b.DayMicros > 0 {
		left, set = b.DayMicros-s.DayMicros-s.Reserved, true
	}
	if b.MonthMicros > 0 {
		if l := b.MonthMicros - s.MonthMicros - s.Reserved; !set || l < left {
			left = l
		}
	}
	return max(left, 0)
}

// Settle implements SpendCounters.
func (m *MemorySpend) Settle(key string, r SpendReservation, day, month string, actual int64) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Reserved -= r.Micros
	c.roll(day, month)
	if day == c.s.Day {
		c.s.DayMicros += actual
	}
	if month == c.s.Month {
		c.s.MonthMicros += actual
	}
}

// Restore implements SpendCounters.
func (m *MemorySpend) Restore(key, today, month, day string, micros int64) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(today, month)
	if day == c.s.Day {
		c.s.DayMicros += micros
	}
	if len(day) >= 7 && day[:7] == c.s.Month {
		c.s.MonthMicros += micros
	}
}

// Get implements SpendCounters.
func (m *MemorySpend) Get(key, day, month string) Spend {
	v, ok := m.keys.Load(key)
	if !ok {
		return Spend{Day: day, Month: month}
	}
	c := v.(*spendCounter)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	if s.Day != day {
		s.Day, s.DayMicros = day, 0
	}
	if s.Month != month {
		s.Month, s.MonthMicros = month, 0
	}
	return s
}

// Total implements SpendCounters.
func (m *MemorySpend) Total(day, month string) (dayMicros, monthMicros int64) {
	m.keys.Range(func(k, _ any) bool {
		s := m.Get(k.(string), day, month)
		dayMicros += s.DayMicros
		monthMicros += s.MonthMicros
		return true
	})
	return dayMicros, monthMicros
}

// Forget implements SpendCounters.
func (m *MemorySpend) Forget(key string) { m.keys.Delete(key) }

// monthOf is t's UTC month, YYYY-MM.
func monthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// nextMonth is the start of the UTC month after t's.
func nextMonth(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

// Spend returns c's spend today and this month (UTC), settled and reserved.
func (g *Gateway) Spend(c *Client) Spend {
	now := g.now()
	return g.spend.Get(c.key, dayOf(now), monthOf(now))
}
