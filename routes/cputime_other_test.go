//go:build !unix

package routes

import "time"

// processCPU is not measured off Unix.
func processCPU() time.Duration { return 0 }
