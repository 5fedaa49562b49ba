package routes

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// clientFetchModelsSubmit fetches the backend's models into the client's model cache and shows
// the whitelist picker built from them, keeping what was ticked or typed. htmx gets the picker
// alone (it replaces #model-picker); a plain form post gets the whole page.
func (s *server) clientFetchModelsSubmit(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	form := parseClientForm(c)
	selected := []string(cl.ModelWhitelist)
	if c.FormValue("name") != "" || len(form.selected) > 0 {
		selected = form.selected
	}
	f := s.clientFormView(cl)
	if c.FormValue("name") != "" {
		f = withSubmitted(f, cl, form)
	}
	models, perr := s.fetchModels(c.UserContext(), cl)
	if perr != nil {
		f.Picker.Error = "Could not fetch models: " + perr.Message
	} else {
		f.Picker = modelPicker(cl.ID, models, selected, formatTime(s.now()))
		f.Picker.Message = "Fetched " + strconv.Itoa(len(models)) + " " + pluralWord(len(models), "model", "models") +
			" from " + cl.Backend + ". Tick the allowed ones and save."
		if err := s.clientChanged(c, "client.fetch_models", cl.ID, strconv.Itoa(len(models))+" models"); err != nil {
			return err
		}
	}
	p := s.page(c, cl.Name, "clients")
	return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.ModelPickerView(f.Picker, nil, true))
}
