package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// dashboardPage is the admin home.
func (s *server) dashboardPage(c *fiber.Ctx) error {
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	d := views.DashboardView{Clients: len(clients)}
	for _, cl := range clients {
		if cl.Active {
			d.ActiveClients++
		}
	}
	p := s.page(c, "Dashboard", "dashboard")
	return render(c, fiber.StatusOK, views.Dashboard(p, d), views.DashboardContent(p, d))
}
