package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// requestsPage is the request history.
func (s *server) requestsPage(c *fiber.Ctx) error {
	p := s.page(c, "Requests", "requests")
	return render(c, fiber.StatusOK, views.Requests(p), views.RequestsContent(p))
}
