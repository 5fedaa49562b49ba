package main

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// inTurns gives each path its whole share of the time, in turns: the paths' slices alternate
// (a slow spell falls on each), and every path's requests, latencies and CPU are summed.
func TestInTurnsAlternatesAndSums(t *testing.T) {
	var mu sync.Mutex
	var order []string
	serve := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if len(order) == 0 || order[len(order)-1] != name {
				order = append(order, name)
			}
			mu.Unlock()
			w.Write([]byte(`{}`))
		}))
	}
	a, b := serve("a"), serve("b")
	defer a.Close()
	defer b.Close()
	cpuCalls := 0
	cpu := func() float64 { cpuCalls++; return float64(cpuCalls) } // one second more at every read

	d := 600 * time.Millisecond // 100 ms a slice: room for a request in each, even on a loaded machine
	got, err := inTurns([]target{newTarget("a", a.URL, "", 2), newTarget("b", b.URL, "", 2)},
		[]func() float64{nil, cpu}, 2, d, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 2*roundSlices {
		t.Errorf("the paths were measured in the order %v, want %d alternating turns", order, 2*roundSlices)
	}
	for i, m := range got {
		if m.requests == 0 || m.latency.quantile(0.5) <= 0 {
			t.Errorf("path %d: %d requests, p50 %v", i, m.requests, m.latency.quantile(0.5))
		}
		if m.elapsed <= 0 || m.rps() <= 0 {
			t.Errorf("path %d: measured for %v, %v requests a second", i, m.elapsed, m.rps())
		}
	}
	if got[0].cpu != 0 || got[1].cpu != roundSlices {
		t.Errorf("CPU seconds %v and %v, want 0 (no process) and %d (one a turn)", got[0].cpu, got[1].cpu, roundSlices)
	}
}
