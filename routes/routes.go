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

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
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
	// UpstreamContext is the parent of every upstream call: cancelling it with a cause (a
	// *providers.Error) ends the calls still running with that error, e.g. when the shutdown
	// timeout has run out. Nil means never cancelled.
	UpstreamContext context.Context
	// ClientsChanged runs after every admin change to a client (create, update, delete, key
	// rotation), so the gateway's key cache reloads before the next request. Nil is allowed.
	ClientsChanged func(context.Context) error
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
		s.hub = NewHub(s.stats, s.log)
	}

	// A slow client is cut off (read timeout: from a connection's accept, or a kept-alive one's
	// next byte, to the end of the request's body), and open connections are capped; the write
	// side is bounded per write by the Listener (see listener.go), never per response, since a
	// stream may legally run for many minutes.
	edge := gateway.DefaultConfig().Server
	if d.Config != nil {
		edge = d.Config.Server
	}
	app := fiber.New(fiber.Config{
		AppName:               "ai-gateway",
		BodyLimit:             MaxBodySize,
		ReadBufferSize:        16 << 10, // request line + headers; larger → 431
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
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get(static.Prefix+":file", s.staticFile)
	app.Get("/metrics", s.metricsHandler())

	// Front doors (SPEC §4): the client's gateway key, from any header an SDK puts it in, picks
	// the client; its policy runs in the gateway, and its backend answers in the caller's protocol.
	app.Post("/v1/chat/completions", s.chatCompletions)
	app.Post("/chat/completions", s.chatCompletions)
	app.Get("/v1/models", s.listModels)
	app.Get("/v1/models/*", s.getModel)
	app.Post("/v1/embeddings", s.embeddings)
	app.Get("/v1/usage", s.usage)
	app.Post("/v1/messages", s.messages)
	app.Post("/v1/messages/count_tokens", s.countTokens)
	app.Get("/v1beta/models", s.geminiModels)
	app.Get("/v1beta/models/*", s.geminiModel)
	app.Post("/v1beta/models/*", s.geminiAction)

	// Admin pages. Login is open (throttled, CSRF by cookie); everything else needs a session,
	// and state changes also the session's CSRF token. Every form works without JavaScript;
	// htmx only spares the reload.
	app.Get("/admin/login", s.loginPage)
	app.Post("/admin/login", s.loginSubmit)
	app.Post("/admin/logout", s.session, s.csrf, s.logout)
	app.Get("/admin", s.session, s.dashboardPage)
	// The dashboard's live updates: same-origin WebSocket with a session, fed by the hub.
	app.Get("/admin/ws", s.wsGuard, websocket.New(s.dashboardSocket))
	app.Get("/admin/clients", s.session, s.clientsPage)
	app.Get("/admin/clients/new", s.session, s.clientNewPage)
	app.Post("/admin/clients", s.session, s.csrf, s.clientCreateSubmit)
	app.Get("/admin/clients/:id", s.session, s.clientEditPage)
	app.Post("/admin/clients/:id", s.session, s.csrf, s.clientUpdateSubmit)
	app.Post("/admin/clients/:id/active", s.session, s.csrf, s.clientActiveSubmit)
	app.Post("/admin/clients/:id/rotate-key", s.session, s.csrf, s.clientRotateKeySubmit)
	app.Post("/admin/clients/:id/test", s.session, s.csrf, s.clientTestConnectionSubmit)
	app.Post("/admin/clients/:id/fallbacks", s.session, s.csrf, s.clientFallbacksSubmit)
	app.Post("/admin/clients/:id/fetch-models", s.session, s.csrf, s.clientFetchModelsSubmit)
	app.Get("/admin/clients/:id/delete", s.session, s.clientDeletePage)
	app.Post("/admin/clients/:id/delete", s.session, s.csrf, s.clientDeleteSubmit)
	app.Get("/admin/requests", s.session, s.requestsPage)
	app.Get("/admin/requests/:id", s.session, s.requestDetailPage)
	app.Get("/admin/settings", s.session, s.settingsPage)
	app.Post("/admin/settings/password", s.session, s.csrf, s.passwordChangeSubmit)
	app.Post("/admin/settings/tokens", s.session, s.csrf, s.tokenCreateSubmit)
	app.Post("/admin/settings/tokens/:id/revoke", s.session, s.csrf, s.tokenRevokeSubmit)
	app.Post("/admin/settings/prometheus", s.session, s.csrf, s.prometheusSubmit)
	app.Post("/admin/settings/logs", s.session, s.csrf, s.logsSubmit)

	// Admin JSON API (SPEC §8): Authorization: Bearer <admin token>, or the session cookie plus
	// X-CSRF-Token on state changes.
	app.Get("/admin/api/v1/clients", s.apiAuth, s.clientList)
	app.Post("/admin/api/v1/clients", s.apiAuth, s.clientCreate)
	app.Get("/admin/api/v1/clients/:id", s.apiAuth, s.clientGet)
	app.Patch("/admin/api/v1/clients/:id", s.apiAuth, s.clientUpdate)
	app.Delete("/admin/api/v1/clients/:id", s.apiAuth, s.clientDelete)
	app.Post("/admin/api/v1/clients/:id/rotate-key", s.apiAuth, s.clientRotateKey)
	app.Post("/admin/api/v1/clients/:id/test", s.apiAuth, s.apiTestConnection)
	app.Post("/admin/api/v1/clients/:id/fetch-models", s.apiAuth, s.apiFetchModels)
	app.Get("/admin/api/v1/stats", s.apiAuth, s.apiStats)
	app.Get("/admin/api/v1/requests", s.apiAuth, s.apiRequests)

	return app
}
