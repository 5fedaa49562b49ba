//go:build unix

// Package cputime reads the CPU time this process has used, for the benchmarks that report CPU
// per request or per row: a cost that other processes on a shared machine do not inflate, as they
// do wall-clock time.
package cputime

import (
	"syscall"
	"time"
)

// Self is the CPU time (user and system) this process has used; zero when it cannot be read.
func Self() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
