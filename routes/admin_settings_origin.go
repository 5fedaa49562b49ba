package routes

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/views"
)

// settingSections are the Settings page's sections whose values may override the
// configuration, with their settings-table keys.
var settingSections = map[string][]string{
	"prometheus": {settingPrometheusEnabled, settingPrometheusUsername, settingPrometheusPassword},
	"logs":       {settingRetentionDays, settingStoreBodies},
}

// settingOrigins describes each setting of the Prometheus and log sections: the value in force
// and whether it was saved on the Settings page (which overrides config.yaml and AIGW_*).
func (s *server) settingOrigins(ctx context.Context, live liveSettings) (prom, logs []views.SettingOrigin, err error) {
	saved := map[string]string{}
	if s.Settings != nil {
		if saved, err = s.Settings.All(ctx); err != nil {
			return nil, nil, err
		}
	}
	cfg := s.Config.Prometheus
	secret := func(pw string) string {
		if pw == "" {
			return "(none)"
		}
		return "…" + db.Hint(pw)
	}
	origin := func(key, inForce, fromConfig string) views.SettingOrigin {
		_, ok := saved[key]
		return views.SettingOrigin{Key: key, Env: gateway.EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
			InForce: inForce, ConfigValue: fromConfig, Saved: ok}
	}
	prom = []views.SettingOrigin{
		origin(settingPrometheusEnabled, strconv.FormatBool(live.Prometheus.Enabled), strconv.FormatBool(cfg.Enabled)),
		origin(settingPrometheusUsername, live.Prometheus.Username, cfg.Username),
		origin(settingPrometheusPassword, secret(live.Prometheus.Password), secret(cfg.Password)),
	}
	logs = []views.SettingOrigin{
		origin(settingRetentionDays, strconv.Itoa(live.RetentionDays), strconv.Itoa(s.Config.Logs.RetentionDays)),
		origin(settingStoreBodies, strconv.FormatBool(live.StoreBodies), strconv.FormatBool(s.Config.Logs.StoreBodies)),
	}
	return prom, logs, nil
}

// settingsResetSubmit drops what the Settings page saved for a section: the configuration's
// values apply again, now and after a restart.
func (s *server) settingsResetSubmit(c *fiber.Ctx) error {
	section := c.Params("section")
	keys, ok := settingSections[section]
	if !ok {
		return fiber.ErrNotFound
	}
	if err := s.Settings.Delete(c.UserContext(), keys...); err != nil {
		return err
	}
	s.settingsChanged(c.UserContext())
	s.applySettings(s.loadSettings(c.UserContext()))
	if err := s.audit(c, "settings."+section+".reset", "settings", "the configuration's values apply"); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/settings", section)+"#"+section)
}
