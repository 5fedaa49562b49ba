// Command bench measures what the gateway adds on top of a local mock upstream: latency at
// concurrency 1, throughput at 32 concurrent clients, streaming time-to-first-byte and time per
// relayed event, and resident memory idle and with 1,000 open streams. Direct-to-mock,
// through a bare proxy (the floor: the gateway's HTTP server and transport, nothing else) and
// through the gateway are measured in the same run and reported as differences and ratios. The
// mock and the bare proxy run as processes of their own, as an upstream does.
//
//	go build -o dist/ai-gateway . && go run ./contrib/bench -gateway dist/ai-gateway
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/contrib/gwproc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	serveMock  bool
	serveProxy string
	gateway    string
	out        string
	duration   time.Duration
	streams    int
	events     int
	open       int
	otel       bool
	redis      string
}

func run() error {
	var o options
	flag.BoolVar(&o.serveMock, "serve-mock", false, "internal: serve the mock upstream and print its URL")
	flag.StringVar(&o.serveProxy, "serve-proxy", "", "internal: serve the bare proxy to this upstream URL and print its URL")
	flag.StringVar(&o.gateway, "gateway", "dist/ai-gateway", "path to the built ai-gateway binary")
	flag.StringVar(&o.out, "out", "bench-results/bench.json", "where to write the numbers as JSON")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of each closed-loop run")
	flag.IntVar(&o.streams, "streams", 100, "streamed requests per target for the streaming numbers")
	flag.IntVar(&o.events, "events", 200, "content events per streamed answer")
	flag.IntVar(&o.open, "open", 1000, "concurrent open streams for the memory number")
	flag.BoolVar(&o.otel, "otel", false, "trace every request (otel.sample_ratio 1) to a collector in this process that drops the spans: the cost of tracing")
	flag.StringVar(&o.redis, "redis", "redis://127.0.0.1:6379/0", "Redis for the row of Redis-backed limits (a second gateway with redis.url); skipped when it does not answer, \"\" to skip")
	flag.Parse()

	switch {
	case o.serveMock:
		return serveMock()
	case o.serveProxy != "":
		return serveBareProxy(o.serveProxy)
	}

	mock, err := startChild("-serve-mock")
	if err != nil {
		return err
	}
	defer mock.stop()
	mockURL := mock.url
	bare, err := startChild("-serve-proxy", mockURL)
	if err != nil {
		return err
	}
	defer bare.stop()

	var env []string
	if o.otel {
		sink := newSpanSink()
		defer sink.Close()
		env = []string{"AIGW_OTEL_ENDPOINT=" + sink.URL, "AIGW_OTEL_SAMPLE_RATIO=1"}
	}
	gw, clientKey, err := startGateway(o.gateway, mockURL, env)
	if err != nil {
		return err
	}
	defer stopGateway(gw)

	direct := newTarget("direct", mockURL+"/v1/chat/completions", "", 64)
	floor := newTarget("bare proxy", bare.url+"/v1/chat/completions", "", 64)
	via := newTarget("gateway", gw.Base+"/v1/chat/completions", clientKey, 64)
	nonStream := chatBody("bench", false)

	r := report{Machine: machine(), When: time.Now().UTC().Format(time.RFC3339), Tracing: o.otel}
	r.IdleRSSMB = rssMB(gw.Pid())

	// Warm up both paths (connections, caches, the gateway's model and client state).
	for _, t := range []target{direct, floor, via} {
		if _, err := closedLoop(t, 4, time.Second, nonStream); err != nil {
			return fmt.Errorf("warm-up %s: %w", t.name, err)
		}
	}

	fmt.Fprintln(os.Stderr, "latency at concurrency 1 …")
	d1, err := closedLoop(direct, 1, o.duration, nonStream)
	if err != nil {
		return err
	}
	f1, err := closedLoop(floor, 1, o.duration, nonStream)
	if err != nil {
		return err
	}
	g1, err := closedLoop(via, 1, o.duration, nonStream)
	if err != nil {
		return err
	}
	r.BareP50us, r.BareP99us = us(f1.latency.quantile(0.5)), us(f1.latency.quantile(0.99))
	r.DirectP50us, r.DirectP99us = us(d1.latency.quantile(0.5)), us(d1.latency.quantile(0.99))
	r.GatewayP50us, r.GatewayP99us = us(g1.latency.quantile(0.5)), us(g1.latency.quantile(0.99))
	r.AddedP50us, r.AddedP99us = r.GatewayP50us-r.DirectP50us, r.GatewayP99us-r.DirectP99us

	fmt.Fprintln(os.Stderr, "throughput at concurrency 32 …")
	d32, err := closedLoop(direct, 32, o.duration, nonStream)
	if err != nil {
		return err
	}
	cpu0 := cpuSeconds(bare.cmd.Process.Pid)
	f32, err := closedLoop(floor, 32, o.duration, nonStream)
	if err != nil {
		return err
	}
	r.BareCPUus = (cpuSeconds(bare.cmd.Process.Pid) - cpu0) * 1e6 / float64(f32.requests)
	cpu0 = cpuSeconds(gw.Pid())
	g32, err := closedLoop(via, 32, o.duration, nonStream)
	if err != nil {
		return err
	}
	r.GatewayCPUus = (cpuSeconds(gw.Pid()) - cpu0) * 1e6 / float64(g32.requests)
	r.DirectRPS, r.BareRPS, r.GatewayRPS = d32.rps(), f32.rps(), g32.rps()
	r.ThroughputRatio = r.GatewayRPS / r.DirectRPS

	if o.redis != "" {
		if err := redisRow(&r, o, mockURL, env); err != nil {
			return err
		}
	}

	fmt.Fprintln(os.Stderr, "streaming …")
	ds, err := streams(direct, o.streams, o.events)
	if err != nil {
		return err
	}
	gs, err := streams(via, o.streams, o.events)
	if err != nil {
		return err
	}
	r.Events = o.events
	r.AddedTTFBus = us(gs.ttfb.quantile(0.5)) - us(ds.ttfb.quantile(0.5))
	r.AddedPerEventUs = (us(gs.total.quantile(0.5)) - us(ds.total.quantile(0.5)) - r.AddedTTFBus) / float64(o.events)

	fmt.Fprintf(os.Stderr, "%d open streams …\n", o.open)
	closeAll, err := openStreams(newTarget("gateway", via.url, via.key, o.open), o.open)
	if err != nil {
		closeAll()
		return fmt.Errorf("open streams: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	r.OpenStreams = o.open
	r.OpenStreamsRSSMB = rssMB(gw.Pid())
	closeAll()

	r.print(os.Stdout)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return os.WriteFile(o.out, append(b, '\n'), 0o644)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// report is the JSON the benchmark writes; the budgets are SPEC §10's.
type report struct {
	Machine string `json:"machine"`
	When    string `json:"when"`
	// Tracing is on (-otel): every request traced and exported.
	Tracing      bool    `json:"tracing"`
	DirectP50us  float64 `json:"direct_p50_us"`
	DirectP99us  float64 `json:"direct_p99_us"`
	GatewayP50us float64 `json:"gateway_p50_us"`
	GatewayP99us float64 `json:"gateway_p99_us"`
	AddedP50us   float64 `json:"added_p50_us"`
	AddedP99us   float64 `json:"added_p99_us"`
	DirectRPS    float64 `json:"direct_rps_c32"`
	GatewayRPS   float64 `json:"gateway_rps_c32"`
	// The bare proxy: the gateway's HTTP server and upstream transport, nothing else.
	BareP50us float64 `json:"bare_proxy_p50_us"`
	BareP99us float64 `json:"bare_proxy_p99_us"`
	BareRPS   float64 `json:"bare_proxy_rps_c32"`
	// CPU time (user + system) the process spent per request in the c=32 run: steadier than
	// throughput on a machine the load generator and the mock share.
	GatewayCPUus     float64 `json:"gateway_cpu_us_per_request"`
	BareCPUus        float64 `json:"bare_proxy_cpu_us_per_request"`
	ThroughputRatio  float64 `json:"throughput_ratio_c32"`
	Events           int     `json:"stream_events"`
	AddedTTFBus      float64 `json:"added_ttfb_us"`
	AddedPerEventUs  float64 `json:"added_per_event_us"`
	IdleRSSMB        float64 `json:"idle_rss_mb"`
	OpenStreams      int     `json:"open_streams"`
	OpenStreamsRSSMB float64 `json:"open_streams_rss_mb"`
	// Redis-backed limits (redis.url set): the same gateway with its rate limits, quotas and
	// budget counters in Redis; zero when Redis was not reachable.
	RedisP50us      float64 `json:"redis_gateway_p50_us,omitempty"`
	RedisP99us      float64 `json:"redis_gateway_p99_us,omitempty"`
	RedisAddedP50us float64 `json:"redis_added_p50_us,omitempty"`
	RedisAddedP99us float64 `json:"redis_added_p99_us,omitempty"`
	RedisCPUus      float64 `json:"redis_gateway_cpu_us_per_request,omitempty"`
	RedisRPS        float64 `json:"redis_gateway_rps_c32,omitempty"`
}

func (r report) print(w io.Writer) {
	row := func(name, value, budget string, ok bool) {
		mark := "ok"
		if !ok {
			mark = "OVER"
		}
		fmt.Fprintf(w, "| %-40s | %-22s | %-12s | %-4s |\n", name, value, budget, mark)
	}
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "tracing: %v\n\n", r.Tracing)
	fmt.Fprintf(w, "| %-40s | %-22s | %-12s | %-4s |\n", "measure", "value", "budget", "")
	fmt.Fprintf(w, "|%s|%s|%s|%s|\n", strings.Repeat("-", 42), strings.Repeat("-", 24), strings.Repeat("-", 14), strings.Repeat("-", 6))
	row("added latency p50, c=1", fmt.Sprintf("%.0f µs (%.0f→%.0f)", r.AddedP50us, r.DirectP50us, r.GatewayP50us), "≤ 100 µs", r.AddedP50us <= 100)
	row("added latency p99, c=1", fmt.Sprintf("%.0f µs (%.0f→%.0f)", r.AddedP99us, r.DirectP99us, r.GatewayP99us), "≤ 300 µs", r.AddedP99us <= 300)
	row("throughput c=32, gateway/direct", fmt.Sprintf("%.0f%% (%.0f/%.0f rps)", 100*r.ThroughputRatio, r.GatewayRPS, r.DirectRPS), "≥ 50%", r.ThroughputRatio >= 0.5)
	row("bare proxy (floor): added p50 / p99", fmt.Sprintf("%.0f / %.0f µs", r.BareP50us-r.DirectP50us, r.BareP99us-r.DirectP99us), "—", true)
	row("bare proxy (floor): throughput c=32", fmt.Sprintf("%.0f%% (%.0f rps)", 100*r.BareRPS/r.DirectRPS, r.BareRPS), "—", true)
	row("CPU per request c=32: gateway / bare", fmt.Sprintf("%.0f / %.0f µs", r.GatewayCPUus, r.BareCPUus), "—", true)
	row("stream: added time to first byte", fmt.Sprintf("%.0f µs", r.AddedTTFBus), "—", true)
	row(fmt.Sprintf("stream: added time per event (%d)", r.Events), fmt.Sprintf("%.1f µs", r.AddedPerEventUs), "≤ 50 µs", r.AddedPerEventUs <= 50)
	if r.RedisRPS > 0 {
		row("Redis-backed limits: added p50 / p99, c=1", fmt.Sprintf("%.0f / %.0f µs", r.RedisAddedP50us, r.RedisAddedP99us), "—", true)
		row("Redis-backed limits: CPU/request c=32", fmt.Sprintf("%.0f µs (in-memory %.0f)", r.RedisCPUus, r.GatewayCPUus), "—", true)
		row("Redis-backed limits: throughput c=32", fmt.Sprintf("%.0f rps (in-memory %.0f)", r.RedisRPS, r.GatewayRPS), "—", true)
	}
	row("RSS idle", fmt.Sprintf("%.1f MB", r.IdleRSSMB), "—", true)
	row(fmt.Sprintf("RSS with %d open streams", r.OpenStreams), fmt.Sprintf("%.1f MB", r.OpenStreamsRSSMB), "< 150 MB", r.OpenStreamsRSSMB < 150)
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`model name\s*:\s*(.*)`).FindSubmatch(b); m != nil {
			model = string(m[1])
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}

// cpuSeconds reads the user and system CPU time a process has used from /proc (Linux); 0
// elsewhere.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it are space-separated.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks; USER_HZ is 100 on Linux
}

// rssMB reads the resident set size of a process from /proc (Linux); 0 elsewhere.
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

// startGateway starts the binary in a fresh directory with every feature on (auth, rate limits,
// quotas, accounting, request log), creates an admin token with the CLI and a client whose backend
// is the mock through the admin API, and returns the process and the client's key.
func startGateway(bin, mockURL string, env []string) (*gwproc.Process, string, error) {
	gw, err := gwproc.New(bin, "aigw-bench-", env)
	if err != nil {
		return nil, "", err
	}
	if err := gw.Start(); err != nil {
		gw.Remove()
		return nil, "", err
	}
	fail := func(err error) (*gwproc.Process, string, error) {
		stopGateway(gw)
		return nil, "", err
	}
	if err := gw.CreateToken("bench"); err != nil {
		return fail(err)
	}
	limit := 1_000_000_000
	body, _ := json.Marshal(map[string]any{
		"name": "bench", "backend": "openai-compatible", "base_url": mockURL + "/v1", "default_model": "bench",
		"upstream_key": "sk-bench-upstream",
		"rate_limit":   map[string]int{"requests_per_minute": limit, "requests_per_hour": limit, "requests_per_day": limit},
		"quota": map[string]int{"max_input_tokens_per_day": limit, "max_output_tokens_per_day": limit,
			"max_requests_per_day": limit, "max_input_tokens": 100000, "max_output_tokens": 100000},
	})
	var created struct {
		Key string `json:"key"`
	}
	if err := gw.Admin(http.MethodPost, "/admin/api/v1/clients", body, &created); err != nil {
		return fail(err)
	}
	if created.Key == "" {
		return fail(fmt.Errorf("create client: no key in the answer"))
	}
	return gw, created.Key, nil
}

func stopGateway(gw *gwproc.Process) {
	gw.Stop()
	gw.Remove()
}
