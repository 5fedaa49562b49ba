package routes

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// clientDelete answers DELETE /admin/api/v1/clients/{id} with 204; the key stops working on the
// next request. Usage history stays.
func (s *server) clientDelete(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	cl, err := s.Clients.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return noSuch("client", id)
	}
	if err != nil {
		return err
	}
	if err := s.Clients.Delete(c.UserContext(), id); errors.Is(err, db.ErrNotFound) {
		return noSuch("client", id)
	} else if err != nil {
		return err
	}
	if err := s.clientChanged(c, "client.delete", id, "name="+cl.Name); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
