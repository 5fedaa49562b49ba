package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

const dateTimeLayout = "2006-01-02 15:04 UTC"

// settingsPage shows the admin API tokens.
func (s *server) settingsPage(c *fiber.Ctx) error {
	tokens, err := s.Tokens.List(c.UserContext())
	if err != nil {
		return err
	}
	v := views.SettingsView{Tokens: make([]views.TokenRow, len(tokens))}
	for i, t := range tokens {
		row := views.TokenRow{ID: t.ID, Name: t.Name, Hint: t.Hint, Created: t.CreatedAt.UTC().Format(dateTimeLayout), LastUsed: "never"}
		if !t.LastUsedAt.IsZero() {
			row.LastUsed = t.LastUsedAt.UTC().Format(dateTimeLayout)
		}
		v.Tokens[i] = row
	}
	p := s.page(c, "Settings", "settings")
	return render(c, fiber.StatusOK, views.Settings(p, v), views.SettingsContent(p, v))
}
