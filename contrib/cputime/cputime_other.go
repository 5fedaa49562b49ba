//go:build !unix

// Package cputime reads the CPU time this process has used, for the benchmarks that report CPU
// per request or per row.
package cputime

import "time"

// Self is not measured off Unix: zero, and the benchmarks report no CPU figure.
func Self() time.Duration { return 0 }
