// Package gateway is the policy and plumbing between the front doors and the providers: the
// key cache, per-client limits and quotas, usage accounting, the background request-log
// writer, Prometheus metrics and the dashboard's live stats. It knows no HTTP framework.
//
// A request goes Authenticate → Begin (SPEC §6 policy, in order) → the front door calls the
// provider → Call.End (settlement, metrics, stats, and the log row handed to the one background
// writer). Nothing on that path reads or writes the database.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/pricing"
	"github.com/aigateway/ai-gateway/providers"
)

// Options are the Gateway's dependencies and settings.
type Options struct {
	// Clients lists the clients for the key cache (db.Clients). Required.
	Clients ClientSource
	// Secrets decrypts upstream keys (db.Keyring). Required when a client has one.
	Secrets Decrypter
	// Providers builds a provider per backend id ("openai", "mistral", "anthropic", "gemini", …).
	Providers map[string]ProviderFactory
	// HTTPClient, HeaderTimeout and IdleTimeout are handed to every provider (providers.Config).
	HTTPClient    *http.Client
	HeaderTimeout time.Duration
	IdleTimeout   time.Duration
	// Routing is how failed attempts are retried and targets skipped (SPEC §15).
	Routing Routing

	// Tracer makes the spans of SPEC §19 (each request, each upstream attempt); nil traces
	// nothing and costs nothing. Propagator, set with it, writes each attempt's trace context
	// into its upstream request (providers.Config).
	Tracer     trace.Tracer
	Propagator propagation.TextMapPropagator

	// Logs receives the request log and usage rollups (db.RequestLogStore). Required.
	Logs LogStore
	// Usage loads today's usage at Start (db.UsageStore). Required.
	Usage UsageLoader
	// Traffic, when set, gives the dashboard's charts the last day of the request log at Start
	// (db.RequestLogStore), so a restart does not blank them.
	Traffic TrafficLoader

	// Prices keeps the administrators' price overrides (db.ModelPrices); nil allows none.
	Prices PriceStore
	// PriceTable is the price list (pricing.Parse); nil means the embedded snapshot.
	PriceTable *pricing.Table

	// Registry gets the metrics of SPEC §9; nil keeps them in a private registry.
	Registry *prometheus.Registry
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	// QueueSize bounds the request log rows waiting for the writer (default 10,000); beyond it,
	// rows are dropped and counted in ai_gateway_log_queue_dropped_total. Usage is never dropped.
	QueueSize int
	// BatchSize is the most log rows written per transaction (default 1,000).
	BatchSize int
	// FlushInterval is how often the writer writes what is pending (default 1s).
	FlushInterval time.Duration
	// StoreBodies keeps request and response bodies in the log (logs.store_bodies).
	StoreBodies bool
	// RetentionDays is how long request log rows are kept (logs.retention_days); 0 = forever.
	RetentionDays int
	// Responses holds the Responses API's stored responses (db.Responses); the retention job
	// deletes those older than ResponsesRetentionDays (responses.retention_days; 0 = forever).
	// Nil keeps none.
	Responses              Expirer
	ResponsesRetentionDays int

	// Tools runs the MCP tools of clients in tool mode gateway and of /mcp (SPEC §18);
	// nil: such clients' tool calls go back to them.
	Tools ToolRunner
	// MaxToolSteps is mcp.max_steps (0: DefaultMaxToolSteps).
	MaxToolSteps int

	// Seams for running several instances (SPEC §13); nil means the in-memory implementation.
	Limiter      Limiter
	Counters     UsageCounters
	Spend        SpendCounters
	Stats        StatsFeed
	ClientEvents ClientEvents
}

// Gateway applies the per-client policy and accounts for every request.
type Gateway struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	limiter  Limiter
	counters UsageCounters
	stats    StatsFeed
	events   ClientEvents
	metrics  *metrics
	routing  *routingMetrics
	// health is the state of every upstream target (key): breaker, benched, resting (health.go).
	health sync.Map // string → *upstreamHealth
	writer *writer
	tracer trace.Tracer // nil: tracing is off
	// instance identifies this gateway to ClientEvents, so it skips its own announcements.
	instance string

	clients  atomic.Pointer[clientSet]
	reloadMu sync.Mutex
	// onChange are run after a change announced by another instance has been reloaded (OnChange).
	onChangeMu sync.Mutex
	onChange   []func(ctx context.Context)

	// prices are the prices in force (priceMu serialises their reloads); spend is each
	// client's spend of today and this month against its budgets.
	prices  atomic.Pointer[priceBook]
	priceMu sync.Mutex
	spend   SpendCounters

	inFlight      atomic.Int64
	unauthorized  unauthorizedLog
	storeBodies   atomic.Bool
	retentionDays atomic.Int64

	// fetched holds model lists fetched from backends since the client snapshot was built.
	fetched  sync.Map // int64 → fetchedModels
	fetchMus sync.Map // int64 → *sync.Mutex: one fetch per client at a time

	state       sync.Mutex
	started     bool
	closed      bool
	unsubscribe func()
	// restoring is the background read of the charts' history (stopRestore cancels it);
	// restored is closed when it is over.
	stopRestore context.CancelFunc
	restored    chan struct{}
}

// New builds a Gateway. It does no I/O: Start loads the clients and today's usage.
func New(opts Options) (*Gateway, error) {
	if opts.Clients == nil || opts.Logs == nil || opts.Usage == nil {
		return nil, errors.New("gateway: Options.Clients, Logs and Usage are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10_000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1_000
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = providers.NewHTTPClient()
	}
	g := &Gateway{
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		limiter:  opts.Limiter,
		counters: opts.Counters,
		spend:    opts.Spend,
		stats:    opts.Stats,
		events:   opts.ClientEvents,
		tracer:   opts.Tracer,
	}
	if g.limiter == nil {
		g.limiter = NewMemoryLimiter()
	}
	if g.counters == nil {
		g.counters = NewMemoryCounters()
	}
	if g.spend == nil {
		g.spend = NewMemorySpend()
	}
	if g.stats == nil {
		g.stats = NewMemoryStats()
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	g.instance = hex.EncodeToString(id[:])
	g.storeBodies.Store(opts.StoreBodies)
	g.retentionDays.Store(int64(opts.RetentionDays))
	g.clients.Store(&clientSet{})
	book, err := newPriceBook(opts.PriceTable, opts.Now())
	if err != nil {
		return nil, err
	}
	g.prices.Store(book)

	var reg prometheus.Registerer = opts.Registry
	if opts.Registry == nil {
		reg = prometheus.NewRegistry()
	}
	var w *writer
	m, err := newMetrics(reg, func() float64 { return w.queueLength() })
	if err != nil {
		return nil, err
	}
	g.metrics = m
	if g.routing, err = newRoutingMetrics(reg); err != nil {
		return nil, err
	}
	m.perClient = append(m.perClient, g.routing.fallbacks.MetricVec)
	w = newWriter(opts.Logs, g.log, m, g.now, func() int { return int(g.retentionDays.Load()) },
		opts.QueueSize, opts.BatchSize, opts.FlushInterval)
	if opts.Responses != nil {
		days := opts.ResponsesRetentionDays
		w.expire = append(w.expire, expiry{what: "stored responses", store: opts.Responses, days: func() int { return days }})
	}
	g.writer = w
	return g, nil
}

// Start loads the clients and today's usage (so a restart keeps the daily quotas), and starts
// the background writer with its retention job. The writer runs until Close, whatever ctx does.
func (g *Gateway) Start(ctx context.Context) error {
	g.state.Lock()
	defer g.state.Unlock()
	if g.started {
		return errors.New("gateway: already started")
	}
	if err := g.reloadClients(ctx); err != nil {
		return err
	}
	if err := g.restoreUsage(ctx); err != nil {
		return err
	}
	if err := g.reloadPrices(ctx); err != nil {
		return err
	}
	if err := g.restoreSpend(ctx); err != nil {
		return err
	}
	if err := g.restoreLimits(ctx); err != nil {
		return err
	}
	if g.opts.Traffic != nil {
		// In the background: a busy day's log takes seconds to sum, and only the charts wait.
		rctx, cancel := context.WithTimeout(context.Background(), restoreTrafficTimeout)
		g.stopRestore, g.restored = cancel, make(chan struct{})
		go func() {
			defer close(g.restored)
			defer cancel()
			g.restoreTraffic(rctx)
		}()
	}
	if g.events != nil {
		g.unsubscribe = g.events.Subscribe(g.clientsChanged)
	}
	g.started = true
	go g.writer.run()
	return nil
}

// clientsChanged reloads the key cache and the price overrides when another instance announced
// a change.
func (g *Gateway) clientsChanged(origin string) {
	if origin == g.instance {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.reloadClients(ctx); err != nil {
		g.log.Error("reload clients after a change elsewhere", "err", err)
	}
	if err := g.reloadPrices(ctx); err != nil {
		g.log.Error("reload price overrides after a change elsewhere", "err", err)
	}
	g.onChangeMu.Lock()
	fns := g.onChange
	g.onChangeMu.Unlock()
	for _, fn := range fns {
		fn(ctx)
	}
}

// OnChange adds fn to what runs when another instance announces a change (Options.ClientEvents),
// after the clients and prices are reloaded: the edge reloads its runtime settings with it.
func (g *Gateway) OnChange(fn func(ctx context.Context)) {
	g.onChangeMu.Lock()
	defer g.onChangeMu.Unlock()
	g.onChange = append(g.onChange, fn)
}

// AnnounceChange tells the other instances that something they load from the database changed
// (the admin settings), so they reload it; without Options.ClientEvents it does nothing.
func (g *Gateway) AnnounceChange(ctx context.Context) error {
	if g.events == nil {
		return nil
	}
	return g.events.Publish(ctx, g.instance)
}

func (g *Gateway) restoreUsage(ctx context.Context) error {
	now := g.now()
	day := dayOf(now)
	rows, err := g.opts.Usage.ForDay(ctx, day)
	if err != nil {
		return fmt.Errorf("load today's usage: %w", err)
	}
	set := g.clients.Load()
	for _, r := range rows {
		g.counters.Restore(clientKey(r.ClientID), day, DayUsage{
			Requests: r.Requests - r.Refused, Refused: r.Refused, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens,
			CachedTokens: r.CachedTokens, ReasoningTokens: r.ReasoningTokens,
		})
		name, model := fmt.Sprintf("client %d", r.ClientID), "other"
		if c := set.byID[r.ClientID]; c != nil {
			name, model = c.Name, c.modelLabel(r.Model)
		}
		g.stats.Record(StatEvent{Time: now, Client: name, Model: model, Requests: r.Requests, Errors: r.Errors,
			InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CachedTokens: r.CachedTokens,
			CacheSavedMicros: r.SavedMicros, TotalsOnly: true})
	}
	return nil
}

// restoreLimits puts each client's forwarded requests of the last rate-limit window back into
// the limiter, so a restart is no way around a rate limit. The log is read per minute and each
// minute's requests counted at the minute's end: right after a restart a window may refuse up to
// a minute early, never admit more than its limit.
func (g *Gateway) restoreLimits(ctx context.Context) error {
	if g.opts.Traffic == nil {
		return nil
	}
	set := g.clients.Load()
	var ids []int64
	var longest time.Duration
	for id, c := range set.byID {
		limited := false
		for _, r := range c.rates {
			if r.Limit > 0 {
				limited, longest = true, max(longest, r.Window)
			}
		}
		if limited {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now := g.now()
	minutes, err := g.opts.Traffic.ForwardedSince(ctx, now.Add(-longest).Truncate(time.Minute), ids)
	if err != nil {
		return fmt.Errorf("load the rate-limit windows from the request log: %w", err)
	}
	for _, m := range minutes {
		c := set.byID[m.ClientID]
		at := m.Minute.Add(time.Minute - time.Nanosecond)
		if at.After(now) {
			at = now
		}
		g.limiter.Restore(c.key, c.rates[:], at, m.Requests)
	}
	return nil
}

// SpendLoader reads back each client's cost per day since a day (db.UsageStore); when Options.Usage
// is one, Start restores this month's spend so the budgets survive a restart.
type SpendLoader interface {
	SpendSince(ctx context.Context, fromDay string) ([]db.UsageDaily, error)
}

func (g *Gateway) restoreSpend(ctx context.Context) error {
	sl, ok := g.opts.Usage.(SpendLoader)
	if !ok {
		return nil
	}
	now := g.now()
	day, month := dayOf(now), monthOf(now)
	rows, err := sl.SpendSince(ctx, month+"-01")
	if err != nil {
		return fmt.Errorf("load this month's spend: %w", err)
	}
	for _, r := range rows {
		g.spend.Restore(clientKey(r.ClientID), day, month, r.Day, r.CostMicros)
	}
	return nil
}

// restoreTrafficTimeout bounds the read of the last day's request log after Start (about a
// microsecond a row: some 25 million rows); past it the charts start without their history.
const restoreTrafficTimeout = 30 * time.Second

// restoreTraffic puts the last 24 hours of the request log back into the dashboard's series.
// Failing only costs the charts their history, so it is logged, not returned.
func (g *Gateway) restoreTraffic(ctx context.Context) {
	now := g.now()
	minutes, err := g.opts.Traffic.TrafficSince(ctx, now.Add(-24*time.Hour))
	if err != nil {
		g.log.Warn("the dashboard's charts start empty: cannot read the last day's request log", "err", err)
		return
	}
	for _, m := range minutes {
		g.stats.Record(StatEvent{Time: m.Minute, Requests: m.Requests, Errors: m.Errors,
			InputTokens: m.InputTokens, OutputTokens: m.OutputTokens, SeriesOnly: true})
	}
}

// Flush writes everything accounted so far to the database and returns when it is written.
func (g *Gateway) Flush(ctx context.Context) error {
	if !g.isRunning() {
		return errors.New("gateway: not running")
	}
	return g.writer.request(ctx, g.writer.flush)
}

// Close writes everything still queued, retrying failed writes until ctx ends, and stops the
// writer. Call it after the server has stopped taking requests and in-flight ones have ended:
// accounting handed over later is not written. The error says how much could not be written.
func (g *Gateway) Close(ctx context.Context) error {
	g.state.Lock()
	if !g.started || g.closed {
		g.state.Unlock()
		return nil
	}
	g.closed = true
	if g.unsubscribe != nil {
		g.unsubscribe()
	}
	if g.stopRestore != nil {
		g.stopRestore()
		<-g.restored
	}
	g.state.Unlock()
	return g.writer.request(ctx, g.writer.stop)
}

// WaitIdle returns once every admitted call has ended (Call.End), or with an error saying how
// many are left when ctx ends first. Shutdown uses it after cutting the last open streams, so
// their accounting is handed over before Close writes it.
func (g *Gateway) WaitIdle(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for g.inFlight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d requests still in flight: %w", g.inFlight.Load(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

func (g *Gateway) isRunning() bool {
	g.state.Lock()
	defer g.state.Unlock()
	return g.started && !g.closed
}

// SetStoreBodies turns body logging on or off at runtime (admin settings).
func (g *Gateway) SetStoreBodies(on bool) { g.storeBodies.Store(on) }

// SetRetentionDays changes the request log retention at runtime (admin settings); 0 = forever.
// It applies at the next hourly run of the retention job.
func (g *Gateway) SetRetentionDays(days int) { g.retentionDays.Store(int64(days)) }

// Stats returns the live numbers for the dashboard; cheap enough to call every second.
func (g *Gateway) Stats() Snapshot {
	s := g.stats.Snapshot(g.now())
	s.InFlight += g.inFlight.Load() // a shared feed counts the other instances' in it

	set := g.clients.Load()
	s.ClientCount, s.ActiveClientCount = len(set.byID), set.active
	day, month := g.spend.Total(dayOf(s.Time), monthOf(s.Time))
	s.SpendToday, s.SpendMonth = float64(day)/1e6, float64(month)/1e6
	s.Targets = g.Health()
	return s
}

// InFlight is the number of requests this instance admitted that have not ended.
func (g *Gateway) InFlight() int64 { return g.inFlight.Load() }

// clientKey names a client in the limiter and the usage counters.
func clientKey(id int64) string {
	return strconv.FormatInt(id, 10)
}

// The db stores satisfy the interfaces the gateway declares.
var (
	_ LogStore    = (*db.RequestLogStore)(nil)
	_ UsageLoader = (*db.UsageStore)(nil)
	_ SpendLoader = (*db.UsageStore)(nil)
	_ PriceStore  = (*db.ModelPrices)(nil)
)
