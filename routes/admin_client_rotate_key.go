package routes

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// clientRotateKeySubmit gives a client a new key (with the chosen prefix) and shows it, once.
// The old key stops working on the next request.
func (s *server) clientRotateKeySubmit(c *fiber.Ctx) error {
	id, err := clientID(c)
	if err != nil {
		return err
	}
	prefix := strings.TrimSpace(c.FormValue("key_prefix"))
	if prefix != "" && !db.ValidKeyPrefix(prefix) {
		return fieldErrors{"key_prefix": "must be one of gm_, sk-, sk-ant-"}
	}
	key, cl, err := s.Clients.RotateKey(c.UserContext(), id, prefix)
	if errors.Is(err, db.ErrNotFound) {
		return clientNotFound(id)
	}
	if err != nil {
		return err
	}
	if err := s.clientChanged(c, "client.rotate_key", id, "prefix="+cl.KeyPrefix); err != nil {
		return err
	}
	v := views.ClientKeyView{ClientID: cl.ID, ClientName: cl.Name, Key: key, Rotated: true}
	p := s.page(c, "New key", "clients")
	return render(c, fiber.StatusOK, views.ClientKeyPage(p, v), views.ClientKeyContent(p, v))
}
