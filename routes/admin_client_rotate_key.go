package routes

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// clientRotateKeySubmit gives a client a new key (with the chosen prefix) and redirects to it,
// shown once. The old key stops working on the next request.
func (s *server) clientRotateKeySubmit(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	key, cl, err := s.rotateKey(c, id, c.FormValue("key_prefix"))
	if err != nil {
		return err
	}
	return s.showKey(c, reveal{Secret: key, Name: cl.Name, ID: cl.ID, Rotated: true})
}

// showKey answers a POST that made a client key with a redirect to the page that shows it.
func (s *server) showKey(c *fiber.Ctx, r reveal) error {
	id := s.reveals.put(sessionOf(c).ID, r)
	return seeOther(c, "/admin/clients/"+strconv.FormatInt(r.ID, 10)+"/key?reveal="+id)
}

// clientKeyPage shows a key just made, once: GET /admin/clients/:id/key?reveal=…. Opened again
// (a reload, the back button) it says the key is gone and how to get a new one.
func (s *server) clientKeyPage(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	r, ok := s.reveals.take(sessionOf(c).ID, c.Query("reveal"))
	if !ok || r.ID != id {
		cl, err := s.adminClient(c)
		if err != nil {
			return err
		}
		v := views.ClientKeyView{ClientID: cl.ID, ClientName: cl.Name, Gone: true}
		p := s.page(c, "Key shown once", "clients")
		return render(c, fiber.StatusOK, views.ClientKeyPage(p, v), views.ClientKeyContent(p, v))
	}
	title := "Client created"
	if r.Rotated {
		title = "New key"
	}
	v := views.ClientKeyView{ClientID: r.ID, ClientName: r.Name, Key: r.Secret, Rotated: r.Rotated, BaseURL: c.BaseURL()}
	p := s.page(c, title, "clients")
	return render(c, fiber.StatusOK, views.ClientKeyPage(p, v), views.ClientKeyContent(p, v))
}
