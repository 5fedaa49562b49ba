package main

import (
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster"
)

// useShared gives the gateway the Redis-backed implementations when Redis is configured (s and
// stats set); otherwise the fields stay nil and the gateway builds its in-memory ones. No field is
// set from a nil s: a nil *cluster.Limiter in a gateway.Limiter would not be nil.
func useShared(o *gateway.Options, s *cluster.Shared, stats *cluster.Stats) {
	if s != nil {
		o.Limiter, o.Counters, o.Spend, o.ClientEvents = s.Limiter(), s.Counters(), s.Spend(), s.Events()
	}
	if stats != nil {
		o.Stats = stats
	}
}
