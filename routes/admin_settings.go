package routes

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// auditPageSize is how many audit entries the settings page shows at a time.
const auditPageSize = 50

// settingsPage shows the admin API tokens, the password form, the Prometheus and request log
// settings in force, and the audit log (?audit_before=ID pages back).
func (s *server) settingsPage(c *fiber.Ctx) error {
	before, _ := strconv.ParseInt(c.Query("audit_before"), 10, 64)
	v, err := s.settingsView(c.UserContext(), max(before, 0))
	if err != nil {
		return err
	}
	if id := c.Query("reveal"); id != "" {
		c.Set(fiber.HeaderCacheControl, "no-store")
		if r, ok := s.reveals.take(sessionOf(c).ID, id); ok {
			v.NewToken, v.NewTokenName = r.Secret, r.Name
		}
	}
	return s.renderSettings(c, fiber.StatusOK, v)
}

func (s *server) renderSettings(c *fiber.Ctx, status int, v views.SettingsView) error {
	p := s.page(c, "Settings", "settings")
	return render(c, status, views.Settings(p, v), views.SettingsContent(p, v))
}

// settingsView reads everything the settings page shows.
func (s *server) settingsView(ctx context.Context, auditBefore int64) (views.SettingsView, error) {
	var v views.SettingsView
	tokens, err := s.Tokens.List(ctx)
	if err != nil {
		return v, err
	}
	for _, t := range tokens {
		v.Tokens = append(v.Tokens, views.TokenRow{ID: t.ID, Name: t.Name, Hint: t.Hint,
			Created: shortTime(t.CreatedAt), LastUsed: shortTime(t.LastUsedAt)})
	}
	live := s.live.get()
	v.Prometheus = views.PrometheusForm{Enabled: live.Prometheus.Enabled, Username: live.Prometheus.Username,
		PasswordHint: db.Hint(live.Prometheus.Password)}
	v.Logs = views.LogsForm{RetentionDays: strconv.Itoa(live.RetentionDays), StoreBodies: live.StoreBodies}
	if v.Prometheus.Origins, v.Logs.Origins, err = s.settingOrigins(ctx, live); err != nil {
		return v, err
	}

	audit, err := s.Audit.List(ctx, auditPageSize+1, auditBefore)
	if err != nil {
		return v, err
	}
	if len(audit) > auditPageSize {
		audit = audit[:auditPageSize]
		v.AuditOlderURL = "/admin/settings?audit_before=" + strconv.FormatInt(audit[len(audit)-1].ID, 10) + "#audit"
	}
	v.AuditPaged = auditBefore > 0
	clients, err := s.Clients.List(ctx)
	if err != nil {
		return v, err
	}
	names := map[string]string{}
	for _, cl := range clients {
		names["client:"+strconv.FormatInt(cl.ID, 10)] = "client " + cl.Name
	}
	for _, t := range tokens {
		names["admin_token:"+strconv.FormatInt(t.ID, 10)] = "token " + t.Name
	}
	for _, a := range audit {
		v.Audit = append(v.Audit, views.AuditRow{Time: a.Time.UTC().Format("2006-01-02 15:04:05"), Actor: a.Actor,
			Action: a.Action, Target: auditTarget(a.Target, names), TargetID: a.Target, Detail: a.Detail})
	}
	return v, nil
}

// auditTarget names what an audit entry changed ("client:3" → "client billing-bot"), also once
// it is deleted ("deleted client 3").
func auditTarget(target string, names map[string]string) string {
	if name, ok := names[target]; ok {
		return name
	}
	kind, id, ok := strings.Cut(target, ":")
	if !ok {
		return target
	}
	switch kind {
	case "client":
		return "deleted client " + id
	case "admin_token":
		return "revoked token " + id
	}
	return target
}

// audit records an admin action by the caller.
func (s *server) audit(c *fiber.Ctx, action, target, detail string) error {
	return s.Audit.Add(c.UserContext(), &db.AuditLog{Actor: actorOf(c), Action: action, Target: target, Detail: detail})
}
