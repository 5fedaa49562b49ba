package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/providers"
)

// serveBareProxy serves the floor the gateway is measured against: the same HTTP server and
// upstream transport as the gateway, and nothing else (no auth, limits, rewriting, accounting
// or logging). What it adds over direct is what any proxy process costs on this machine.
func serveBareProxy(upstream string) error {
	client := providers.NewHTTPClient()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/v1/chat/completions", func(c *fiber.Ctx) error {
		req, err := http.NewRequestWithContext(c.Context(), http.MethodPost, upstream+"/v1/chat/completions", bytes.NewReader(c.Body()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, resp.Header.Get("Content-Type"))
		return c.Status(resp.StatusCode).Send(b)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println("http://" + ln.Addr().String())
	return app.Listener(ln)
}
