package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// clientsPage lists the clients with today's usage against their quotas.
func (s *server) clientsPage(c *fiber.Ctx) error {
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	v := views.ClientsView{Rows: make([]views.ClientRow, len(clients))}
	for i, cl := range clients {
		v.Rows[i] = views.ClientRow{ID: cl.ID, Name: cl.Name, Description: cl.Description, Backend: cl.Backend,
			DefaultModel: cl.DefaultModel, KeyPrefix: cl.KeyPrefix, KeyHint: cl.KeyHint, Active: cl.Active,
			Usage: s.usageMeters(cl.ID), LastUsed: formatTime(cl.LastUsedAt)}
	}
	p := s.page(c, "Clients", "clients")
	return render(c, fiber.StatusOK, views.Clients(p, v), views.ClientsContent(p, v))
}
