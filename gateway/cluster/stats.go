package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/ai-gateway/gateway"
)

// Stats is a gateway.StatsFeed for the whole cluster (SPEC §17): every instance publishes its
// numbers to Redis each second, and the dashboard of any instance adds them up and lists each
// instance. An instance's totals at start are restored from the database, which already holds
// what the instances before it served; so the sum takes the oldest running instance's whole
// numbers and adds only what each other instance served since it started. While Redis is
// unreachable the dashboard shows this instance's own numbers.
type Stats struct {
	s       *Shared
	host    string
	started time.Time
	now     func() time.Time
	// all has everything this instance recorded, restored numbers included; live only what it
	// served itself.
	all, live *gateway.MemoryStats

	mu       sync.Mutex
	inFlight func() int64
	stop     chan struct{}
	done     chan struct{}
}

var _ gateway.StatsFeed = (*Stats)(nil)

// publishEvery is how often an instance publishes its numbers; staleAfter is when an instance
// that stopped publishing drops off the dashboard.
const (
	publishEvery = time.Second
	staleAfter   = 5 * time.Second
)

// Stats returns the cluster's stats feed. Start begins publishing.
func (s *Shared) Stats() *Stats {
	return &Stats{s: s, started: time.Now(), now: time.Now,
		all: gateway.NewMemoryStats(), live: gateway.NewMemoryStats()}
}

// Record implements gateway.StatsFeed.
func (st *Stats) Record(e gateway.StatEvent) {
	st.all.Record(e)
	if !e.TotalsOnly && !e.SeriesOnly {
		st.live.Record(e)
	}
}

// instanceEntry is what an instance publishes.
type instanceEntry struct {
	ID       string           `json:"id"`
	Host     string           `json:"host"`
	Started  time.Time        `json:"started"`
	InFlight int64            `json:"in_flight"`
	All      gateway.Snapshot `json:"all"`
	Live     gateway.Snapshot `json:"live"`
}

func (st *Stats) entry(now time.Time) instanceEntry {
	var n int64
	st.mu.Lock()
	if st.inFlight != nil {
		n = st.inFlight()
	}
	host := st.host
	st.mu.Unlock()
	return instanceEntry{ID: st.s.instance, Host: host, Started: st.started, InFlight: n,
		All: st.all.Snapshot(now), Live: st.live.Snapshot(now)}
}

func (st *Stats) entryKey(id string) string { return st.s.key("live", id) }
func (st *Stats) setKey() string            { return st.s.key("instances") }

// Start publishes this instance's numbers every second until Close; host names the instance on
// the dashboard, inFlight counts its requests in flight.
func (st *Stats) Start(host string, inFlight func() int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done != nil {
		return // started once already
	}
	st.host, st.inFlight = host, inFlight
	stop, done := make(chan struct{}), make(chan struct{})
	st.stop, st.done = stop, done
	go func() {
		defer close(done)
		tick := time.NewTicker(publishEvery)
		defer tick.Stop()
		for {
			st.publish()
			select {
			case <-stop:
				st.s.try("stats", func(ctx context.Context) error {
					_, err := st.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Del(ctx, st.entryKey(st.s.instance))
						p.ZRem(ctx, st.setKey(), st.s.instance)
						return nil
					})
					return err
				})
				return
			case <-tick.C:
			}
		}
	}()
}

// Close stops publishing and takes this instance off the dashboards; later calls do nothing.
func (st *Stats) Close() {
	st.mu.Lock()
	stop, done := st.stop, st.done
	st.stop = nil
	st.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (st *Stats) publish() {
	now := st.now()
	b, err := json.Marshal(st.entry(now))
	if err != nil {
		return
	}
	st.s.try("stats", func(ctx context.Context) error {
		_, err := st.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, st.entryKey(st.s.instance), b, staleAfter)
			p.ZAdd(ctx, st.setKey(), redis.Z{Score: float64(now.UnixMilli()), Member: st.s.instance})
			p.Expire(ctx, st.setKey(), time.Hour)
			return nil
		})
		return err
	})
}

// others reads the entries the other instances published.
func (st *Stats) others(now time.Time) ([]instanceEntry, bool) {
	var raw []any
	ok := st.s.try("stats", func(ctx context.Context) error {
		ids, err := st.s.rdb.ZRangeByScore(ctx, st.setKey(), &redis.ZRangeBy{
			Min: itoa(now.Add(-staleAfter).UnixMilli()), Max: "+inf"}).Result()
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(ids))
		for _, id := range ids {
			if id != st.s.instance {
				keys = append(keys, st.entryKey(id))
			}
		}
		if len(keys) == 0 {
			return nil
		}
		raw, err = st.s.rdb.MGet(ctx, keys...).Result()
		return err
	})
	if !ok {
		return nil, false
	}
	out := make([]instanceEntry, 0, len(raw))
	for _, r := range raw {
		s, _ := r.(string)
		var e instanceEntry
		if s != "" && json.Unmarshal([]byte(s), &e) == nil {
			out = append(out, e)
		}
	}
	return out, true
}

// Snapshot implements gateway.StatsFeed. InFlight counts the other instances' requests in
// flight (the gateway adds its own).
func (st *Stats) Snapshot(now time.Time) gateway.Snapshot {
	self := st.entry(now)
	others, ok := st.others(now)
	if !ok || len(others) == 0 {
		return self.All
	}
	entries := append([]instanceEntry{self}, others...)
	slices.SortFunc(entries, func(a, b instanceEntry) int {
		return cmp.Or(a.Started.Compare(b.Started), strings.Compare(a.ID, b.ID))
	})
	// The series keep this instance's clock: other instances' points are added by their time.
	snap := self.All
	snap.Today = gateway.Totals{}
	snap.RequestsPerSecond = 0
	snap.LastHour = zeroed(self.All.LastHour)
	snap.LastDay = zeroed(self.All.LastDay)
	clients, models := map[string]gateway.Totals{}, map[string]gateway.Totals{}
	for i, e := range entries {
		part := e.Live
		if i == 0 { // the oldest: with what it restored from the database at start
			part = e.All
		}
		addTotals(&snap.Today, part.Today)
		snap.RequestsPerSecond += part.RequestsPerSecond
		addSeries(snap.LastHour, part.LastHour)
		addSeries(snap.LastDay, part.LastDay)
		addTops(clients, part.Clients)
		addTops(models, part.Models)
		if e.ID != self.ID {
			snap.InFlight += e.InFlight
		}
		snap.Instances = append(snap.Instances, gateway.InstanceStats{ID: e.ID, Host: e.Host, Started: e.Started,
			InFlight: e.InFlight, RequestsPerSecond: e.Live.RequestsPerSecond, Today: e.Live.Today, Self: e.ID == self.ID})
	}
	snap.Clients, snap.Models = sortedTops(clients), sortedTops(models)
	return snap
}

func zeroed(ps []gateway.Point) []gateway.Point {
	out := make([]gateway.Point, len(ps))
	for i, p := range ps {
		out[i].Time = p.Time
	}
	return out
}

func addTotals(t *gateway.Totals, a gateway.Totals) {
	t.Requests += a.Requests
	t.Errors += a.Errors
	t.InputTokens += a.InputTokens
	t.OutputTokens += a.OutputTokens
	t.CachedTokens += a.CachedTokens
	t.CacheSavedMicros += a.CacheSavedMicros
}

// addSeries adds each point of from to the point of into with the same time.
func addSeries(into, from []gateway.Point) {
	at := make(map[int64]int, len(into))
	for i, p := range into {
		at[p.Time.Unix()] = i
	}
	for _, p := range from {
		if i, ok := at[p.Time.Unix()]; ok {
			addTotals(&into[i].Totals, p.Totals)
		}
	}
}

func addTops(m map[string]gateway.Totals, tops []gateway.Top) {
	for _, t := range tops {
		sum := m[t.Name]
		addTotals(&sum, t.Totals)
		m[t.Name] = sum
	}
}

func sortedTops(m map[string]gateway.Totals) []gateway.Top {
	out := make([]gateway.Top, 0, len(m))
	for name, t := range m {
		out = append(out, gateway.Top{Name: name, Totals: t})
	}
	slices.SortFunc(out, func(a, b gateway.Top) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Name, b.Name))
	})
	return out
}
