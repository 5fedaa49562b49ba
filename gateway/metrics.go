package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aigateway/ai-gateway/providers"
)

// metrics are the Prometheus series of SPEC §9. Labels stay bounded: the client name, the
// backend id, a status code, a limit name, and a model from the client's known models
// (whitelist, model cache, default model) or "other".
type metrics struct {
	requests       *prometheus.CounterVec // client, model, status
	inProgress     prometheus.Gauge
	inputTokens    *prometheus.CounterVec // client, model
	outputTokens   *prometheus.CounterVec // client, model
	duration       *prometheus.HistogramVec
	activeClients  prometheus.Gauge
	upstreamErrors *prometheus.CounterVec // client, provider
	ttft           *prometheus.HistogramVec
	overhead       prometheus.Histogram
	rateLimited    *prometheus.CounterVec // client, reason
	queueDropped   prometheus.Counter
	dbWriteErrors  prometheus.Counter
	rowsRejected   *prometheus.CounterVec // outcome
	cost           *prometheus.CounterVec // client, model
	cachedTokens   *prometheus.CounterVec // client, model
	reasonTokens   *prometheus.CounterVec // client, model
	toolCalls      *prometheus.CounterVec // client, status (MCP tool calls, SPEC §18)

	// perClient are the vectors with a client label, for forgetting a deleted client.
	perClient []*prometheus.MetricVec
}

// Buckets in seconds. LLM answers take from a fraction of a second to minutes.
var (
	durationBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300}
	ttftBuckets     = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60}
	overheadBuckets = []float64{10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3, 0.1, 0.5, 1}
)

func newMetrics(reg prometheus.Registerer, queueLength func() float64) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_requests_total", Help: "Requests by client, model and HTTP status.",
		}, []string{"client", "model", "status"}),
		inProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ai_gateway_requests_in_progress", Help: "Requests admitted and not finished yet.",
		}),
		inputTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_input_tokens_total", Help: "Input (prompt) tokens by client and model, cached tokens included.",
		}, []string{"client", "model"}),
		outputTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_output_tokens_total", Help: "Output (completion) tokens by client and model, reasoning tokens included.",
		}, []string{"client", "model"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ai_gateway_request_duration_seconds", Help: "Time from receiving a request to its last byte.",
			Buckets: durationBuckets,
		}, []string{"client"}),
		activeClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ai_gateway_active_clients", Help: "Clients whose key is active.",
		}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_upstream_errors_total", Help: "Requests the upstream failed (error status, unreachable, timeout).",
		}, []string{"client", "provider"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ai_gateway_time_to_first_token_seconds", Help: "Time from receiving a request to the first upstream byte sent on.",
			Buckets: ttftBuckets,
		}, []string{"client"}),
		overhead: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ai_gateway_overhead_seconds", Help: "Time spent in the gateway itself on a request (not waiting for the upstream).",
			Buckets: overheadBuckets,
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_rate_limited_total", Help: "Requests refused by a rate limit, a daily quota or a dollar budget, by the limit that refused.",
		}, []string{"client", "reason"}),
		queueDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ai_gateway_log_queue_dropped_total", Help: "Request log rows dropped because the write queue was full (usage is never dropped).",
		}),
		dbWriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ai_gateway_db_write_errors_total", Help: "Failed background writes of the request log and usage (retried).",
		}),
		rowsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_db_rows_rejected_total",
			Help: "Accounting rows the database rejected for their values even alone: stored in plain form (outcome=stored_plain) or dropped (outcome=dropped).",
		}, []string{"outcome"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_cost_usd_total", Help: "Cost of priced requests in US dollars by client and model (unpriced models add nothing).",
		}, []string{"client", "model"}),
		cachedTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_cached_tokens_total", Help: "Input tokens read from the provider's prompt cache, by client and model.",
		}, []string{"client", "model"}),
		reasonTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_reasoning_tokens_total", Help: "Reasoning (thinking) tokens by client and model, also counted in the output tokens.",
		}, []string{"client", "model"}),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ai_gateway_mcp_tool_calls_total", Help: "MCP tool calls the gateway made (tool mode gateway and /mcp) by client and status: ok, error, timeout, refused.",
		}, []string{"client", "status"}),
	}
	for _, o := range []string{rejectedPlain, rejectedDropped} {
		m.rowsRejected.WithLabelValues(o) // both series exist from the start, at 0
	}
	m.perClient = []*prometheus.MetricVec{m.requests.MetricVec, m.inputTokens.MetricVec, m.outputTokens.MetricVec,
		m.duration.MetricVec, m.upstreamErrors.MetricVec, m.ttft.MetricVec, m.rateLimited.MetricVec,
		m.cost.MetricVec, m.cachedTokens.MetricVec, m.reasonTokens.MetricVec, m.toolCalls.MetricVec}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ai_gateway_log_queue_length", Help: "Request log rows waiting for the background writer.",
	}, queueLength)
	for _, c := range []prometheus.Collector{m.requests, m.inProgress, m.inputTokens, m.outputTokens, m.duration,
		m.activeClients, m.upstreamErrors, m.ttft, m.overhead, m.rateLimited, m.queueDropped, m.dbWriteErrors, m.rowsRejected,
		m.cost, m.cachedTokens, m.reasonTokens, m.toolCalls, queue} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// forgetClient drops the series of a client name that no current client has any more.
func (m *metrics) forgetClient(name string, current *clientSet) {
	for _, c := range current.byID {
		if c.Name == name {
			return
		}
	}
	for _, v := range m.perClient {
		v.DeletePartialMatch(prometheus.Labels{"client": name})
	}
}

// spend adds a settled call's cost (nil: unpriced) and its cached and reasoning tokens.
func (m *metrics) spend(client, model string, cost *int64, u providers.Usage) {
	if cost != nil && *cost > 0 {
		m.cost.WithLabelValues(client, model).Add(float64(*cost) / 1e6)
	}
	if u.CachedTokens > 0 {
		m.cachedTokens.WithLabelValues(client, model).Add(float64(u.CachedTokens))
	}
	if u.ReasoningTokens > 0 {
		m.reasonTokens.WithLabelValues(client, model).Add(float64(u.ReasoningTokens))
	}
}
