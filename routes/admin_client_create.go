package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// clientCreateSubmit creates a client from the form and redirects to its key, shown once. With
// errors it shows the form again (422) with each error next to its field.
func (s *server) clientCreateSubmit(c *fiber.Ctx) error {
	form := parseClientForm(c)
	cl := newClientFromDefaults(s.Config.Defaults)
	cl.KeyPrefix = db.DefaultKeyPrefix
	if p := form.values.KeyPrefix; db.ValidKeyPrefix(p) {
		cl.KeyPrefix = p
	} else {
		form.bad["key_prefix"] = "must be one of gm_, sk-, sk-ant-"
	}
	if _, err := form.in.apply(cl, s.Keyring); err != nil {
		if err := mergeFieldErrors(form.bad, err); err != nil {
			return err
		}
	}
	if len(form.bad) > 0 {
		f := s.newClientFormView()
		f.Values = form.values
		f.Errors = views.FieldErrors(form.bad)
		f.Picker = modelPicker(0, nil, form.selected, "")
		p := s.page(c, "New client", "clients")
		return render(c, fiber.StatusUnprocessableEntity, views.ClientFormPage(p, f), views.ClientFormContent(p, f))
	}
	key, err := s.Clients.Create(c.UserContext(), cl)
	if err != nil {
		return err
	}
	if err := s.clientChanged(c, "client.create", cl.ID, "name="+cl.Name+" backend="+cl.Backend); err != nil {
		return err
	}
	return s.showKey(c, reveal{Secret: key, Name: cl.Name, ID: cl.ID})
}
