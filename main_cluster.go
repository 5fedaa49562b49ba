package main

import (
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster"
)

// The shared implementations when Redis is configured, else nil: the gateway then builds its
// in-memory ones. (A nil *cluster.Limiter in a gateway.Limiter would not be nil.)

func sharedLimiter(s *cluster.Shared) gateway.Limiter {
	if s == nil {
		return nil
	}
	return s.Limiter()
}

func sharedCounters(s *cluster.Shared) gateway.UsageCounters {
	if s == nil {
		return nil
	}
	return s.Counters()
}

func sharedSpend(s *cluster.Shared) gateway.SpendCounters {
	if s == nil {
		return nil
	}
	return s.Spend()
}

func sharedEvents(s *cluster.Shared) gateway.ClientEvents {
	if s == nil {
		return nil
	}
	return s.Events()
}

func sharedStats(s *cluster.Stats) gateway.StatsFeed {
	if s == nil {
		return nil
	}
	return s
}
