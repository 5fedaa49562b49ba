package routes

import (
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// loginCSRFCookie protects the login form itself (there is no session yet): the form's hidden
// token must equal this cookie, which another site can neither read nor set.
const loginCSRFCookie = "aigw_login_csrf"

// loginPage shows the login form; a browser that is already logged in goes to the dashboard.
func (s *server) loginPage(c *fiber.Ctx) error {
	if _, err := s.loadSession(c); err == nil {
		return c.Redirect("/admin", fiber.StatusSeeOther)
	}
	l := views.Login{Next: safeNext(c.Query("next"))}
	switch {
	case c.Query("logged_out") != "":
		l.Notice = "You have been logged out."
	case c.Query("expired") != "":
		l.Notice = "Your session expired. Please log in again."
	}
	return s.renderLogin(c, fiber.StatusOK, l)
}

// loginSubmit checks the password through checkPassword (throttled per IP and per username,
// bounded in how many run at once) and starts a session on success. A refused check is the
// login page again with 429, its reason and Retry-After.
func (s *server) loginSubmit(c *fiber.Ctx) error {
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	l := views.Login{Username: username, Next: safeNext(c.FormValue("next"))}

	cookie := c.Cookies(loginCSRFCookie)
	form := c.FormValue(formCSRF)
	if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) != 1 {
		l.Error = "The login form expired. Please try again."
		return s.renderLogin(c, fiber.StatusForbidden, l)
	}

	u, err := s.checkPassword(c, username, password)
	if r := asRefusal(c, err); r != nil {
		l.Error = r.message()
		return s.renderLogin(c, fiber.StatusTooManyRequests, l)
	}
	if errors.Is(err, db.ErrBadCredentials) {
		s.log.Warn("admin login failed", "request_id", requestIDOf(c), "username", username, "ip", s.clientIP(c))
		l.Error = "Invalid username or password."
		return s.renderLogin(c, fiber.StatusUnauthorized, l)
	}
	if err != nil {
		return err
	}

	now := s.now()
	value, _, err := s.Sessions.Create(c.UserContext(), u.ID, now, now.Add(sessionIdle))
	if err != nil {
		return err
	}
	s.setSessionCookie(c, value)
	c.Cookie(&fiber.Cookie{Name: loginCSRFCookie, Path: "/admin/login", MaxAge: -1, Expires: time.Unix(0, 0),
		HTTPOnly: true, Secure: s.Config.Server.HTTPS.Enabled, SameSite: fiber.CookieSameSiteLaxMode})
	if err := s.Audit.Add(c.UserContext(), &db.AuditLog{Actor: u.Username, Action: "admin.login",
		Target: "admin_user:" + strconv.FormatInt(u.ID, 10), Detail: "from " + s.clientIP(c)}); err != nil {
		return err
	}
	next := l.Next
	if next == "" {
		next = "/admin"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// renderLogin renders the form with a login CSRF token, reusing the browser's cookie when it has
// one so several open tabs keep working.
func (s *server) renderLogin(c *fiber.Ctx, status int, l views.Login) error {
	token := c.Cookies(loginCSRFCookie)
	if len(token) < 32 {
		token = db.RandomString(43)
	} else {
		token = strings.Clone(token)
	}
	c.Cookie(&fiber.Cookie{
		Name: loginCSRFCookie, Value: token, Path: "/admin/login", MaxAge: int(sessionIdle / time.Second),
		HTTPOnly: true, Secure: s.Config.Server.HTTPS.Enabled, SameSite: fiber.CookieSameSiteLaxMode,
	})
	l.CSRFToken = token
	l.Assets = s.viewAssets()
	return render(c, status, views.LoginPage(l), nil)
}

// safeNext keeps a post-login target only when it is an admin page on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "/admin/login") || strings.HasPrefix(next, "/admin/api/") {
		return ""
	}
	if next != "/admin" && !strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "/admin?") {
		return ""
	}
	return strings.Clone(next)
}
