package routes

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// clientActiveSubmit enables (active=true) or disables (active=false) a client, then returns
// to the page named by back (the list or the client's page).
func (s *server) clientActiveSubmit(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	active := c.FormValue("active") == "true"
	in := clientInput{Active: &active}
	changed, err := in.apply(cl, s.Keyring)
	if err != nil {
		return err
	}
	action, notice := "client.disable", "disabled"
	if active {
		action, notice = "client.enable", "enabled"
	}
	if len(changed) > 0 {
		if err := s.Clients.Update(c.UserContext(), cl); errors.Is(err, db.ErrNotFound) {
			return noSuch("client", cl.ID)
		} else if err != nil {
			return err
		}
		if err := s.clientChanged(c, action, cl.ID, "name="+cl.Name); err != nil {
			return err
		}
	}
	back := safeNext(c.FormValue("back"))
	if back == "" {
		back = "/admin/clients/" + strconv.FormatInt(cl.ID, 10)
	}
	return seeOther(c, withNotice(back, notice))
}
