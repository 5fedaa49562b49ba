package main

import "time"

// roundSlices is how many slices each path's measurement is cut into. The paths take turns,
// slice by slice, so a slow spell of a shared machine (another tenant, the host's own work) falls
// on every path alike instead of on whichever ran at the time, and the ratios between paths
// (SPEC §10's budgets) hold even when the absolute numbers move.
const roundSlices = 6

// measured is one path's share of a round-robin measurement: its requests, the time they took,
// their latencies and the CPU time its process spent meanwhile.
type measured struct {
	requests int64
	elapsed  time.Duration
	latency  histogram
	cpu      float64 // seconds; 0 when the path has no process of its own to read
}

func (m *measured) rps() float64 { return float64(m.requests) / m.elapsed.Seconds() }

// cpuPerRequestUs is the process's CPU time per request, in µs.
func (m *measured) cpuPerRequestUs() float64 { return m.cpu * 1e6 / float64(m.requests) }

// inTurns measures every target with closed-loop clients for d in all, in roundSlices turns
// each. cpu[i], when not nil, reads target i's process CPU time in seconds.
func inTurns(targets []target, cpu []func() float64, workers int, d time.Duration, body []byte) ([]measured, error) {
	out := make([]measured, len(targets))
	slice := d / roundSlices
	for range roundSlices {
		for i, t := range targets {
			var cpu0 float64
			if cpu[i] != nil {
				cpu0 = cpu[i]()
			}
			res, err := closedLoop(t, workers, slice, body)
			if err != nil {
				return nil, err
			}
			m := &out[i]
			if cpu[i] != nil {
				m.cpu += cpu[i]() - cpu0
			}
			m.requests += res.requests
			m.elapsed += res.elapsed
			m.latency.merge(&res.latency)
		}
	}
	return out, nil
}
