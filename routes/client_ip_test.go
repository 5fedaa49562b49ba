package routes

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	// fiber's app.Test connects from 0.0.0.0.
	tests := []struct {
		name, trusted string
		xff           []string
		want          string
	}{
		{"no trusted proxies: the peer, whatever the header says", "", []string{"203.0.113.9"}, "0.0.0.0"},
		{"an untrusted peer's header is ignored", "10.0.0.0/8", []string{"203.0.113.9"}, "0.0.0.0"},
		{"trusted peer: the address it appended", "0.0.0.0", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's own entry at the left is not believed", "0.0.0.0", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies is walked back", "0.0.0.0, 10.0.0.0/8", []string{"198.51.100.1, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"repeated headers read as one list", "0.0.0.0, 10.0.0.0/8", []string{"203.0.113.9", "10.1.2.3"}, "203.0.113.9"},
		{"garbage stops the walk at the last vouched address", "0.0.0.0, 10.0.0.0/8", []string{"nonsense, 10.1.2.3"}, "10.1.2.3"},
		{"IPv6", "0.0.0.0", []string{"2001:db8::1"}, "2001:db8::1"},
		{"no header from a trusted proxy: the proxy", "0.0.0.0", nil, "0.0.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			cfg.Server.TrustedProxies = tt.trusted
			s := &server{Deps: Deps{Config: cfg}}
			s.trusted, _ = cfg.Server.TrustedProxyPrefixes()
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString(s.clientIP(c)) })
			req := httptest.NewRequest("GET", "/", nil)
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			resp, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if string(got) != tt.want {
				t.Errorf("client IP %q, want %q", got, tt.want)
			}
		})
	}
}
