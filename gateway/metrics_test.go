package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

func TestMetricsAfterKnownTraffic(t *testing.T) {
	app := clientRow(1, "app")
	app.ModelWhitelist = db.Strings{"gpt-4o", "gpt-4o-mini"}
	app.RequestsPerMinute = 4
	open := clientRow(2, "open")
	open.ModelsCache = db.Strings{"mistral-large"}
	open.Backend = "mistral"
	inactive := clientRow(3, "off")
	inactive.Active = false
	e := newEnv(t, []db.Client{app, open, inactive}, nil)
	a, o := e.auth("app"), e.auth("open")

	// app: two successes on gpt-4o, one upstream 502, one refused model, then the rate limit.
	for _, usage := range [][2]int{{100, 20}, {50, 10}} {
		call, err := e.gw.Begin(a, Admission{Model: "gpt-4o"})
		if err != nil {
			t.Fatal(err)
		}
		call.Upstream()
		e.clock.Add(1500 * time.Millisecond)
		call.FirstByte()
		e.clock.Add(2 * time.Second)
		call.End(ok200(usage[0], usage[1]))
	}
	call, _ := e.gw.Begin(a, Admission{})
	call.End(Outcome{Err: &providers.Error{Kind: providers.KindUnavailable, Message: "connection refused", Provider: "openai"}})
	if _, err := e.gw.Begin(a, Admission{Model: "o3"}); err == nil {
		t.Fatal("o3 admitted")
	}
	call, _ = e.gw.Begin(a, Admission{Model: "gpt-4o"})
	call.End(ok200(1, 1))
	_, err := e.gw.Begin(a, Admission{Model: "gpt-4o"}) // 5th within the minute
	perr(t, err, providers.KindRateLimited)

	// open: a cached model keeps its label; an arbitrary one is "other". One passed-on 429
	// from the upstream, one client that went away (not an upstream error).
	call, _ = e.gw.Begin(o, Admission{Model: "mistral-large"})
	call.End(ok200(7, 3))
	call, _ = e.gw.Begin(o, Admission{Model: "my-fine-tune-123"})
	call.End(ok200(1000, 1))
	call, _ = e.gw.Begin(o, Admission{Model: "mistral-large"})
	call.End(Outcome{Status: 429})
	call, _ = e.gw.Begin(o, Admission{Model: "mistral-large"})
	inFlight := call
	if v := testutil.ToFloat64(e.gw.metrics.inProgress); v != 1 {
		t.Fatalf("requests_in_progress = %v, want 1", v)
	}
	inFlight.End(Outcome{Status: 499, Err: &providers.Error{Kind: providers.KindCanceled, Message: "request cancelled"}})

	m := e.gw.metrics
	counters := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.requests.WithLabelValues("app", "gpt-4o", "200"), 3},
		{m.requests.WithLabelValues("app", "gpt-4o-mini", "502"), 1},
		{m.requests.WithLabelValues("app", "other", "403"), 1},
		{m.requests.WithLabelValues("app", "gpt-4o", "429"), 1},
		{m.requests.WithLabelValues("open", "mistral-large", "200"), 1},
		{m.requests.WithLabelValues("open", "other", "200"), 1},
		{m.requests.WithLabelValues("open", "mistral-large", "429"), 1},
		{m.requests.WithLabelValues("open", "mistral-large", "499"), 1},
		{m.inputTokens.WithLabelValues("app", "gpt-4o"), 151},
		{m.outputTokens.WithLabelValues("app", "gpt-4o"), 31},
		{m.inputTokens.WithLabelValues("open", "other"), 1000},
		{m.upstreamErrors.WithLabelValues("app", "openai"), 1},
		{m.upstreamErrors.WithLabelValues("open", "mistral"), 1},
		{m.rateLimited.WithLabelValues("app", "requests_per_minute"), 1},
		{m.inProgress, 0},
		{m.activeClients, 2},
	}
	for _, tt := range counters {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			desc := make(chan *prometheus.Desc, 1)
			tt.c.Describe(desc)
			t.Errorf("%v = %v, want %v", <-desc, got, tt.want)
		}
	}
	// 8 distinct (client, model, status) series: labels stay bounded.
	if n := testutil.CollectAndCount(m.requests); n != 8 {
		t.Errorf("%d request series, want 8", n)
	}

	// Histograms, read through the registry as Prometheus would scrape them.
	expected := `
# HELP ai_gateway_time_to_first_token_seconds Time from receiving a request to the first upstream byte sent on.
# TYPE ai_gateway_time_to_first_token_seconds histogram
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="0.05"} 0
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="0.1"} 0
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="0.25"} 0
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="0.5"} 0
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="1"} 0
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="2"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="3"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="5"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="10"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="20"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="30"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="60"} 2
ai_gateway_time_to_first_token_seconds_bucket{client="app",le="+Inf"} 2
ai_gateway_time_to_first_token_seconds_sum{client="app"} 3
ai_gateway_time_to_first_token_seconds_count{client="app"} 2
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(expected), "ai_gateway_time_to_first_token_seconds"); err != nil {
		t.Error(err)
	}
	if got := histogramSum(t, e.reg, "ai_gateway_request_duration_seconds", "app"); got != 7 {
		t.Errorf("request duration sum for app = %v, want 3.5+3.5 (the others took no time)", got)
	}
	if n := histogramCount(t, e.reg, "ai_gateway_request_duration_seconds", "open"); n != 4 {
		t.Errorf("request duration count for open = %d, want 4", n)
	}
	// Overhead: the two gpt-4o calls went upstream at once (≈0 s each); this one spent 200µs
	// before going upstream and 50µs relaying.
	call, _ = e.gw.Begin(o, Admission{Model: "mistral-large", Received: e.clock.Now().Add(-200 * time.Microsecond)})
	call.Upstream()
	call.AddOverhead(50 * time.Microsecond)
	call.End(ok200(1, 1))
	if got := histogramSum(t, e.reg, "ai_gateway_overhead_seconds", ""); got < 250e-6 || got > 250.1e-6 {
		t.Errorf("overhead sum = %v, want 250µs", got)
	}
	if n := histogramCount(t, e.reg, "ai_gateway_overhead_seconds", ""); n != 3 {
		t.Errorf("overhead observations = %d, want 3 (calls that never went upstream have none)", n)
	}

	// Deleting a client drops its series; the others stay.
	e.clients.remove(1)
	if err := e.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.requests); n != 4 {
		t.Errorf("%d request series after deleting app, want open's 4", n)
	}
	if v := testutil.ToFloat64(m.activeClients); v != 1 {
		t.Errorf("active_clients = %v, want 1", v)
	}
}

func TestEveryMetricOfTheSpecIsRegistered(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	call, _ := e.gw.Begin(e.auth("app"), Admission{})
	call.FirstByte()
	call.End(Outcome{Status: 500, Usage: providers.Usage{InputTokens: 1, OutputTokens: 1}})
	e.gw.metrics.rateLimited.WithLabelValues("app", "x")
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}
	for _, name := range []string{
		"ai_gateway_requests_total", "ai_gateway_requests_in_progress", "ai_gateway_input_tokens_total",
		"ai_gateway_output_tokens_total", "ai_gateway_request_duration_seconds", "ai_gateway_active_clients",
		"ai_gateway_upstream_errors_total", "ai_gateway_time_to_first_token_seconds", "ai_gateway_overhead_seconds",
		"ai_gateway_rate_limited_total", "ai_gateway_log_queue_dropped_total", "ai_gateway_db_write_errors_total",
		"ai_gateway_log_queue_length",
	} {
		if !have[name] {
			t.Errorf("%s not exposed", name)
		}
	}
}

func TestNewFailsOnADoubleRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := Options{Clients: &fakeClients{}, Logs: nopLogs{}, Usage: nopLogs{}, Registry: reg}
	if _, err := New(opts); err != nil {
		t.Fatal(err)
	}
	if _, err := New(opts); err == nil {
		t.Fatal("second gateway on the same registry: want an error, not a panic")
	}
}

func histogramSum(t *testing.T, reg *prometheus.Registry, name, client string) float64 {
	h := findHistogram(t, reg, name, client)
	return h.GetSampleSum()
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name, client string) uint64 {
	h := findHistogram(t, reg, name, client)
	return h.GetSampleCount()
}

func findHistogram(t *testing.T, reg *prometheus.Registry, name, client string) interface {
	GetSampleSum() float64
	GetSampleCount() uint64
} {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := client == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "client" && l.GetValue() == client {
					match = true
				}
			}
			if match {
				return m.GetHistogram()
			}
		}
	}
	t.Fatalf("no %s{client=%q}", name, client)
	return nil
}
