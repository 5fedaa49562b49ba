package routes

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// metricsHandler serves /metrics from the gateway's registry behind HTTP Basic auth (SPEC §9).
// It is 404 while Prometheus is disabled, so a scraper can't tell a disabled endpoint from none.
func (s *server) metricsHandler() fiber.Handler {
	h := adaptor.HTTPHandler(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		p := s.prometheus()
		if !p.Enabled || s.Registry == nil {
			return fiber.ErrNotFound
		}
		if !basicAuthOK(c.Get(fiber.HeaderAuthorization), p.Username, p.Password) {
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="metrics"`)
			return &gateway.Refusal{Kind: providers.KindAuth, Message: "metrics need HTTP Basic auth"}
		}
		return h(c)
	}
}

// basicAuthOK compares credentials in constant time; an empty configured password never matches.
func basicAuthOK(header, user, pass string) bool {
	const prefix = "Basic "
	if pass == "" || len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(header[len(prefix):])
	if err != nil {
		return false
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	uh, ph := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
	wu, wp := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(uh[:], wu[:])&subtle.ConstantTimeCompare(ph[:], wp[:]) == 1
}

// prometheus is the /metrics setting in force: config.yaml, overridden from the Settings page.
func (s *server) prometheus() gateway.PrometheusConfig { return s.live.get().Prometheus }
