// Command bench measures what the gateway adds on top of a local mock upstream: latency at
// concurrency 1, throughput at 32 concurrent clients, streaming time-to-first-byte and time per
// relayed event, resident memory idle and with 1,000 open streams, CPU time per request, and the
// heap garbage per request (BenchmarkFrontDoor). Direct-to-mock, the floors (a bare proxy: the
// gateway's HTTP server and transport, nothing else; and nginx as a plain reverse proxy when it
// is on PATH) and the gateway are measured in the same run, and every SPEC §10 budget is reported
// as a ratio to the best floor. The mock, the floors and the gateway run as processes of their
// own, as an upstream does.
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
	garbage    bool
	redis      string
}

func run() error {
	var o options
	flag.BoolVar(&o.serveMock, "serve-mock", false, "internal: serve the mock upstream and print its URL")
	flag.StringVar(&o.serveProxy, "serve-proxy", "", "internal: serve the bare proxy to this upstream URL and print its URL")
	flag.StringVar(&o.gateway, "gateway", "dist/ai-gateway", "path to the built ai-gateway binary")
	flag.StringVar(&o.out, "out", "bench-results/bench.json", "where to write the numbers as JSON")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "how long each path is measured at each concurrency, in turns with the others (rounds.go)")
	flag.IntVar(&o.streams, "streams", 100, "streamed requests per target for the streaming numbers")
	flag.IntVar(&o.events, "events", 200, "content events per streamed answer")
	flag.IntVar(&o.open, "open", 1000, "concurrent open streams for the memory number")
	flag.BoolVar(&o.otel, "otel", false, "trace every request (otel.sample_ratio 1) to a collector in this process that drops the spans: the cost of tracing")
	flag.BoolVar(&o.garbage, "garbage", true, "also run BenchmarkFrontDoor (go test, from the repository root) for the heap garbage per request")
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

	ngx, err := startNginx(mockURL)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "nginx did not start, no nginx floor this run: %v\n", err)
	case ngx != nil:
		defer ngx.stop()
	default:
		fmt.Fprintln(os.Stderr, "nginx is not on PATH: no nginx floor (apt-get install -y nginx-light)")
	}

	direct := newTarget("direct", mockURL+"/v1/chat/completions", "", 64)
	proxies := []proxyRow{
		{target: newTarget("bare proxy", bare.url+"/v1/chat/completions", "", 64), cpu: func() float64 { return cpuSeconds(bare.cmd.Process.Pid) }, floor: true},
	}
	if ngx != nil {
		proxies = append(proxies, proxyRow{target: newTarget("nginx", ngx.url+"/v1/chat/completions", "", 64),
			cpu: func() float64 { return treeCPUSeconds(ngx.pid()) }, floor: true})
	}
	proxies = append(proxies, proxyRow{target: newTarget("gateway", gw.Base+"/v1/chat/completions", clientKey, 64),
		cpu: func() float64 { return cpuSeconds(gw.Pid()) }})
	via := proxies[len(proxies)-1].target
	if o.redis != "" {
		row, stop, err := startRedisGateway(o, mockURL, env)
		if err != nil {
			return err
		}
		if row != nil {
			defer stop()
			proxies = append(proxies, *row)
		}
	}
	nonStream := chatBody("bench", false)

	r := report{Machine: machine(), When: time.Now().UTC().Format(time.RFC3339), Tracing: o.otel}
	r.IdleRSSMB = rssMB(gw.Pid())

	// Warm up every path (connections, caches, the gateway's model and client state).
	for _, t := range append([]target{direct}, targetsOf(proxies)...) {
		if _, err := closedLoop(t, 4, time.Second, nonStream); err != nil {
			return fmt.Errorf("warm-up %s: %w", t.name, err)
		}
	}

	// Every path, the direct one included, is measured in turns (rounds.go).
	all := append([]target{direct}, targetsOf(proxies)...)
	cpus := []func() float64{nil}
	for _, p := range proxies {
		cpus = append(cpus, p.cpu)
	}

	fmt.Fprintln(os.Stderr, "latency at concurrency 1 …")
	c1, err := inTurns(all, cpus, 1, o.duration, nonStream)
	if err != nil {
		return err
	}
	r.DirectP50us, r.DirectP99us = us(c1[0].latency.quantile(0.5)), us(c1[0].latency.quantile(0.99))
	for i := range proxies {
		p, res := &proxies[i], &c1[i+1]
		p.Name = p.name
		p.P50us, p.P99us = us(res.latency.quantile(0.5)), us(res.latency.quantile(0.99))
		p.AddedP50us, p.AddedP99us = p.P50us-r.DirectP50us, p.P99us-r.DirectP99us
	}

	fmt.Fprintln(os.Stderr, "throughput and CPU at concurrency 32 …")
	c32, err := inTurns(all, cpus, 32, o.duration, nonStream)
	if err != nil {
		return err
	}
	r.DirectRPS = c32[0].rps()
	for i := range proxies {
		p, res := &proxies[i], &c32[i+1]
		p.CPUus = res.cpuPerRequestUs()
		p.RPS = res.rps()
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

	if o.garbage {
		fmt.Fprintln(os.Stderr, "garbage per request (go test -bench BenchmarkFrontDoor -benchmem) …")
		if r.GarbageBytes, err = frontDoorGarbage(); err != nil {
			return err
		}
	}

	r.Rows = proxies
	r.judge()
	r.print(os.Stdout)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return os.WriteFile(o.out, append(b, '\n'), 0o644)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// proxyRow is one process between the load generator and the mock: a floor (the bare proxy,
// nginx) or the gateway, with what it measured.
type proxyRow struct {
	target `json:"-"`
	// cpu reads the process's (and its workers') CPU time in seconds.
	cpu   func() float64
	floor bool
	// extra rows are measured and shown, not judged against the budgets (the gateway with its
	// limits in Redis).
	extra bool

	Name       string  `json:"name"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	AddedP50us float64 `json:"added_p50_us"`
	AddedP99us float64 `json:"added_p99_us"`
	RPS        float64 `json:"rps_c32"`
	// CPUus is CPU time (user + system) the process spent per request in the c=32 run: steadier
	// than throughput on a machine the load generator and the mock share.
	CPUus float64 `json:"cpu_us_per_request_c32"`
}

func targetsOf(rows []proxyRow) []target {
	out := make([]target, len(rows))
	for i, r := range rows {
		out[i] = r.target
	}
	return out
}

// report is the JSON the benchmark writes; the budgets are SPEC §10's.
type report struct {
	Machine string `json:"machine"`
	When    string `json:"when"`
	// Tracing is on (-otel): every request traced and exported.
	Tracing     bool       `json:"tracing"`
	DirectP50us float64    `json:"direct_p50_us"`
	DirectP99us float64    `json:"direct_p99_us"`
	DirectRPS   float64    `json:"direct_rps_c32"`
	Rows        []proxyRow `json:"rows"`
	// Floor is the best of the floors (bare proxy, nginx) for each measure.
	Floor struct {
		AddedP50us float64 `json:"added_p50_us"`
		AddedP99us float64 `json:"added_p99_us"`
		RPS        float64 `json:"rps_c32"`
		CPUus      float64 `json:"cpu_us_per_request_c32"`
	} `json:"floor"`
	Budgets          []budget `json:"budgets"`
	Events           int      `json:"stream_events"`
	AddedTTFBus      float64  `json:"added_ttfb_us"`
	AddedPerEventUs  float64  `json:"added_per_event_us"`
	IdleRSSMB        float64  `json:"idle_rss_mb"`
	OpenStreams      int      `json:"open_streams"`
	OpenStreamsRSSMB float64  `json:"open_streams_rss_mb"`
	// GarbageBytes is BenchmarkFrontDoor's B/op: heap allocated per proxied request.
	GarbageBytes float64 `json:"garbage_bytes_per_request,omitempty"`
}

// budget is one SPEC §10 budget: the gateway's value, as a ratio to the floor where the budget is
// stated as one, and whether it holds.
type budget struct {
	Name   string  `json:"name"`
	Value  string  `json:"value"`
	Ratio  float64 `json:"ratio,omitempty"`
	Budget string  `json:"budget"`
	OK     bool    `json:"ok"`
}

// judge finds the best floor of each measure and checks the gateway against SPEC §10's budgets.
func (r *report) judge() {
	f := &r.Floor
	first := true
	var gw proxyRow
	for _, p := range r.Rows {
		if p.extra {
			continue
		}
		if !p.floor {
			gw = p
			continue
		}
		if first {
			f.AddedP50us, f.AddedP99us, f.RPS, f.CPUus = p.AddedP50us, p.AddedP99us, p.RPS, p.CPUus
			first = false
			continue
		}
		f.AddedP50us, f.AddedP99us = min(f.AddedP50us, p.AddedP50us), bestP99(f.AddedP99us, p.AddedP99us)
		f.RPS, f.CPUus = max(f.RPS, p.RPS), min(f.CPUus, p.CPUus)
	}
	add := func(name, value string, ratio float64, limit string, ok bool) {
		r.Budgets = append(r.Budgets, budget{Name: name, Value: value, Ratio: ratio, Budget: limit, OK: ok})
	}
	add("CPU per request, c=32", fmt.Sprintf("%.0f µs (floor %.0f)", gw.CPUus, f.CPUus), gw.CPUus/f.CPUus,
		"≤ 1.3 × floor", gw.CPUus <= 1.3*f.CPUus)
	add("added latency p50, c=1", fmt.Sprintf("%.0f µs (floor %.0f, +%.0f)", gw.AddedP50us, f.AddedP50us, gw.AddedP50us-f.AddedP50us),
		gw.AddedP50us/f.AddedP50us, "≤ floor + 30 µs", gw.AddedP50us <= f.AddedP50us+30)
	if f.AddedP99us > 0 {
		add("added latency p99, c=1", fmt.Sprintf("%.0f µs (floor %.0f)", gw.AddedP99us, f.AddedP99us), gw.AddedP99us/f.AddedP99us,
			"≤ 1.5 × floor", gw.AddedP99us <= 1.5*f.AddedP99us)
	} else {
		// A direct p99 above every floor's: a stall in the direct run, not a faster proxy.
		add("added latency p99, c=1", fmt.Sprintf("%.0f µs (no floor: direct p99 stalled, rerun)", gw.AddedP99us), 0,
			"≤ 1.5 × floor", false)
	}
	add("throughput, c=32", fmt.Sprintf("%.0f rps (floor %.0f)", gw.RPS, f.RPS), gw.RPS/f.RPS,
		"≥ 0.85 × floor", gw.RPS >= 0.85*f.RPS)
	add(fmt.Sprintf("RSS with %d open streams", r.OpenStreams), fmt.Sprintf("%.1f MB", r.OpenStreamsRSSMB), 0,
		"< 100 MB", r.OpenStreamsRSSMB < 100)
	add(fmt.Sprintf("stream: added time per event (%d)", r.Events), fmt.Sprintf("%.1f µs", r.AddedPerEventUs), 0,
		"≤ 20 µs", r.AddedPerEventUs <= 20)
	if r.GarbageBytes > 0 {
		add("heap garbage per request", fmt.Sprintf("%.1f KB", r.GarbageBytes/1000), 0, "≤ 8 KB", r.GarbageBytes <= 8000)
	}
}

// bestP99 is the lower of two floors' added p99, a floor of 0 or less (noise: the direct run's p99
// above a proxy's) counting as none.
func bestP99(a, b float64) float64 {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "tracing: %v\n\n", r.Tracing)
	fmt.Fprintf(w, "| %-12s | %-18s | %-18s | %-12s | %-16s |\n", "path", "added p50, c=1", "added p99, c=1", "rps, c=32", "CPU/request c=32")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 14), strings.Repeat("-", 20), strings.Repeat("-", 20), strings.Repeat("-", 14), strings.Repeat("-", 18))
	fmt.Fprintf(w, "| %-12s | %-18s | %-18s | %-12.0f | %-16s |\n", "direct", fmt.Sprintf("(p50 %.0f µs)", r.DirectP50us),
		fmt.Sprintf("(p99 %.0f µs)", r.DirectP99us), r.DirectRPS, "—")
	for _, p := range r.Rows {
		fmt.Fprintf(w, "| %-12s | %-18s | %-18s | %-12.0f | %-16s |\n", p.name, fmt.Sprintf("%.0f µs", p.AddedP50us),
			fmt.Sprintf("%.0f µs", p.AddedP99us), p.RPS, fmt.Sprintf("%.0f µs", p.CPUus))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| %-39s | %-30s | %-6s | %-16s | %-4s |\n", "SPEC §10 budget (gateway vs best floor)", "value", "ratio", "budget", "")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 41), strings.Repeat("-", 32), strings.Repeat("-", 8), strings.Repeat("-", 18), strings.Repeat("-", 6))
	for _, b := range r.Budgets {
		mark, ratio := "ok", "—"
		if !b.OK {
			mark = "OVER"
		}
		if b.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", b.Ratio)
		}
		fmt.Fprintf(w, "| %-39s | %-30s | %-6s | %-16s | %-4s |\n", b.Name, b.Value, ratio, b.Budget, mark)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "stream: added time to first byte %.0f µs; RSS idle %.1f MB\n", r.AddedTTFBus, r.IdleRSSMB)
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
