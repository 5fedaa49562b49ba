package gateway

import (
	"sync"
	"time"
)

// Rate is one sliding-window rate limit: at most Limit requests in any window of length Window.
// Limit 0 means no limit.
type Rate struct {
	Limit  int64
	Window time.Duration
}

// RateResult is a Limiter's decision.
type RateResult struct {
	Allowed bool
	// Refused is the index (in the rates passed in) of the first limit that refused; -1 when allowed.
	Refused int
	// RetryAfter is how long until the refusing limit admits one request again.
	RetryAfter time.Duration

	// Limit, Remaining and Reset describe the limit with the fewest requests left after the
	// decision (Limit 0 when no rate is set). Reset is how long until every request it counts
	// has left its window, i.e. until it is back to its initial state.
	Limit     int64
	Remaining int64
	Reset     time.Duration
}

// Limiter enforces request rate limits. The in-memory MemoryLimiter serves a single instance;
// one backed by Redis can share the limits between instances (SPEC §13).
type Limiter interface {
	// Allow admits one request for key when every rate admits it, and then counts it in all of
	// them; when one refuses, nothing is counted.
	Allow(key string, rates []Rate, now time.Time) RateResult
	// Status reports what Allow would decide, counting nothing.
	Status(key string, rates []Rate, now time.Time) RateResult
	// Forget drops everything known about key (the client was deleted).
	Forget(key string)
	// Restore counts n requests admitted at the time at in every rate, as Allow would have: what
	// a restart loads back from the request log. Call it oldest first, before serving.
	Restore(key string, rates []Rate, at time.Time, n int64)
}

// windowBuckets is the resolution of a sliding window: it is counted in this many buckets
// (1 s buckets for a minute, 1 min for an hour, 24 min for a day).
const windowBuckets = 60

// MemoryLimiter is a sliding-window limiter held in memory.
//
// Each window of length W is counted in buckets of W/60. A request at t is admitted when the
// requests in every bucket that overlaps (t-W, t] — the partly covered oldest bucket counted in
// full — leave room for one more. Overcounting the oldest bucket can only refuse early (by at
// most W/60), never admit more: when the last request of any interval of length W was
// admitted, every earlier request of that interval lay in a bucket it counted. So no window of
// length W ever admits more than Limit, unlike fixed calendar windows that allow 2× across a
// boundary; memory stays at 61 counters per window however high the limit.
type MemoryLimiter struct {
	keys sync.Map // string → *limiterKey
}

// NewMemoryLimiter returns an empty in-memory limiter.
func NewMemoryLimiter() *MemoryLimiter { return &MemoryLimiter{} }

var _ Limiter = (*MemoryLimiter)(nil)

type limiterKey struct {
	mu      sync.Mutex
	windows []slidingWindow
}

type slidingWindow struct {
	window time.Duration
	width  int64 // bucket width in ns: ceil(window/windowBuckets), so 60 buckets cover ≥ window
	last   int64 // number of the newest bucket (unix ns / width)
	sum    int64
	counts [windowBuckets + 1]int64 // bucket k is counts[k % len]
}

func (w *slidingWindow) reset(window time.Duration) {
	*w = slidingWindow{window: window, width: (int64(window) + windowBuckets - 1) / windowBuckets}
}

// advance moves the window so that bucket b is the newest; buckets that left are zeroed.
func (w *slidingWindow) advance(b int64) {
	if b <= w.last { // same bucket, or a clock that went backwards: count in the newest bucket
		return
	}
	if b-w.last >= int64(len(w.counts)) || w.sum == 0 {
		w.counts = [windowBuckets + 1]int64{}
		w.sum = 0
	} else {
		for k := w.last + 1; k <= b; k++ {
			i := k % int64(len(w.counts))
			w.sum -= w.counts[i]
			w.counts[i] = 0
		}
	}
	w.last = b
}

// until returns how long from now until the window counts at most keep requests.
func (w *slidingWindow) until(now int64, keep int64) time.Duration {
	drop := w.sum - keep
	if drop <= 0 {
		return 0
	}
	n := int64(len(w.counts))
	for k := w.last - n + 1; k <= w.last; k++ {
		drop -= w.counts[k%n]
		if drop <= 0 {
			// Bucket k stops overlapping (t-W, t] once t-W ≥ its end.
			return time.Duration((k+1)*w.width + int64(w.window) - now)
		}
	}
	return w.window
}

func (l *MemoryLimiter) state(key string) *limiterKey {
	v, ok := l.keys.Load(key)
	if !ok {
		v, _ = l.keys.LoadOrStore(key, &limiterKey{})
	}
	return v.(*limiterKey)
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(key string, rates []Rate, now time.Time) RateResult {
	return l.decide(key, rates, now, true)
}

// Status implements Limiter.
func (l *MemoryLimiter) Status(key string, rates []Rate, now time.Time) RateResult {
	return l.decide(key, rates, now, false)
}

// Forget implements Limiter.
func (l *MemoryLimiter) Forget(key string) { l.keys.Delete(key) }

// Restore implements Limiter.
func (l *MemoryLimiter) Restore(key string, rates []Rate, at time.Time, n int64) {
	if !anyRate(rates) || n <= 0 {
		return
	}
	k := l.state(key)
	t := at.UnixNano()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.windows) != len(rates) {
		k.windows = make([]slidingWindow, len(rates))
	}
	for i, r := range rates {
		if r.Limit <= 0 {
			continue
		}
		w := &k.windows[i]
		if w.window != r.Window {
			w.reset(r.Window)
		}
		w.advance(t / w.width)
		w.counts[w.last%int64(len(w.counts))] += n
		w.sum += n
	}
}

func (l *MemoryLimiter) decide(key string, rates []Rate, now time.Time, count bool) RateResult {
	res := RateResult{Allowed: true, Refused: -1}
	if !anyRate(rates) {
		return res
	}
	k := l.state(key)
	t := now.UnixNano()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.windows) != len(rates) {
		k.windows = make([]slidingWindow, len(rates))
	}
	for i, r := range rates {
		w := &k.windows[i]
		if r.Limit <= 0 {
			continue
		}
		if w.window != r.Window {
			w.reset(r.Window)
		}
		w.advance(t / w.width)
		if res.Allowed && w.sum+1 > r.Limit {
			res.Allowed = false
			res.Refused = i
			res.RetryAfter = w.until(t, r.Limit-1)
		}
	}
	if res.Allowed && count {
		for i, r := range rates {
			if r.Limit > 0 {
				w := &k.windows[i]
				w.counts[w.last%int64(len(w.counts))]++
				w.sum++
			}
		}
	}
	first := true
	for i, r := range rates {
		if r.Limit <= 0 {
			continue
		}
		w := &k.windows[i]
		remaining := max(r.Limit-w.sum, 0)
		if first || remaining < res.Remaining {
			first = false
			res.Limit, res.Remaining = r.Limit, remaining
			res.Reset = w.until(t, 0)
		}
	}
	return res
}

func anyRate(rates []Rate) bool {
	for _, r := range rates {
		if r.Limit > 0 {
			return true
		}
	}
	return false
}
