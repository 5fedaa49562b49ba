package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// clientRotateKeySubmit gives a client a new key (with the chosen prefix) and shows it, once.
// The old key stops working on the next request.
func (s *server) clientRotateKeySubmit(c *fiber.Ctx) error {
	id, err := clientID(c)
	if err != nil {
		return err
	}
	key, cl, err := s.rotateKey(c, id, c.FormValue("key_prefix"))
	if err != nil {
		return err
	}
	v := views.ClientKeyView{ClientID: cl.ID, ClientName: cl.Name, Key: key, Rotated: true}
	p := s.page(c, "New key", "clients")
	return render(c, fiber.StatusOK, views.ClientKeyPage(p, v), views.ClientKeyContent(p, v))
}
