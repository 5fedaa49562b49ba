package routes

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

const (
	minPasswordLen = 12
	maxPasswordLen = 1024
)

// passwordChangeSubmit changes the admin's password after checking the current one through
// checkPassword, like the login form (a refused check is 429 with Retry-After). Every session
// of the account ends, and this browser gets a new one.
func (s *server) passwordChangeSubmit(c *fiber.Ctx) error {
	u := userOf(c)
	current, next, confirm := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("confirm_password")
	bad := fieldErrors{}
	status := fiber.StatusUnprocessableEntity
	_, err := s.checkPassword(c, u.Username, current)
	if r := asRefusal(c, err); r != nil {
		status = fiber.StatusTooManyRequests
		bad["current_password"] = "was not checked: " + strings.ToLower(r.message()[:1]) + r.message()[1:]
	} else if errors.Is(err, db.ErrBadCredentials) {
		bad["current_password"] = "is not your current password"
	} else if err != nil {
		return err
	}
	// Every field is checked, so one submission shows every error.
	switch n := utf8.RuneCountInString(next); {
	case n < minPasswordLen:
		bad["new_password"] = "must be at least " + strconv.Itoa(minPasswordLen) + " characters"
	case len(next) > maxPasswordLen:
		bad["new_password"] = "must be at most " + strconv.Itoa(maxPasswordLen) + " bytes"
	}
	if next != confirm {
		bad["confirm_password"] = "does not match the new password"
	}
	if len(bad) > 0 {
		v, err := s.settingsView(c.UserContext(), 0)
		if err != nil {
			return err
		}
		v.PasswordErrors = views.FieldErrors(bad)
		return s.renderSettings(c, status, v)
	}
	if err := s.AdminUsers.SetPassword(c.UserContext(), u.ID, next); err != nil {
		return err
	}
	if _, err := s.Sessions.DeleteUser(c.UserContext(), u.ID); err != nil {
		return err
	}
	now := s.now()
	value, _, err := s.Sessions.Create(c.UserContext(), u.ID, now, now.Add(sessionIdle))
	if err != nil {
		return err
	}
	s.setSessionCookie(c, value)
	if err := s.audit(c, "admin.password_change", "admin_user:"+strconv.FormatInt(u.ID, 10), "all sessions ended"); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/settings", "password"))
}
