package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// routingMetrics are the series of SPEC §15. Labels stay bounded: the backend id, an outcome
// from a fixed set, the client name, and a target's label (backend, base URL and key hint: one
// per configured key, never the key).
type routingMetrics struct {
	attempts    *prometheus.CounterVec // provider, outcome
	fallbacks   *prometheus.CounterVec // client
	breakerOpen *prometheus.GaugeVec   // target
}

func newRoutingMetrics(reg prometheus.Registerer) (*routingMetrics, error) {
	m := &routingMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_upstream_attempts_total",
			Help: "Upstream attempts by backend and outcome (ok, client_error, auth, rate_limited, server_error, timeout, unreachable, breaker_open, no_key, canceled).",
		}, []string{"provider", "outcome"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_fallbacks_total", Help: "Requests that moved on from one target to the next, by client.",
		}, []string{"client"}),
		breakerOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ai_gateway_breaker_open", Help: "1 while a target's circuit breaker is open or half-open, 0 when closed.",
		}, []string{"target"}),
	}
	for _, c := range []prometheus.Collector{m.attempts, m.fallbacks, m.breakerOpen} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
