package routes

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// clientGet answers GET /admin/api/v1/clients/{id}.
func (s *server) clientGet(c *fiber.Ctx) error {
	id, err := clientID(c)
	if err != nil {
		return err
	}
	cl, err := s.Clients.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return clientNotFound(id)
	}
	if err != nil {
		return err
	}
	return c.JSON(toClientJSON(cl))
}
