package gateway

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// StatEvent is one finished request (or, with Requests > 1, several) for the live stats.
type StatEvent struct {
	Time         time.Time
	Client       string
	Model        string
	Requests     int64
	Errors       int64
	InputTokens  int64
	OutputTokens int64
	// CachedTokens are the input tokens read from the provider's prompt cache (part of InputTokens).
	CachedTokens int64
	// CacheSavedMicros is what the prompt cache saved on priced requests, net of cache writes.
	CacheSavedMicros int64
	// TotalsOnly adds to today's totals and top lists but not to the time series: usage restored
	// at start happened earlier in the day, at times nobody recorded.
	TotalsOnly bool
	// SeriesOnly adds to the per-minute and per-10-minute series only: traffic restored at start
	// from the request log, whose totals TotalsOnly events already restored.
	SeriesOnly bool
}

// StatsFeed aggregates finished requests into the dashboard's live numbers. MemoryStats serves a
// single instance; one backed by Redis can merge several (SPEC §13). Snapshot must be cheap: the
// dashboard asks once per second.
type StatsFeed interface {
	Record(e StatEvent)
	Snapshot(now time.Time) Snapshot
}

// Snapshot is the dashboard's view of the traffic.
type Snapshot struct {
	Time time.Time `json:"time"`
	// Today counts since 00:00 UTC.
	Today Totals `json:"today"`
	// InFlight is the number of requests admitted and not finished yet.
	InFlight int64 `json:"in_flight"`
	// RequestsPerSecond is the average over the last 10 complete seconds.
	RequestsPerSecond float64 `json:"requests_per_second"`
	// LastHour has one point per minute, oldest first, the current minute last.
	LastHour []Point `json:"last_hour"`
	// LastDay has one point per 10 minutes, oldest first, the current 10 minutes last.
	LastDay []Point `json:"last_day"`
	// Clients and Models are today's totals per client and per model, most requests first.
	Clients []Top `json:"clients"`
	Models  []Top `json:"models"`
	// ClientCount and ActiveClientCount are how many clients are configured, and active (left
	// to the caller, like InFlight: the gateway's key cache knows them).
	ClientCount       int `json:"client_count"`
	ActiveClientCount int `json:"active_client_count"`
	// SpendToday and SpendMonth are every current client's settled cost today and this month
	// (UTC), in US dollars (left to the caller too: the spend counters know them).
	SpendToday float64 `json:"spend_today_usd"`
	SpendMonth float64 `json:"spend_month_usd"`
	// Targets is the health of every upstream target key (SPEC §15), left to the caller too.
	Targets []HealthStatus `json:"targets"`
	// Instances is the per-instance breakdown when several instances share their stats (SPEC
	// §17, cluster.Stats); empty for a single instance.
	Instances []InstanceStats `json:"instances,omitempty"`
}

// InstanceStats is one instance's own traffic since it started, for the dashboard's breakdown.
type InstanceStats struct {
	ID       string    `json:"id"`
	Host     string    `json:"host"`
	Started  time.Time `json:"started"`
	InFlight int64     `json:"in_flight"`
	// RequestsPerSecond is the average over the last 10 complete seconds.
	RequestsPerSecond float64 `json:"requests_per_second"`
	// Today counts what the instance served today since it started.
	Today Totals `json:"today"`
	// Self marks the instance that answered.
	Self bool `json:"self"`
}

// Totals are counts over a period.
type Totals struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// CachedTokens are the input tokens read from the prompt cache; InputTokens includes them.
	CachedTokens int64 `json:"cached_tokens"`
	// CacheSavedMicros is what the prompt cache saved in micro-dollars: each priced request's
	// cache reads at (input − cache read price) less its cache writes at (cache write − input
	// price). Unpriced requests add nothing; negative when the writes cost more than reads saved.
	CacheSavedMicros int64 `json:"cache_saved_micros"`
}

// Point is the traffic of one interval starting at Time.
type Point struct {
	Time time.Time `json:"time"`
	Totals
}

// Top is one client's or one model's traffic today.
type Top struct {
	Name string `json:"name"`
	Totals
}

const (
	secondSlots = 60
	minuteSlots = 60
	tenMinSlots = 144
	rateWindow  = 10 // seconds averaged for RequestsPerSecond
)

// MemoryStats is a StatsFeed held in memory: fixed rings of per-second, per-minute and
// per-10-minute buckets, and today's totals per client and model.
type MemoryStats struct {
	mu      sync.Mutex
	day     string
	today   Totals
	clients map[string]*Totals
	models  map[string]*Totals
	seconds [secondSlots]slot
	minutes [minuteSlots]slot
	tenMins [tenMinSlots]slot
}

type slot struct {
	n int64 // absolute interval number (unix seconds / interval); a stale slot is reset on use
	Totals
}

// NewMemoryStats returns empty in-memory stats.
func NewMemoryStats() *MemoryStats {
	return &MemoryStats{clients: map[string]*Totals{}, models: map[string]*Totals{}}
}

var _ StatsFeed = (*MemoryStats)(nil)

func (t *Totals) add(e *StatEvent) {
	t.Requests += e.Requests
	t.Errors += e.Errors
	t.InputTokens += e.InputTokens
	t.OutputTokens += e.OutputTokens
	t.CachedTokens += e.CachedTokens
	t.CacheSavedMicros += e.CacheSavedMicros
}

func (s *MemoryStats) rollDay(day string) {
	if day > s.day {
		s.day = day
		s.today = Totals{}
		clear(s.clients)
		clear(s.models)
	}
}

// Record implements StatsFeed.
func (s *MemoryStats) Record(e StatEvent) {
	t := e.Time.UTC()
	sec := t.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	day := dayOf(t)
	s.rollDay(day)
	if day == s.day && !e.SeriesOnly {
		s.today.add(&e)
		for _, m := range []struct {
			m    map[string]*Totals
			name string
		}{{s.clients, e.Client}, {s.models, e.Model}} {
			tot := m.m[m.name]
			if tot == nil {
				tot = &Totals{}
				m.m[m.name] = tot
			}
			tot.add(&e)
		}
	}
	if e.TotalsOnly {
		return
	}
	if !e.SeriesOnly { // restored minutes have no seconds
		addSlot(s.seconds[:], sec, &e)
	}
	addSlot(s.minutes[:], sec/60, &e)
	addSlot(s.tenMins[:], sec/600, &e)
}

func addSlot(ring []slot, n int64, e *StatEvent) {
	sl := &ring[n%int64(len(ring))]
	if sl.n != n {
		if sl.n > n { // older than the ring: nothing to add it to
			return
		}
		*sl = slot{n: n}
	}
	sl.add(e)
}

func series(ring []slot, cur int64, interval time.Duration) []Point {
	out := make([]Point, len(ring))
	for i := range out {
		n := cur - int64(len(ring)) + 1 + int64(i)
		out[i].Time = time.Unix(n*int64(interval/time.Second), 0).UTC()
		if sl := &ring[n%int64(len(ring))]; sl.n == n {
			out[i].Totals = sl.Totals
		}
	}
	return out
}

// Snapshot implements StatsFeed. InFlight is left to the caller (the gateway knows it).
func (s *MemoryStats) Snapshot(now time.Time) Snapshot {
	now = now.UTC()
	sec := now.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollDay(dayOf(now))
	snap := Snapshot{
		Time:     now,
		Today:    s.today,
		LastHour: series(s.minutes[:], sec/60, time.Minute),
		LastDay:  series(s.tenMins[:], sec/600, 10*time.Minute),
		Clients:  tops(s.clients),
		Models:   tops(s.models),
	}
	var recent int64
	for n := sec - rateWindow; n < sec; n++ {
		if sl := &s.seconds[n%secondSlots]; sl.n == n {
			recent += sl.Requests
		}
	}
	snap.RequestsPerSecond = float64(recent) / rateWindow
	return snap
}

func tops(m map[string]*Totals) []Top {
	out := make([]Top, 0, len(m))
	for name, t := range m {
		out = append(out, Top{Name: name, Totals: *t})
	}
	slices.SortFunc(out, func(a, b Top) int {
		if a.Requests != b.Requests {
			if a.Requests > b.Requests {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// dayOf is the UTC day of t as stored in usage_daily.
func dayOf(t time.Time) string {
	return t.UTC().Format(time.DateOnly)
}

// nextMidnight is the start of the UTC day after t.
func nextMidnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
