package routes

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// clientUpdateSubmit saves the client form. With errors nothing is saved and the form comes back
// (422) as it was typed, each error next to its field.
func (s *server) clientUpdateSubmit(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	view := s.clientFormView(cl) // before apply changes cl
	form := parseClientForm(c)
	parseTargetsForm(c, cl, &form)
	changed, err := form.in.apply(cl, s.Keyring)
	if err != nil {
		if err := mergeFieldErrors(form.bad, err); err != nil {
			return err
		}
	}
	if len(form.bad) > 0 {
		f := withSubmitted(view, cl, form)
		f.Errors = views.FieldErrors(form.bad)
		p := s.page(c, view.Values.Name, "clients")
		return render(c, fiber.StatusUnprocessableEntity, views.ClientFormPage(p, f), views.ClientFormContent(p, f))
	}
	if len(changed) > 0 {
		if err := s.Clients.Update(c.UserContext(), cl); errors.Is(err, db.ErrNotFound) {
			return noSuch("client", cl.ID)
		} else if err != nil {
			return err
		}
		if err := s.clientChanged(c, "client.update", cl.ID, "changed "+strings.Join(changed, ", ")); err != nil {
			return err
		}
	}
	return seeOther(c, withNotice("/admin/clients/"+strconv.FormatInt(cl.ID, 10), "saved"))
}
