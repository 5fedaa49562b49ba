package routes

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// clientDeletePage asks for confirmation before a client is deleted.
func (s *server) clientDeletePage(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	v := views.ClientDeleteView{ClientID: cl.ID, ClientName: cl.Name}
	p := s.page(c, "Delete "+cl.Name, "clients")
	return render(c, fiber.StatusOK, views.ClientDeletePage(p, v), views.ClientDeleteContent(p, v))
}

// clientDeleteSubmit deletes the client (its key stops working; its history stays).
func (s *server) clientDeleteSubmit(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	if err := s.Clients.Delete(c.UserContext(), cl.ID); errors.Is(err, db.ErrNotFound) {
		return noSuch("client", cl.ID)
	} else if err != nil {
		return err
	}
	if err := s.clientChanged(c, "client.delete", cl.ID, "name="+cl.Name); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/clients", "deleted"))
}
