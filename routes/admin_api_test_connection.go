package routes

import (
	"github.com/gofiber/fiber/v2"
)

// apiTestConnection answers POST /admin/api/v1/clients/{id}/test. It lists the backend's models
// with the client's saved settings (never a paid completion) and answers 200 either way:
// {"ok":true,"message","latency_ms","models":[…]} or {"ok":false,"message","error":{"message","code"}}.
// ?target=N tests the client's N-th fallback instead (SPEC §15).
func (s *server) apiTestConnection(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	target, backend := c.QueryInt("target", 0), cl.Backend
	if target > 0 && target <= len(cl.Fallbacks) {
		backend = cl.Fallbacks[target-1].Backend
	}
	t := s.testTarget(c.UserContext(), cl, target)
	out := fiber.Map{"ok": t.OK, "message": t.Message(backend), "latency_ms": t.Latency.Milliseconds()}
	if t.OK {
		out["models"] = t.Models
	} else {
		out["error"] = fiber.Map{"message": t.Err.Message, "code": adminErrorCode(t.Err)}
	}
	return c.JSON(out)
}
