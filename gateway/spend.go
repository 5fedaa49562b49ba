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

// spendReservation is what one admitted request holds against its client's budgets.
type spendReservation struct {
	day, month string
	micros     int64
}

// spendCounters hold each client's spend of the current day and month in memory: admission
// reserves and refuses against them, Call.End settles, Start restores them from usage_daily.
type spendCounters struct {
	keys sync.Map // client key → *spendCounter
}

type spendCounter struct {
	mu sync.Mutex
	s  Spend
}

func (m *spendCounters) counter(key string) *spendCounter {
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

// reserve admits a request whose worst case costs worst micro-dollars when neither budget of b
// would then be passed (reservations of requests in flight counted as spent). Refused, nothing
// changes and which says which budget ("day" or "month") refused.
func (m *spendCounters) reserve(key, day, month string, b Budget, worst int64) (spendReservation, string, Spend) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(day, month)
	s := &c.s
	if b.DayMicros > 0 && s.DayMicros+s.Reserved+worst > b.DayMicros {
		return spendReservation{}, "day", *s
	}
	if b.MonthMicros > 0 && s.MonthMicros+s.Reserved+worst > b.MonthMicros {
		return spendReservation{}, "month", *s
	}
	s.Reserved += worst
	return spendReservation{day: day, month: month, micros: worst}, "", *s
}

// left is what the tighter budget of b leaves, in micro-dollars; ok is false without a budget.
func (m *spendCounters) left(key, day, month string, b Budget) (left int64, ok bool) {
	s := m.get(key, day, month)
	left = -1
	if b.DayMicros > 0 {
		left = b.DayMicros - s.DayMicros - s.Reserved
	}
	if b.MonthMicros > 0 {
		if l := b.MonthMicros - s.MonthMicros - s.Reserved; left < 0 || l < left {
			left = l
		}
	}
	return max(left, 0), b.Set()
}

// settle drops r's reservation and adds the request's actual cost to the day and month it started in.
func (m *spendCounters) settle(key string, r spendReservation, day, month string, actual int64) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Reserved -= r.micros
	c.roll(day, month)
	if day == c.s.Day {
		c.s.DayMicros += actual
	}
	if month == c.s.Month {
		c.s.MonthMicros += actual
	}
}

// restore adds spend already recorded on day (loaded from usage_daily at start).
func (m *spendCounters) restore(key, today, month, day string, micros int64) {
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

func (m *spendCounters) get(key, day, month string) Spend {
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

// total sums every client's settled spend of day and month.
func (m *spendCounters) total(day, month string) (dayMicros, monthMicros int64) {
	m.keys.Range(func(k, _ any) bool {
		s := m.get(k.(string), day, month)
		dayMicros += s.DayMicros
		monthMicros += s.MonthMicros
		return true
	})
	return dayMicros, monthMicros
}

func (m *spendCounters) forget(key string) { m.keys.Delete(key) }

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
	return g.spend.get(c.key, dayOf(now), monthOf(now))
}
