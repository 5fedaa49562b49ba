package routes

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers while the process serves: liveness.
func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 only when the database is reachable: readiness.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		s.log.Warn("readiness check failed", "request_id", requestIDOf(c), "error", err.Error())
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": "database unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
