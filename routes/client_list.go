package routes

import (
	"github.com/gofiber/fiber/v2"
)

// clientList answers GET /admin/api/v1/clients: {"clients":[…]}, oldest first.
func (s *server) clientList(c *fiber.Ctx) error {
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]clientJSON, len(clients))
	for i := range clients {
		out[i] = toClientJSON(&clients[i])
	}
	return c.JSON(fiber.Map{"clients": out})
}
