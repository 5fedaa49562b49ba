// Command soak runs the built gateway for a few minutes under mixed traffic with injected faults,
// then checks that nothing was lost: the request log and the usage totals must equal what the
// mock upstream counted.
//
// Traffic: all three front doors × three backends (OpenAI-compatible, Anthropic, Gemini),
// streamed and not, with upstream 500s and 429s, connections reset mid-answer, slow streams and
// clients that hang up mid-stream. At the end the gateway is stopped with SIGINT (it writes its
// counters and log), started again on the same directory, and checked through its own API:
// request_log rows (admin API), today's usage (GET /v1/usage, restored from usage_daily).
//
//	go build -o dist/soak/ai-gateway . && go run ./contrib/soak -gateway dist/soak/ai-gateway -duration 2m
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// metricsPassword guards the soak gateway's /metrics (it runs on loopback only).
const metricsPassword = "soak-metrics-password"

func main() {
	ok, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run() (bool, error) {
	bin := flag.String("gateway", "", "the ai-gateway binary (empty: build it from this module into a temp dir)")
	duration := flag.Duration("duration", 2*time.Minute, "how long to send traffic")
	workers := flag.Int("concurrency", 8, "concurrent clients")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the traffic mix")
	keep := flag.Bool("keep", false, "keep the gateway's directory (config, database, log) afterwards")
	flag.Parse()

	if *bin == "" {
		dir, err := os.MkdirTemp("", "aigw-soak-bin-")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		*bin = filepath.Join(dir, "ai-gateway")
		build := exec.Command("go", "build", "-o", *bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return false, fmt.Errorf("build the gateway: %w", err)
		}
	}

	mock := newMockUpstream()
	mockURL, stopMock, err := serveMock(mock)
	if err != nil {
		return false, err
	}
	defer stopMock()

	gw, err := newGateway(*bin, []string{
		"AIGW_PROMETHEUS_ENABLED=true", "AIGW_PROMETHEUS_PASSWORD=" + metricsPassword,
		"AIGW_UPSTREAM_HEADER_TIMEOUT=10s", "AIGW_UPSTREAM_IDLE_TIMEOUT=10s",
	})
	if err != nil {
		return false, err
	}
	if *keep {
		defer fmt.Printf("gateway directory kept: %s\n", gw.Dir)
	} else {
		defer gw.Remove()
	}
	if err := gw.Start(); err != nil {
		return false, err
	}
	defer gw.Stop()
	if err := gw.setup(mockURL); err != nil {
		return false, err
	}

	fmt.Printf("soak: %v of mixed traffic from %d clients (seed %d) against %s\n", *duration, *workers, *seed, gw.Base)
	tr := newTraffic(gw)
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	progress := time.NewTicker(15 * time.Second)
	defer progress.Stop()
	done := make(chan struct{})
	go func() { tr.run(ctx, *workers, *seed); close(done) }()
	started := time.Now()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-progress.C:
			var sent int64
			tr.mu.Lock()
			for _, c := range tr.tallies {
				sent += c.Sent
			}
			tr.mu.Unlock()
			fmt.Printf("  %3.0fs  %6d requests  RSS %.1f MB\n", time.Since(started).Seconds(), sent, gw.rssMB())
		}
	}
	rss := gw.rssMB()
	dropped, derr := gw.metric("ai_gateway_log_queue_dropped_total")
	writeErrs, werr := gw.metric("ai_gateway_db_write_errors_total")

	// SIGINT: the gateway finishes what is open and writes everything; then it starts again on
	// the same directory and must report exactly what it wrote.
	if err := gw.Stop(); err != nil {
		return false, fmt.Errorf("stop: %w (log: %s)", err, gw.Log.Name())
	}
	if err := gw.Start(); err != nil {
		return false, fmt.Errorf("restart: %w", err)
	}
	up := mock.snapshot()

	r := report{w: os.Stdout}
	fmt.Println()
	fmt.Printf("%-18s %9s %9s %9s %9s %9s %9s %9s\n", "backend", "sent", "upstream", "log rows", "served", "log 200", "hung up", "wrong")
	for _, p := range protocols {
		c := tr.tallies[p]
		u := up[p]
		lt, err := gw.requestLog(gw.clients[p])
		if err != nil {
			return false, err
		}
		reqs, in, out, err := gw.usage(gw.keys[p])
		if err != nil {
			return false, err
		}
		fmt.Printf("%-18s %9d %9d %9d %9d %9d %9d %9d\n", p, c.Sent, u.Received, lt.Rows, u.Served, lt.OK, c.HungUp, c.Wrong)
		r.check(p+": every request sent reached the upstream once", c.Sent == u.Received, "sent %d, upstream received %d", c.Sent, u.Received)
		r.check(p+": one request_log row per request", lt.Rows == u.Received, "%d rows, %d requests", lt.Rows, u.Received)
		r.check(p+": rows with 200 = answers served in full", lt.OK == u.Served && c.OK == u.Served,
			"log %d, upstream %d, clients %d", lt.OK, u.Served, c.OK)
		r.check(p+": tokens of the 200 rows = tokens the upstream reported", lt.OKInput == u.Input && lt.OKOutput == u.Output,
			"log in %d out %d, upstream in %d out %d", lt.OKInput, lt.OKOutput, u.Input, u.Output)
		r.check(p+": usage_daily after restart = the request log", reqs == lt.Rows && in == lt.AllInput && out == lt.AllOutput,
			"usage %d requests, %d in, %d out; log %d rows, %d in, %d out", reqs, in, out, lt.Rows, lt.AllInput, lt.AllOutput)
		r.check(p+": clients got truthful answers", c.Wrong == 0, "%d wrong: %s", c.Wrong, strings.Join(c.Samples, " | "))
		fmt.Printf("%-18s statuses in the log: %v\n", "", lt.ByStatus)
	}
	if derr == nil {
		r.check("no request log row dropped (ai_gateway_log_queue_dropped_total)", dropped == 0, "%v dropped", dropped)
	} else {
		r.check("read ai_gateway_log_queue_dropped_total", false, "%v", derr)
	}
	if werr == nil {
		r.check("no failed database write (ai_gateway_db_write_errors_total)", writeErrs == 0, "%v failed", writeErrs)
	}
	fmt.Printf("\ngateway RSS at the end of the traffic: %.1f MB\n\n", rss)
	return r.print(), nil
}

// report collects the checks and prints PASS or FAIL.
type report struct {
	w      io.Writer
	failed []string
	passed int
}

func (r *report) check(what string, ok bool, format string, args ...any) {
	if ok {
		r.passed++
		return
	}
	r.failed = append(r.failed, what+": "+fmt.Sprintf(format, args...))
}

func (r *report) print() bool {
	for _, f := range r.failed {
		fmt.Fprintln(r.w, "FAIL", f)
	}
	if len(r.failed) > 0 {
		fmt.Fprintf(r.w, "soak: FAIL (%d of %d checks failed)\n", len(r.failed), len(r.failed)+r.passed)
		return false
	}
	fmt.Fprintf(r.w, "soak: PASS (%d checks)\n", r.passed)
	return true
}
