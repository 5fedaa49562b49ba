//go:build !unix

package main

import "testing"

const emfileChildEnv = "AIGW_TEST_EMFILE_CHILD"

func emfileChild(t *testing.T, dir string) { t.Skip("no descriptor limit to lower on this platform") }

// emfileSurvival needs setrlimit, which this platform lacks.
func emfileSurvival(t *testing.T) { t.Skip("no descriptor limit to lower on this platform") }
