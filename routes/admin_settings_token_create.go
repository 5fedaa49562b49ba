package routes

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

const maxTokenNameLen = 100

// tokenCreateSubmit makes an admin API token and shows it, once.
func (s *server) tokenCreateSubmit(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	bad := fieldErrors{}
	switch {
	case name == "":
		bad["name"] = "give the token a name, e.g. what will use it"
	case textError(name, false) != "":
		bad["name"] = textError(name, false)
	case len(name) > maxTokenNameLen:
		bad["name"] = "must be at most " + strconv.Itoa(maxTokenNameLen) + " characters"
	}
	if len(bad) > 0 {
		v, err := s.settingsView(c.UserContext(), 0)
		if err != nil {
			return err
		}
		v.TokenErrors = views.FieldErrors(bad)
		return s.renderSettings(c, fiber.StatusUnprocessableEntity, v)
	}
	name = strings.Clone(name)
	tok, t, err := s.Tokens.Create(c.UserContext(), name)
	if err != nil {
		return err
	}
	if err := s.audit(c, "admin_token.create", "admin_token:"+strconv.FormatInt(t.ID, 10), "name="+name); err != nil {
		return err
	}
	// Shown once, on the settings page the redirect opens (settingsPage takes it).
	id := s.reveals.put(sessionOf(c).ID, reveal{Secret: tok, Name: name, ID: t.ID})
	return seeOther(c, "/admin/settings?reveal="+id+"#tokens")
}
