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
	target := c.QueryInt("target", 0)
	backend := cl.Backend
	if target > 0 && target <= len(cl.Fallbacks) {
		backend = cl.Fallbacks[target-1].Backend
	}
	t := s.testTarget(c.UserContext(), cl, target)
	res := &views.ConnectionResult{OK: t.OK, Message: t.Message(backend)}
	if t.OK {
		res.Models = t.Models
		if len(res.Models) > testResultModels {
			res.Models, res.More = res.Models[:testResultModels], len(t.Models)-testResultModels
		}
	}
	f := s.clientFormView(cl)
	if c.FormValue("name") != "" { // the whole form came along: show it as typed
		form := parseClientForm(c)
		parseTargetsForm(c, cl, &form)
		f = withSubmitted(f, cl, form)
	}
	p := s.page(c, cl.Name, "clients")
	if target > 0 {
		for i := range f.Values.Fallbacks {
			if f.Values.Fallbacks[i].TestTarget() == target {
				f.Values.Fallbacks[i].Test = res
			}
		}
		return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.TargetTestResult(target, res))
	}
	f.Test = res
	return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.TestResult(res))
}
