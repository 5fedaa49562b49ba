package gateway

import (
	"math"
	"sync"

	"github.com/aigateway/ai-gateway/providers"
)

// DayUsage is one client's usage of one UTC day as the counters know it.
type DayUsage struct {
	// Day is the UTC date, YYYY-MM-DD.
	Day string
	// Requests counts admitted requests, including those still in flight: what the daily
	// request quota limits.
	Requests int64
	// Refused counts the requests the gateway refused itself (they count in the day's totals,
	// not against the quotas).
	Refused         int64
	InputTokens     int64
	OutputTokens    int64
	CachedTokens    int64
	ReasoningTokens int64
	// InFlight requests hold ReservedInput and ReservedOutput tokens until they are settled.
	InFlight       int64
	ReservedInput  int64
	ReservedOutput int64
}

// Reservation is what one admitted request holds until it is settled or released.
type Reservation struct {
	Day         string
	InputTokens int64
	// OutputTokens is the output cap per choice times the number of choices.
	OutputTokens int64
	// Local marks a reservation that shared counters made in this instance's own memory while
	// their store was unreachable: it is settled there too.
	Local bool
}

// QuotaRefusal says which daily quota refused a request.
type QuotaRefusal uint8

const (
	QuotaAdmitted QuotaRefusal = iota
	QuotaRequests
	QuotaInputTokens
	QuotaOutputTokens
)

// UsageCounters hold each client's usage of the current UTC day and enforce the daily quotas.
// MemoryCounters serves a single instance; one backed by Redis can share them (SPEC §13).
// Keys are opaque (one per client).
type UsageCounters interface {
	// Reserve admits one request of key on day when the daily quotas of q (requests, input and
	// output tokens; 0 = unlimited) leave room for it: in is its estimated input tokens, out its
	// output-token cap per choice (0 = none) and choices the number of answers it asks for (n,
	// candidateCount; at least 1), each of which may use out tokens. Admitted, the request is
	// counted and reserves in input and out × choices output tokens; when the output quota has
	// less room than that, out is lowered to the room divided among the choices. A request that
	// would leave a choice less than one token of the output quota is refused. Refused, nothing
	// changes. The usage returned includes this request.
	Reserve(key, day string, q Quota, in, out, choices int64) (Reservation, QuotaRefusal, DayUsage)
	// Release undoes a reservation whose request was not forwarded: it is not counted.
	Release(key string, r Reservation)
	// Settle replaces a reservation with the request's real usage (counted on the reservation's day).
	Settle(key string, r Reservation, u providers.Usage)
	// Refuse counts one request of key on day that the gateway refused (no quota is spent).
	Refuse(key, day string)
	// Restore adds usage already spent on day (loaded from usage_daily at start).
	Restore(key, day string, u DayUsage)
	// Get returns key's usage of day.
	Get(key, day string) DayUsage
	// Forget drops everything known about key (the client was deleted).
	Forget(key string)
}

// MemoryCounters are UsageCounters held in memory.
type MemoryCounters struct {
	keys sync.Map // string → *dayCounter
}

// NewMemoryCounters returns empty in-memory counters.
func NewMemoryCounters() *MemoryCounters { return &MemoryCounters{} }

var _ UsageCounters = (*MemoryCounters)(nil)

type dayCounter struct {
	mu sync.Mutex
	u  DayUsage
}

func (m *MemoryCounters) counter(key string) *dayCounter {
	v, ok := m.keys.Load(key)
	if !ok {
		v, _ = m.keys.LoadOrStore(key, &dayCounter{})
	}
	return v.(*dayCounter)
}

// roll moves the counter to day when day is newer: yesterday's usage no longer counts, but the
// requests still in flight keep their reservations. Days are YYYY-MM-DD, so they compare as strings.
func (c *dayCounter) roll(day string) {
	if day > c.u.Day {
		c.u = DayUsage{Day: day, InFlight: c.u.InFlight, ReservedInput: c.u.ReservedInput, ReservedOutput: c.u.ReservedOutput}
	}
}

// Reserve implements UsageCounters.
func (m *MemoryCounters) Reserve(key, day string, q Quota, in, out, choices int64) (Reservation, QuotaRefusal, DayUsage) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(day)
	u := &c.u
	if q.MaxRequestsPerDay > 0 && u.Requests+1 > q.MaxRequestsPerDay {
		return Reservation{}, QuotaRequests, *u
	}
	// An unknown estimate (0) still needs one token of room: an exhausted quota refuses.
	if q.MaxInputTokensPerDay > 0 && u.InputTokens+u.ReservedInput+max(in, 1) > q.MaxInputTokensPerDay {
		return Reservation{}, QuotaInputTokens, *u
	}
	choices = max(choices, 1)
	out = min(max(out, 0), math.MaxInt32) // a cap beyond any model's; keeps out × choices far from overflow
	if q.MaxOutputTokensPerDay > 0 {
		left := q.MaxOutputTokensPerDay - u.OutputTokens - u.ReservedOutput
		if left < choices {
			return Reservation{}, QuotaOutputTokens, *u
		}
		if out > left/choices {
			out = left / choices
		}
	}
	r := Reservation{Day: day, InputTokens: max(in, 0), OutputTokens: out * choices}
	u.Requests++
	u.InFlight++
	u.ReservedInput += r.InputTokens
	u.ReservedOutput += r.OutputTokens
	return r, QuotaAdmitted, *u
}

// Release implements UsageCounters.
func (m *MemoryCounters) Release(key string, r Reservation) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unreserve(r)
	if r.Day == c.u.Day {
		c.u.Requests--
	}
}

func (c *dayCounter) unreserve(r Reservation) {
	c.u.InFlight--
	c.u.ReservedInput -= r.InputTokens
	c.u.ReservedOutput -= r.OutputTokens
}

// Settle implements UsageCounters.
func (m *MemoryCounters) Settle(key string, r Reservation, us providers.Usage) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unreserve(r)
	if r.Day == c.u.Day { // a request that started yesterday counts for yesterday
		c.u.InputTokens += int64(us.InputTokens)
		c.u.OutputTokens += int64(us.OutputTokens)
		c.u.CachedTokens += int64(us.CachedTokens)
		c.u.ReasoningTokens += int64(us.ReasoningTokens)
	}
}

// Refuse implements UsageCounters.
func (m *MemoryCounters) Refuse(key, day string) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(day)
	if c.u.Day == day {
		c.u.Refused++
	}
}

// Restore implements UsageCounters.
func (m *MemoryCounters) Restore(key, day string, add DayUsage) {
	c := m.counter(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(day)
	if c.u.Day != day {
		return
	}
	c.u.Requests += add.Requests
	c.u.Refused += add.Refused
	c.u.InputTokens += add.InputTokens
	c.u.OutputTokens += add.OutputTokens
	c.u.CachedTokens += add.CachedTokens
	c.u.ReasoningTokens += add.ReasoningTokens
}

// Get implements UsageCounters.
func (m *MemoryCounters) Get(key, day string) DayUsage {
	v, ok := m.keys.Load(key)
	if !ok {
		return DayUsage{Day: day}
	}
	c := v.(*dayCounter)
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.u
	if u.Day != day {
		return DayUsage{Day: day, InFlight: u.InFlight, ReservedInput: u.ReservedInput, ReservedOutput: u.ReservedOutput}
	}
	return u
}

// Forget implements UsageCounters.
func (m *MemoryCounters) Forget(key string) { m.keys.Delete(key) }
