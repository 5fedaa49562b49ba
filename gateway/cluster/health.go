package cluster

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// retryEvery is how long an instance stays on its own memory after a failed Redis call before
// it tries Redis again; logEvery bounds the log lines about failures.
const (
	retryEvery = time.Second
	logEvery   = 5 * time.Second
)

// health tracks whether Redis answers: after a failure, calls skip Redis for retryEvery, so a
// Redis that hangs costs each request nothing more than a failed one.
type health struct {
	log    *slog.Logger
	now    func() time.Time
	errors *prometheus.CounterVec // op
	up     prometheus.Gauge

	// retryAt is when Redis may be tried again (unix ns); 0 when it is up.
	retryAt atomic.Int64
	down    atomic.Bool

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

func newHealth(reg prometheus.Registerer, log *slog.Logger, now func() time.Time) (*health, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h := &health{
		log: log,
		now: now,
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_redis_errors_total",
			Help: "Redis calls that failed; the instance decided on its own memory instead.",
		}, []string{"op"}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ai_gateway_redis_up", Help: "1 while Redis answers, 0 while this instance runs on its own memory.",
		}),
	}
	for _, c := range []prometheus.Collector{h.errors, h.up} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	h.up.Set(1)
	return h, nil
}

// usable reports whether Redis should be tried now.
func (h *health) usable() bool {
	at := h.retryAt.Load()
	return at == 0 || h.now().UnixNano() >= at
}

// failed records a failed call of op: the instance decides alone for retryEvery.
func (h *health) failed(op string, err error) {
	h.errors.WithLabelValues(op).Inc()
	now := h.now()
	h.retryAt.Store(now.Add(retryEvery).UnixNano())
	h.up.Set(0)
	first := !h.down.Swap(true)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !first && now.Sub(h.lastLog) < logEvery {
		h.suppressed++
		return
	}
	h.log.Error("redis unreachable; this instance uses its own limits and counters until it answers",
		"op", op, "error", err.Error(), "failures_not_logged", h.suppressed)
	h.lastLog, h.suppressed = now, 0
}

// ok records a call that succeeded; the first after an outage says so in the log.
func (h *health) ok() {
	if !h.down.Load() {
		return
	}
	if h.down.Swap(false) {
		h.retryAt.Store(0)
		h.up.Set(1)
		h.log.Info("redis reachable again; limits and counters are shared again")
	}
}
