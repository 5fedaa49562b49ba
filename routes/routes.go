// Package routes is the HTTP edge: the one route table, middleware, the admin pages and JSON API,
// and the front doors clients call. Handlers are small and one per action; they get everything
// they use from Deps.
package routes

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/static"
)

// MaxBodySize caps every request body (SPEC §11); larger bodies get 413.
const MaxBodySize = 10 << 20

// Deps is everything the handlers use. Config, DB, the stores, Keyring and Assets are required.
type Deps struct {
	Config *gateway.Config
	// DB is pinged by /readyz.
	DB *bun.DB

	Clients    *db.Clients
	AdminUsers *db.AdminUsers
	Sessions   *db.AdminSessions
	Tokens     *db.AdminTokens
	Audit      *db.AuditLogs
	Settings   *db.Settings
	// RequestLogs is read by the request history page.
	RequestLogs *db.RequestLogStore
	// Responses keeps the Responses API's stored responses; nil keeps none.
	Responses *db.Responses
	// MCPServers stores the registered MCP servers; MCP is the registry that runs their tools
	// (SPEC §18). Nil MCP: no MCP server page, and /mcp lists nothing.
	MCPServers *db.MCPServers
	MCP        *mcpservers.Registry
	// Keyring encrypts upstream keys before they are stored.
	Keyring *db.Keyring
	Assets  *static.Assets

	// Gateway is the policy engine behind the front doors (key cache, limits, accounting).
	Gateway *gateway.Gateway
	// Registry holds the metrics served on /metrics; nil serves none.
	Registry *prometheus.Registry

	// Logger receives the request log and every internal error; nil discards.
	Logger *slog.Logger
	// Now is the clock (sessions, login throttling); nil means time.Now.
	Now func() time.Time
	// Propagator reads a caller's trace context (W3C traceparent) when tracing is on (SPEC §19);
	// nil ignores it.
	Propagator propagation.TextMapPropagator
	// UpstreamContext is the parent of every upstream call: cancelling it with a cause (a
	// *providers.Error) ends the calls still running with that error, e.g. when the shutdown
	// timeout has run out. Nil means never cancelled.
	UpstreamContext context.Context
	// ClientsChanged runs after every admin change to a client (create, update, delete, key
	// rotation), so the gateway's key cache reloads before the next request. Nil is allowed.
	ClientsChanged func(context.Context) error
	// LoginThrottle, when set, shares the admin login throttle between instances (Redis);
	// nil keeps it in this instance's memory.
	LoginThrottle SharedLoginThrottle
	// Hub pushes the dashboard's live numbers to open dashboards; main builds it (NewHub) and
	// closes it at shutdown. Nil builds one over Gateway.Stats.
	Hub *Hub

	// wsPingEvery overrides how often open dashboards are pinged (tests).
	wsPingEvery time.Duration
	// passwordChecking runs inside a password check's slot, just before argon2id (tests).
	passwordChecking func()
}

// server holds the dependencies and the little state the edge keeps itself.
type server struct {
	Deps
	log      *slog.Logger
	now      func() time.Time
	throttle *loginThrottle
	// passwordSlots holds a token for every argon2id check running (see checkPassword).
	passwordSlots chan struct{}
	hub           *Hub
	// live holds the runtime settings (Prometheus, log retention, bodies) in force.
	live runtimeSettings
	// reveals hold new keys and tokens for the page that shows them once (admin_reveal.go).
	reveals reveals
	// trusted are the reverse proxies whose X-Forwarded-For names the client.
	trusted []netip.Prefix
}

// New builds the HTTP application with every route.
func New(d Deps) *fiber.App {
	s := &server{Deps: d, log: d.Logger, now: d.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.throttle = newLoginThrottle(s.now)
	s.throttle.shared = d.LoginThrottle
	s.passwordSlots = make(chan struct{}, passwordSlots)
	if d.Config != nil {
		s.trusted, _ = d.Config.Server.TrustedProxyPrefixes() // validated with the config
	}
	if s.UpstreamContext == nil {
		s.UpstreamContext = context.Background()
	}
	s.initSettings()
	s.hub = d.Hub
	if s.hub == nil {
		var newest func(context.Context) (int64, error)
		if s.RequestLogs != nil {
			newest = s.RequestLogs.Newest
		}
		s.hub = NewHub(s.stats, newest, s.log)
	}

	// A slow client is cut off (read timeout: from a request's first byte to the end of its
	// body; a new connection's first byte must come within it too, which the Listener bounds),
	// and open connections are capped; the write
	// side is bounded per write by the Listener (see listener.go), never per response, since a
	// stream may legally run for many minutes.
	edge := gateway.DefaultConfig().Server
	if d.Config != nil {
		edge = d.Config.Server
	}
	app := fiber.New(fiber.Config{
		AppName:        "ai-gateway",
		BodyLimit:      MaxBodySize,
		ReadBufferSize: 16 << 10, // request line + headers; larger → 431
		// The read buffer goes back to a pool once a request is read, instead of staying with
		// its connection: an open stream or an idle kept-alive connection holds none.
		ReduceMemoryUsage:     true,
		ReadTimeout:           edge.ReadTimeout,
		IdleTimeout:           2 * time.Minute,
		Concurrency:           edge.MaxConnections,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
	})
	// Headers that overflow the read buffer make fasthttp drop the request line before fiber sees
	// it; put the path back so the 431 comes in the front door's own error shape.
	onServerError := app.Server().ErrorHandler
	app.Server().ErrorHandler = func(ctx *fasthttp.RequestCtx, err error) {
		if p := headerOverflowPath(err); p != "" {
			ctx.Request.SetRequestURI(p)
		}
		onServerError(ctx, err)
	}

	// Every request, in this order: id first (so everything after can log it), then the headers
	// that must be on every response, then the access log (which also renders errors), then the
	// scrub of the upstream key from answers, then recovery from panics, then the body's
	// Content-Encoding undone (bounded) before any handler reads the body.
	app.Use(s.requestID, s.securityHeaders, s.accessLog, s.redactAnswer, s.recoverPanic, s.decodeBody)

	// Public.
	public := group{r: app}
	public.get("/", s.home)
	public.get("/favicon.svg", s.favicon)
	public.get("/favicon.ico", s.favicon)
	public.get("/healthz", s.healthz)
	public.get("/readyz", s.readyz)
	public.get(static.Prefix+":file", s.staticFile)
	public.get("/metrics", s.metricsHandler())

	// Front doors (SPEC §4): the client's gateway key, from any header an SDK puts it in, picks
	// the client; its policy runs in the gateway, and its backend answers in the caller's protocol.
	doors := group{r: app, read: []fiber.Handler{s.clientAuth}, write: []fiber.Handler{s.clientAuth}}
	doors.post("/v1/chat/completions", s.chatCompletions)
	doors.post("/chat/completions", s.chatCompletions)
	doors.get("/v1/models", s.listModels)
	doors.get("/v1/models/*", s.getModel)
	doors.post("/v1/embeddings", s.embeddings)
	doors.get("/v1/usage", s.usage)
	doors.post("/v1/responses", s.createResponse)
	doors.post("/v1/responses/input_tokens", s.responsesInputTokens)
	doors.post("/v1/responses/compact", s.compactResponse)
	doors.get("/v1/responses/:id", s.getResponse)
	doors.delete("/v1/responses/:id", s.deleteResponse)
	doors.get("/v1/responses/:id/input_items", s.responseInputItems)
	doors.post("/v1/responses/:id/cancel", s.responsesUnsupported)
	doors.post("/v1/messages", s.messages)
	doors.post("/v1/messages/count_tokens", s.countTokens)
	doors.get("/v1beta/models", s.geminiModels)
	doors.get("/v1beta/models/*", s.geminiModel)
	doors.post("/v1beta/models/*", s.geminiAction)
	// The gateway as one MCP server (SPEC §18): the client's allowed MCP tools, proxied.
	doors.post("/mcp", s.mcpEndpoint)
	doors.get("/mcp", s.mcpEndpoint)
	doors.delete("/mcp", s.mcpEndpoint)

	// Admin login: open (throttled, CSRF by cookie). The dashboard's live updates: a same-origin
	// WebSocket with a session, fed by the hub.
	public.get("/admin/login", s.loginPage)
	public.post("/admin/login", s.loginSubmit)
	app.Get("/admin/ws", s.wsGuard, websocket.New(s.dashboardSocket))

	// Admin pages: a session; state changes also the session's CSRF token. Every form works
	// without JavaScript; htmx only spares the reload.
	pages := group{r: app, read: []fiber.Handler{s.session}, write: []fiber.Handler{s.session, s.csrf}}
	pages.post("/admin/logout", s.logout)
	pages.get("/admin", s.dashboardPage)
	pages.get("/admin/clients", s.clientsPage)
	pages.get("/admin/clients/new", s.clientNewPage)
	pages.post("/admin/clients", s.clientCreateSubmit)
	pages.get("/admin/clients/:id", s.clientEditPage)
	pages.post("/admin/clients/:id", s.clientUpdateSubmit)
	pages.post("/admin/clients/:id/active", s.clientActiveSubmit)
	pages.post("/admin/clients/:id/rotate-key", s.clientRotateKeySubmit)
	pages.get("/admin/clients/:id/key", s.clientKeyPage)
	pages.post("/admin/clients/:id/test", s.clientTestConnectionSubmit)
	pages.post("/admin/clients/:id/fallbacks", s.clientFallbacksSubmit)
	pages.post("/admin/clients/:id/fetch-models", s.clientFetchModelsSubmit)
	pages.get("/admin/clients/:id/delete", s.clientDeletePage)
	pages.post("/admin/clients/:id/delete", s.clientDeleteSubmit)
	pages.get("/admin/requests", s.requestsPage)
	pages.get("/admin/requests.csv", s.requestsCSV)
	pages.get("/admin/requests/live", s.requestsLive)
	pages.get("/admin/requests/:id", s.requestDetailPage)
	pages.get("/admin/usage", s.usagePage)
	pages.get("/admin/prices", s.pricesPage)
	pages.post("/admin/prices", s.priceSubmit)
	pages.post("/admin/prices/delete", s.priceDeleteSubmit)
	pages.get("/admin/mcp", s.mcpPage)
	pages.post("/admin/mcp", s.mcpCreateSubmit)
	pages.post("/admin/mcp/test", s.mcpTestSubmit) // before /admin/mcp/:id
	pages.get("/admin/mcp/:id", s.mcpEditPage)
	pages.post("/admin/mcp/:id", s.mcpUpdateSubmit)
	pages.post("/admin/mcp/:id/delete", s.mcpDeleteSubmit)
	pages.get("/admin/settings", s.settingsPage)
	// A POST-only address opened with GET (a reload, a bookmark, the back button) leads to the
	// page its form is on instead of a 405.
	for _, action := range []string{"active", "rotate-key", "test", "fetch-models"} {
		pages.get("/admin/clients/:id/"+action, s.toClientPage)
	}
	pages.get("/admin/settings/:section", s.toSettingsSection)
	pages.post("/admin/settings/password", s.passwordChangeSubmit)
	pages.post("/admin/settings/tokens", s.tokenCreateSubmit)
	pages.post("/admin/settings/tokens/:id/revoke", s.tokenRevokeSubmit)
	pages.post("/admin/settings/prometheus", s.prometheusSubmit)
	pages.post("/admin/settings/logs", s.logsSubmit)
	pages.post("/admin/settings/:section/reset", s.settingsResetSubmit)

	// Admin JSON API (SPEC §8): Authorization: Bearer <admin token>, or the session cookie plus
	// X-CSRF-Token on state changes (apiAuth checks both).
	api := group{r: app, read: []fiber.Handler{s.apiAuth}, write: []fiber.Handler{s.apiAuth}}
	api.get("/admin/api/v1/clients", s.clientList)
	api.post("/admin/api/v1/clients", s.clientCreate)
	api.get("/admin/api/v1/clients/:id", s.clientGet)
	api.patch("/admin/api/v1/clients/:id", s.clientUpdate)
	api.delete("/admin/api/v1/clients/:id", s.clientDelete)
	api.post("/admin/api/v1/clients/:id/rotate-key", s.clientRotateKey)
	api.post("/admin/api/v1/clients/:id/test", s.apiTestConnection)
	api.post("/admin/api/v1/clients/:id/fetch-models", s.apiFetchModels)
	api.get("/admin/api/v1/mcp-servers", s.mcpServerList)
	api.post("/admin/api/v1/mcp-servers", s.mcpServerCreate)
	api.get("/admin/api/v1/mcp-servers/:id", s.mcpServerGet)
	api.patch("/admin/api/v1/mcp-servers/:id", s.mcpServerUpdate)
	api.delete("/admin/api/v1/mcp-servers/:id", s.mcpServerDelete)
	api.post("/admin/api/v1/mcp-servers/:id/test", s.mcpServerTest)
	api.get("/admin/api/v1/stats", s.apiStats)
	api.get("/admin/api/v1/requests", s.apiRequests)
	api.get("/admin/api/v1/usage", s.apiUsage)
	api.get("/admin/api/v1/prices", s.priceList)
	api.put("/admin/api/v1/prices", s.priceSet)
	api.delete("/admin/api/v1/prices", s.priceDelete)

	return app
}

// group is one audience's routes (SPEC §4, §7, §8) with its middleware, stated once: read runs
// before every GET handler, write before every state change.
type group struct {
	r           fiber.Router
	read, write []fiber.Handler
}

func (g group) get(path string, h fiber.Handler)    { g.r.Get(path, with(g.read, h)...) }
func (g group) post(path string, h fiber.Handler)   { g.r.Post(path, with(g.write, h)...) }
func (g group) patch(path string, h fiber.Handler)  { g.r.Patch(path, with(g.write, h)...) }
func (g group) put(path string, h fiber.Handler)    { g.r.Put(path, with(g.write, h)...) }
func (g group) delete(path string, h fiber.Handler) { g.r.Delete(path, with(g.write, h)...) }

func with(mw []fiber.Handler, h fiber.Handler) []fiber.Handler {
	return append(append(make([]fiber.Handler, 0, len(mw)+1), mw...), h)
}
