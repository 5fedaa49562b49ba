package main

import (
	"net/http"
	"testing"
)

// TestAttackRestartResetsRateLimit: a restart is no way around a rate limit. The sliding
// windows are read back from the request log at start, so the request after the limit is
// refused before and after the restart alike.
func TestAttackRestartResetsRateLimit(t *testing.T) {
	upstream := newRelMock(t, (&mockOpenAI{}).ServeHTTP)
	t.Cleanup(upstream.Close)
	g := startRelGateway(t, nil, "")
	for _, rate := range []string{"requests_per_minute", "requests_per_hour", "requests_per_day"} {
		g.createClient(beOpenAI, upstream.URL, map[string]any{"name": "app-" + rate, "default_model": "gpt-4o-mini",
			"rate_limit": map[string]int{rate: 3}})
		key := g.keys[beOpenAI]
		for i := range 3 {
			if st := chat(t, g.url, key, "gpt-4o-mini"); st != http.StatusOK {
				t.Fatalf("%s: request %d got %d", rate, i+1, st)
			}
		}
		if st := chat(t, g.url, key, "gpt-4o-mini"); st != http.StatusTooManyRequests {
			t.Fatalf("%s: the 4th request got %d, want 429", rate, st)
		}
		g.restart()
		if st := chat(t, g.url, key, "gpt-4o-mini"); st != http.StatusTooManyRequests {
			t.Fatalf("%s: after a restart the 4th request got %d, want 429", rate, st)
		}
	}
}
