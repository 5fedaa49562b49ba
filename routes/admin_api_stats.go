package routes

import (
	"github.com/gofiber/fiber/v2"
)

// apiStats answers GET /admin/api/v1/stats with the dashboard's numbers: today's totals,
// in-flight requests, requests per second, the last hour and day, and today's totals per client
// and per model (gateway.Snapshot).
func (s *server) apiStats(c *fiber.Ctx) error {
	return c.JSON(s.stats())
}
