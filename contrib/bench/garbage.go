package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
)

// frontDoorGarbage runs routes' BenchmarkFrontDoor (the whole non-stream handler path in one
// process, see routes/request_path_bench_test.go) with -benchmem and returns its B/op: the heap
// allocated per proxied request. It runs go test from the current directory, the repository root
// under `just bench`.
func frontDoorGarbage() (float64, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkFrontDoor$", "-benchmem", "-benchtime", "20000x", "./routes/")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("BenchmarkFrontDoor: %w\n%s", err, out)
	}
	m := regexp.MustCompile(`(\d+) B/op`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("BenchmarkFrontDoor printed no B/op:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
