package main

import (
	"math/bits"
	"time"
)

// histogram is a log-linear latency histogram in the HDR style: values below 256 ns are exact,
// above that each power of two is split into 128 sub-buckets, so any recorded value is reported
// within 0.8 % of its true value, with O(1) recording and fixed memory.
type histogram struct {
	counts [56][256]int64
	total  int64
	max    int64
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	e := 0
	if v >= 256 {
		e = bits.Len64(uint64(v)) - 8
	}
	h.counts[e][v>>e]++
	h.total++
	if v > h.max {
		h.max = v
	}
}

func (h *histogram) merge(o *histogram) {
	for e := range h.counts {
		for s := range h.counts[e] {
			h.counts[e][s] += o.counts[e][s]
		}
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0..1), the midpoint of its bucket.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen int64
	for e := range h.counts {
		for s, n := range h.counts[e] {
			if n == 0 {
				continue
			}
			seen += n
			if seen >= rank {
				lo := int64(s) << e
				return time.Duration(lo + (int64(1)<<e)/2)
			}
		}
	}
	return time.Duration(h.max)
}
