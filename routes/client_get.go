package routes

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// clientGet answers GET /admin/api/v1/clients/{id}.
func (s *server) clientGet(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	cl, err := s.Clients.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return noSuch("client", id)
	}
	if err != nil {
		return err
	}
	return c.JSON(toClientJSON(cl))
}
