package main

import (
	"testing"
	"time"
)

func TestHistogramQuantilesWithinOnePercent(t *testing.T) {
	var h histogram
	for i := 1; i <= 100000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.001, 100 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if diff := got - tc.want; diff < -tc.want/100 || diff > tc.want/100 {
			t.Errorf("quantile(%v) = %v, want %v ±1%%", tc.q, got, tc.want)
		}
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	var h histogram
	h.record(3)
	h.record(200)
	if got := h.quantile(1); got != 200 {
		t.Errorf("max quantile = %v, want 200ns", got)
	}
}
