// Command ai-gateway is a single-binary LLM API gateway: every application gets its own key, and
// the key decides the upstream provider, the allowed models, the system prompt and the limits.
//
// Usage:
//
//	ai-gateway [-config config.yaml] [-host ADDR] [-port N]   serve (first launch sets everything up)
//	ai-gateway -version
//	ai-gateway migrate                                        run the database migrations and exit
//	ai-gateway admin reset-password [-username admin]         print a new password for an admin, once
//	ai-gateway admin create-user -username U                  add an admin account, print its password once
//	ai-gateway admin token create --name NAME                 print a new admin API token, once
//	ai-gateway admin token list                               list the admin API tokens
//	ai-gateway admin token revoke --all | --id N              revoke admin API tokens
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	redislog "github.com/redis/go-redis/v9/logging"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/cluster"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/gateway/pricing"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/anthropic"
	"github.com/aigateway/ai-gateway/providers/gemini"
	"github.com/aigateway/ai-gateway/providers/openai"
	"github.com/aigateway/ai-gateway/routes"
	"github.com/aigateway/ai-gateway/static"
)

// Set at build time: go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc -X main.date=2026-01-01T00:00:00Z".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// gcPercent is the collector's pace unless GOGC says otherwise: a collection every time the
// heap doubles over the live data (Go's default, 100) happens often enough on a busy gateway that
// its pauses and assists set the latency tail; tripling halves how often, for a heap that may grow
// to three times its live size between collections (GOMEMLIMIT caps that in a container).
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ai-gateway:", err)
		os.Exit(1)
	}
}

// run is the whole program: it parses args, then serves until ctx is cancelled or runs one
// subcommand. Everything it prints goes to stdout; getenv is the environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	prog := "ai-gateway"
	if len(args) > 0 {
		args = args[1:]
	}
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stdout)
	configPath := fs.String("config", "config.yaml", "path of the config file (written with defaults on first launch)")
	host := fs.String("host", "", "listen address (overrides server.host and AIGW_SERVER_HOST)")
	port := fs.Int("port", 0, "listen port, 0 for any free port (overrides server.port and AIGW_SERVER_PORT)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage:\n  %s %-36s %s\n", prog, "[flags]", "serve")
		printCommands(stdout, prog)
		fmt.Fprint(stdout, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *showVersion {
		fmt.Fprintf(stdout, "ai-gateway %s (commit %s, built %s)\n", version, commit, date)
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	flags := serveFlags{configPath: *configPath}
	if set["host"] {
		flags.host = host
	}
	if set["port"] {
		flags.port = port
	}

	rest := fs.Args()
	if len(rest) == 0 {
		return serve(ctx, flags, getenv, stdout)
	}
	return command(ctx, rest, flags.configPath, getenv, stdout)
}

// serveFlags are the flags that override the config; nil means "not given".
type serveFlags struct {
	configPath string
	host       *string
	port       *int
}

// loadConfig reads the config (writing it on first launch) and applies the flags, which beat env.
func loadConfig(f serveFlags, getenv func(string) string) (*gateway.Config, bool, error) {
	cfg, created, err := gateway.LoadConfig(f.configPath, getenv)
	if err != nil {
		return nil, false, err
	}
	if f.host != nil {
		cfg.Server.Host = *f.host
	}
	if f.port != nil {
		cfg.Server.Port = *f.port
	}
	if err := cfg.Validate(); err != nil {
		return nil, false, fmt.Errorf("flags: %w", err)
	}
	return cfg, created, nil
}

// serve runs the server: config, storage, first-launch setup, the gateway, the HTTP edge; on ctx
// cancellation it stops in reverse order, bounded by server.shutdown_timeout.
func serve(ctx context.Context, f serveFlags, getenv func(string) string, stdout io.Writer) error {
	// The access log writes a line per request; batching the writes keeps a syscall off each one.
	logs := gateway.NewLogBuffer(stdout, 100*time.Millisecond)
	defer logs.Close()
	logger := slog.New(slog.NewTextHandler(logs, nil))

	cfg, configCreated, err := loadConfig(f, getenv)
	if err != nil {
		return err
	}
	bdb, dbCreated, err := db.Connect(ctx, cfg.Database.Options())
	if err != nil {
		return err
	}
	defer bdb.Close()

	dataDir := dataDirOf(cfg)
	if err := refuseNewKeyForSharedDatabase(cfg, dbCreated, dataDir, getenv); err != nil {
		return err
	}
	keyring, keyCreated, err := db.LoadKeyring(dataDir, getenv)
	if err != nil {
		return err
	}
	warnIfKeyFileIsOpen(logger, dataDir, getenv)

	users := db.NewAdminUsers(bdb)
	adminPassword, err := ensureAdmin(ctx, users)
	if err != nil {
		return err
	}
	if configCreated || dbCreated || keyCreated || adminPassword != "" {
		printFirstLaunch(stdout, firstLaunch{
			configPath: f.configPath, configCreated: configCreated,
			database: cfg.Database.Options(), dbCreated: dbCreated,
			keyPath: keyPathOf(dataDir, getenv), keyCreated: keyCreated,
			adminPassword: adminPassword,
		})
	}

	assets, err := static.New()
	if err != nil {
		return err
	}
	clients := db.NewClients(bdb)
	requestLogs := db.NewRequestLogStore(bdb)
	// The MCP servers (SPEC §18): registered ones from the database, stdio ones from the config.
	mcpStore := db.NewMCPServers(bdb)
	tools := mcpservers.New(mcpservers.Options{Store: mcpStore, Secrets: keyring, Stdio: stdioServers(cfg.MCP.Stdio),
		ToolTimeout: cfg.MCP.ToolTimeout, MaxResultBytes: cfg.MCP.MaxResultBytes, AllowPrivate: cfg.MCP.AllowPrivate,
		Logger: logger})
	defer tools.Close()
	if err := tools.Reload(ctx); err != nil {
		return err
	}
	storedResponses := db.NewResponses(bdb)
	deps := routes.Deps{
		Config:      cfg,
		DB:          bdb,
		Clients:     clients,
		AdminUsers:  users,
		Sessions:    db.NewAdminSessions(bdb),
		Tokens:      db.NewAdminTokens(bdb),
		Audit:       db.NewAuditLogs(bdb),
		Settings:    db.NewSettings(bdb),
		RequestLogs: requestLogs,
		Responses:   storedResponses,
		MCPServers:  mcpStore,
		MCP:         tools,
		Keyring:     keyring,
		Assets:      assets,
		Logger:      logger,
	}

	// Traces (otel.*): the tracer and propagator go to the gateway and the edge; off, both are nil.
	traces, err := newTracing(ctx, cfg.Otel)
	if err != nil {
		return err
	}
	tracesClosed := false
	defer func() {
		if !tracesClosed { // an early return below
			closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			traces.shutdown(closeCtx) //nolint:errcheck // nothing served, little to lose
		}
	}()

	// The gateway: key cache, limits, accounting and the providers. It reads clients and writes
	// usage through the stores above; the edge calls it, and every admin change to a client
	// reloads its key cache before the next request.
	// One registry for everything /metrics shows: the gateway's metrics and the process's own.
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	prices, err := pricing.Load(ctx, &http.Client{Timeout: 30 * time.Second}, cfg.Pricing.URL, time.Now())
	if prices == nil {
		return err
	}
	if err != nil {
		logger.Warn("price list", "err", err)
	}
	// Several instances (redis.url): limits, quotas, budgets and login throttling are shared
	// through Redis, and every change is announced to the other instances. Without it all of
	// this stays in this process's memory.
	var shared *cluster.Shared
	var clusterStats *cluster.Stats
	if cfg.Redis.Enabled() {
		// go-redis would log every failed dial to stderr on its own; the cluster logs Redis
		// failures itself, at most every few seconds.
		redislog.Disable()
		if shared, err = cluster.Open(ctx, cluster.Options{URL: cfg.Redis.URL, Prefix: cfg.Redis.Prefix,
			Timeout: cfg.Redis.Timeout, Registry: registry, Logger: logger}); err != nil {
			return err
		}
		defer shared.Close()
		clusterStats = shared.Stats()
	}
	opts := gateway.Options{
		Clients:       clients,
		Secrets:       keyring,
		Providers:     providerFactories(),
		HTTPClient:    providers.NewHTTPClient(),
		HeaderTimeout: cfg.Upstream.HeaderTimeout,
		IdleTimeout:   cfg.Upstream.IdleTimeout,
		Tracer:        traces.tracer,
		Propagator:    traces.propagator,
		Routing: gateway.Routing{Retries: cfg.Upstream.Retries, BackoffMax: cfg.Upstream.RetryBackoffMax,
			BreakerFailures: cfg.Upstream.Breaker.Failures, BreakerCooldown: cfg.Upstream.Breaker.Cooldown},
		Logs:          requestLogs,
		Usage:         db.NewUsageStore(bdb),
		Traffic:       requestLogs,
		Prices:        db.NewModelPrices(bdb),
		PriceTable:    prices,
		Registry:      registry,
		Logger:        logger,
		QueueSize:     cfg.Logs.QueueSize,
		StoreBodies:   cfg.Logs.StoreBodies,
		RetentionDays: cfg.Logs.RetentionDays,

		Responses:              storedResponses,
		ResponsesRetentionDays: cfg.Responses.RetentionDays,

		Tools:        tools,
		MaxToolSteps: cfg.MCP.MaxSteps,
	}
	useShared(&opts, shared, clusterStats)
	gw, err := gateway.New(opts)
	if err != nil {
		return err
	}
	if err := gw.Start(ctx); err != nil {
		return err
	}
	gatewayClosed := false
	defer func() {
		if !gatewayClosed { // an early return below: write what was accounted, briefly
			closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			gw.Close(closeCtx) //nolint:errcheck // nothing served, nothing to lose
		}
	}()
	deps.Gateway = gw
	deps.Registry = registry
	deps.Propagator = traces.propagator
	deps.ClientsChanged = gw.ReloadClients
	if shared != nil {
		free, base, maxLock, forget := routes.LoginPolicy()
		deps.LoginThrottle = shared.LoginThrottle(cluster.LoginPolicy{Free: free, BaseLock: base, MaxLock: maxLock, Forget: forget})
	}
	// Every upstream call descends from upstreamCtx, so the shutdown can end the ones still open
	// when its timeout runs out.
	upstreamCtx, cutUpstream := context.WithCancelCause(context.Background())
	defer cutUpstream(nil)
	deps.UpstreamContext = upstreamCtx
	// One hub feeds every open dashboard: the live numbers are rendered once per tick for all.
	hub := routes.NewHub(gw.Stats, requestLogs.Newest, logger)
	defer hub.Close()
	deps.Hub = hub

	app := routes.New(deps)

	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr(), err)
	}
	scheme := "http"
	if h := cfg.Server.HTTPS; h.Enabled {
		cert, err := tls.LoadX509KeyPair(h.CertFile, h.KeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server.https: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	// Survives running out of descriptors, cuts off clients that stop reading or never send a
	// byte, and on shutdown closes the connections that never sent a request.
	edge := routes.NewListener(ln, cfg.Server.WriteTimeout, logger)
	edge.FirstByteTimeout = cfg.Server.ReadTimeout
	ln = edge
	actualPort := ln.Addr().(*net.TCPAddr).Port
	if clusterStats != nil {
		// Every instance's dashboard shows this one from now on, named by host and port.
		host, _ := os.Hostname()
		clusterStats.Start(net.JoinHostPort(host, strconv.Itoa(actualPort)), gw.InFlight)
		defer clusterStats.Close()
	}
	fmt.Fprintf(stdout, "Admin UI: %s://%s/admin\n", scheme, net.JoinHostPort(browserHost(cfg.Server.Host), strconv.Itoa(actualPort)))
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, net.JoinHostPort(cfg.Server.Host, strconv.Itoa(actualPort)))

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Reverse order: stop accepting and let in-flight requests and streams finish, then write
	// the gateway's usage and request log; the database closes last (deferred).
	logger.Info("shutting down", "timeout", cfg.Server.ShutdownTimeout.String())
	deadline := time.Now().Add(cfg.Server.ShutdownTimeout)
	hub.Close() // open dashboards never finish by themselves; they reconnect to the next server
	if err := app.ShutdownWithTimeout(time.Until(deadline)); err != nil {
		// The timeout ran out with requests still open: end them now, each stream's client told
		// in-band, so what they used so far is accounted before the log is written below.
		logger.Warn("shutdown timeout reached; ending the requests still open", "in_flight", gw.Stats().InFlight, "error", err.Error())
		cutUpstream(shuttingDown{})
		waitCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := gw.WaitIdle(waitCtx); err != nil {
			logger.Error("requests still open after the shutdown timeout", "error", err.Error())
		}
		cancel()
	}
	// Shutdown only closes listeners the server has registered; if the signal came before the
	// serving goroutine got that far, closing the listener here is what makes it return.
	ln.Close()
	if err := <-served; err != nil {
		logger.Warn("http server", "error", err.Error())
	}
	// Accounting gets at least a few seconds even when the requests used up the whole timeout.
	flushCtx, cancel := context.WithDeadline(context.Background(), later(deadline, time.Now().Add(5*time.Second)))
	defer cancel()
	gatewayClosed = true
	if err := gw.Close(flushCtx); err != nil {
		logger.Error("write usage and request log", "error", err.Error())
	}
	// Every span has ended by now (Call.End); send what is still queued.
	tracesClosed = true
	if err := traces.shutdown(flushCtx); err != nil {
		logger.Error("send the last traces", "error", err.Error())
	}
	logger.Info("stopped")
	return nil
}

// shuttingDown is the cause given to the upstream calls cut when the shutdown timeout runs out.
// Every call that asks for it as a *providers.Error gets its own (providers fill in fields of
// the error they return, and one cause is shared by all the calls cut).
type shuttingDown struct{}

func (shuttingDown) Error() string { return "the gateway is shutting down; the answer was cut short" }

func (s shuttingDown) As(target any) bool {
	e, ok := target.(**providers.Error)
	if ok {
		*e = &providers.Error{Kind: providers.KindUnavailable, HTTPStatus: http.StatusServiceUnavailable, Message: s.Error()}
	}
	return ok
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// providerFactories maps every backend id of SPEC §5 to its wire protocol: the OpenAI protocol
// serves the Chat Completions vendors (each a preset), Anthropic and Gemini their own.
func providerFactories() map[string]gateway.ProviderFactory {
	m := map[string]gateway.ProviderFactory{
		"anthropic": func(c providers.Config) (providers.Provider, error) { return anthropic.New(c) },
		"gemini":    func(c providers.Config) (providers.Provider, error) { return gemini.New(c) },
	}
	for _, b := range openai.Backends() {
		m[b] = func(c providers.Config) (providers.Provider, error) { return openai.New(c) }
	}
	return m
}

// browserHost is the host to print in a URL someone can open: a wildcard address becomes localhost.
func browserHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "localhost"
	}
	return host
}

// stdioServers are the stdio MCP servers of the config, for the registry.
func stdioServers(list []gateway.StdioServer) []mcpservers.Stdio {
	out := make([]mcpservers.Stdio, 0, len(list))
	for _, s := range list {
		out = append(out, mcpservers.Stdio{Name: s.Name, Command: s.Command, Args: s.Args, Env: s.Env})
	}
	return out
}
