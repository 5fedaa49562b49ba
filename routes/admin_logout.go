package routes

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// logout ends the session on the server (the cookie alone would not) and clears the cookie.
func (s *server) logout(c *fiber.Ctx) error {
	sess, u := sessionOf(c), userOf(c)
	if err := s.Sessions.Delete(c.UserContext(), sess.ID); err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	s.clearSessionCookie(c)
	if err := s.Audit.Add(c.UserContext(), &db.AuditLog{Actor: u.Username, Action: "admin.logout",
		Target: "admin_user:" + strconv.FormatInt(u.ID, 10)}); err != nil {
		return err
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", "/admin/login?logged_out=1")
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect("/admin/login?logged_out=1", fiber.StatusSeeOther)
}
