package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// clientEditPage shows every setting of a client, its key hint, today's usage and its actions.
func (s *server) clientEditPage(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	f := s.clientFormView(cl)
	p := s.page(c, cl.Name, "clients")
	return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.ClientFormContent(p, f))
}
