package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// clientNewPage is the empty client form, filled with the config's default limits.
func (s *server) clientNewPage(c *fiber.Ctx) error {
	cl := newClientFromDefaults(s.Config.Defaults)
	cl.KeyPrefix = db.DefaultKeyPrefix
	cl.Backend = "openai"
	f := s.newClientFormView()
	f.Values = clientValues(cl)
	p := s.page(c, "New client", "clients")
	return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.ClientFormContent(p, f))
}
