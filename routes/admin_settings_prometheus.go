package routes

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

const minMetricsPasswordLen = 12

// prometheusSubmit saves the /metrics settings; the next scrape uses them. An empty password
// field keeps the password in use.
func (s *server) prometheusSubmit(c *fiber.Ctx) error {
	enabled := c.FormValue("enabled") == "true"
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	live := s.live.get()
	bad := fieldErrors{}
	switch {
	case username == "" && enabled:
		bad["username"] = "is required while /metrics is on"
	case textError(username, false) != "":
		bad["username"] = textError(username, false)
	case strings.Contains(username, ":"):
		bad["username"] = "must not contain a colon (HTTP Basic auth)"
	case len(username) > 100:
		bad["username"] = "must be at most 100 characters"
	}
	switch {
	case password != "" && utf8.RuneCountInString(password) < minMetricsPasswordLen:
		bad["password"] = "must be at least " + strconv.Itoa(minMetricsPasswordLen) + " characters"
	case len(password) > maxPasswordLen:
		bad["password"] = "must be at most " + strconv.Itoa(maxPasswordLen) + " bytes"
	case password == "" && enabled && live.Prometheus.Password == "":
		bad["password"] = "is required while /metrics is on"
	}
	if len(bad) > 0 {
		v, err := s.settingsView(c.UserContext(), 0)
		if err != nil {
			return err
		}
		v.Prometheus.Enabled, v.Prometheus.Username = enabled, username
		v.Prometheus.Errors = views.FieldErrors(bad)
		return s.renderSettings(c, fiber.StatusUnprocessableEntity, v)
	}
	username = strings.Clone(username)
	kv := map[string]string{settingPrometheusEnabled: strconv.FormatBool(enabled), settingPrometheusUsername: username}
	detail := "enabled=" + strconv.FormatBool(enabled) + " username=" + username
	if password != "" {
		sealed, err := s.sealSecret(password)
		if err != nil {
			return err
		}
		kv[settingPrometheusPassword] = sealed
		live.Prometheus.Password = strings.Clone(password)
		detail += " password changed"
	}
	if err := s.saveSettings(c.UserContext(), kv); err != nil {
		return err
	}
	live.Prometheus.Enabled, live.Prometheus.Username = enabled, username
	s.applySettings(live)
	if err := s.audit(c, "settings.prometheus", "settings", detail); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/settings", "prometheus")+"#prometheus")
}
