package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// testResultModels is how many models Test Connection lists on the page.
const testResultModels = 30

// clientTestConnectionSubmit runs Test Connection. htmx gets the result alone (it replaces
// #test-result); a plain form post gets the client page again, with what was typed kept.
func (s *server) clientTestConnectionSubmit(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	t := s.testConnection(c.UserContext(), cl)
	res := &views.ConnectionResult{OK: t.OK, Message: t.Message(cl.Backend)}
	if t.OK {
		res.Models = t.Models
		if len(res.Models) > testResultModels {
			res.Models, res.More = res.Models[:testResultModels], len(t.Models)-testResultModels
		}
	}
	f := s.clientFormView(cl)
	if c.FormValue("name") != "" { // the whole form came along: show it as typed
		f = withSubmitted(f, cl, parseClientForm(c))
	}
	f.Test = res
	p := s.page(c, cl.Name, "clients")
	return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.TestResult(res))
}
