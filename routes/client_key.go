package routes

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientKey finds the caller's gateway key in any of the places SDKs put it (SPEC §4):
// Authorization: Bearer (OpenAI, new Anthropic SDKs), x-api-key (Anthropic), x-goog-api-key and
// ?key= (Gemini), api-key (Azure). The first non-empty one wins.
func clientKey(c *fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
	}
	for _, name := range [...]string{"x-api-key", "x-goog-api-key", "api-key"} {
		if v := c.Get(name); v != "" {
			return strings.TrimSpace(v)
		}
	}
	return c.Query("key")
}
