package routes

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// logsSubmit saves the request log settings: retention (the next hourly retention run uses it)
// and whether bodies are stored (from the next request on).
func (s *server) logsSubmit(c *fiber.Ctx) error {
	raw := strings.TrimSpace(c.FormValue("retention_days"))
	storeBodies := c.FormValue("store_bodies") == "true"
	days, err := strconv.Atoi(raw)
	if err != nil || days < 0 || days > maxRetentionDays {
		v, verr := s.settingsView(c.UserContext(), 0)
		if verr != nil {
			return verr
		}
		v.Logs = views.LogsForm{RetentionDays: raw, StoreBodies: storeBodies, Errors: views.FieldErrors{
			"retention_days": "must be a whole number of days from 0 (keep forever) to " + strconv.Itoa(maxRetentionDays)}}
		return s.renderSettings(c, fiber.StatusUnprocessableEntity, v)
	}
	if err := s.saveSettings(c.UserContext(), map[string]string{
		settingRetentionDays: strconv.Itoa(days), settingStoreBodies: strconv.FormatBool(storeBodies),
	}); err != nil {
		return err
	}
	live := s.live.get()
	live.RetentionDays, live.StoreBodies = days, storeBodies
	s.applySettings(live)
	detail := "retention_days=" + strconv.Itoa(days) + " store_bodies=" + strconv.FormatBool(storeBodies)
	if err := s.audit(c, "settings.logs", "settings", detail); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/settings", "logs")+"#logs")
}
