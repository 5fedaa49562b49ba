package routes

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// clientUpdate answers PATCH /admin/api/v1/clients/{id}: only the fields in the body change.
// The key prefix changes only with rotate-key (it must match the key in use).
func (s *server) clientUpdate(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	var in clientInput
	if err := decodeJSON(c, &in, false); err != nil {
		return err
	}
	cl, err := s.Clients.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return noSuch("client", id)
	}
	if err != nil {
		return err
	}
	if in.KeyPrefix != nil && strings.TrimSpace(*in.KeyPrefix) != cl.KeyPrefix {
		return fieldErrors{"key_prefix": "changes only with a new key: POST /admin/api/v1/clients/{id}/rotate-key with {\"key_prefix\": …}"}
	}
	changed, err := in.apply(cl, s.Keyring)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		return c.JSON(toClientJSON(cl))
	}
	if err := s.Clients.Update(c.UserContext(), cl); errors.Is(err, db.ErrNotFound) {
		return noSuch("client", id)
	} else if err != nil {
		return err
	}
	if err := s.clientChanged(c, "client.update", id, "changed "+strings.Join(changed, ", ")); err != nil {
		return err
	}
	return c.JSON(toClientJSON(cl))
}
