package routes

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

const (
	// sessionCookie holds the random session value; only its SHA-256 is stored.
	sessionCookie = "aigw_session"
	// sessionIdle ends a session not used for this long; sessionMaxAge ends any session.
	sessionIdle   = 12 * time.Hour
	sessionMaxAge = 7 * 24 * time.Hour
	// touchEvery limits last-seen writes to one per session per minute.
	touchEvery = time.Minute
	// headerCSRF carries the session's CSRF token on htmx and JSON requests.
	headerCSRF = "X-CSRF-Token"
	// formCSRF carries it in HTML forms.
	formCSRF = "csrf_token"
)

func sessionOf(c *fiber.Ctx) *db.AdminSession {
	sess, _ := c.Locals(localSession).(*db.AdminSession)
	return sess
}

func userOf(c *fiber.Ctx) *db.AdminUser {
	u, _ := c.Locals(localUser).(*db.AdminUser)
	return u
}

func actorOf(c *fiber.Ctx) string {
	a, _ := c.Locals(localActor).(string)
	return a
}

// loadSession finds the caller's live session and its user, slides its expiry, and stores both
// in Locals. It returns db.ErrNotFound when there is none.
func (s *server) loadSession(c *fiber.Ctx) (*db.AdminSession, error) {
	sess, err := s.Sessions.Lookup(c.UserContext(), c.Cookies(sessionCookie), s.now())
	if err != nil {
		return nil, err
	}
	u, err := s.AdminUsers.Get(c.UserContext(), sess.UserID)
	if err != nil {
		return nil, err // a deleted user's session is not a session
	}
	now := s.now()
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		expires := now.Add(sessionIdle)
		if limit := sess.CreatedAt.Add(sessionMaxAge); expires.After(limit) {
			expires = limit
		}
		if err := s.Sessions.Touch(c.UserContext(), sess.ID, now, expires); err != nil {
			return nil, err
		}
		sess.LastSeenAt, sess.ExpiresAt = now, expires
	}
	c.Locals(localSession, sess)
	c.Locals(localUser, u)
	c.Locals(localActor, u.Username)
	return sess, nil
}

// session guards admin pages: without a live session a browser is sent to the login page (an
// htmx request is told to go there with HX-Redirect).
func (s *server) session(c *fiber.Ctx) error {
	_, err := s.loadSession(c)
	if errors.Is(err, db.ErrNotFound) {
		target := "/admin/login"
		if c.Cookies(sessionCookie) != "" {
			target += "?expired=1"
			s.clearSessionCookie(c)
		} else if c.Method() == fiber.MethodGet && c.Path() != "/admin" {
			target += "?next=" + url.QueryEscape(c.Path())
		}
		if c.Get("HX-Request") == "true" {
			c.Set("HX-Redirect", target)
			return c.SendStatus(fiber.StatusUnauthorized)
		}
		return c.Redirect(target, fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Next()
}

// csrf requires the session's CSRF token in the X-CSRF-Token header or the csrf_token form field.
func (s *server) csrf(c *fiber.Ctx) error {
	sess := sessionOf(c)
	if sess == nil || !csrfMatches(c, sess.CSRFToken) {
		return &gateway.Refusal{Kind: providers.KindPermission, Code: "csrf",
			Message: "missing or invalid CSRF token; reload the page and try again"}
	}
	return c.Next()
}

func csrfMatches(c *fiber.Ctx, want string) bool {
	got := c.Get(headerCSRF)
	if got == "" {
		got = c.FormValue(formCSRF)
	}
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// apiAuth guards the admin JSON API. An Authorization header must hold a valid admin token (no
// fallback to the cookie when it does not). Otherwise the session cookie is used, and a state
// change must carry the session's CSRF token in X-CSRF-Token.
func (s *server) apiAuth(c *fiber.Ctx) error {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return &gateway.Refusal{Kind: providers.KindAuth, Code: "unauthorized",
				Message: "the Authorization header must be \"Bearer <admin token>\""}
		}
		t, err := s.Tokens.Lookup(c.UserContext(), strings.TrimSpace(token))
		if errors.Is(err, db.ErrNotFound) {
			return &gateway.Refusal{Kind: providers.KindAuth, Code: "unauthorized", Message: "invalid admin token"}
		}
		if err != nil {
			return err
		}
		if now := s.now(); now.Sub(t.LastUsedAt) >= touchEvery {
			if err := s.Tokens.Touch(c.UserContext(), t.ID, now); err != nil {
				return err
			}
		}
		c.Locals(localActor, "token:"+t.Name)
		return c.Next()
	}
	sess, err := s.loadSession(c)
	if errors.Is(err, db.ErrNotFound) {
		return &gateway.Refusal{Kind: providers.KindAuth, Code: "unauthorized",
			Message: "authentication required: send \"Authorization: Bearer <admin token>\" or log in"}
	}
	if err != nil {
		return err
	}
	if !safeMethod(c.Method()) && !csrfMatches(c, sess.CSRFToken) {
		return &gateway.Refusal{Kind: providers.KindPermission, Code: "csrf",
			Message: "missing or invalid X-CSRF-Token header for a session-authenticated change"}
	}
	return c.Next()
}

func (s *server) setSessionCookie(c *fiber.Ctx, value string) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   int(sessionMaxAge / time.Second),
		HTTPOnly: true,
		Secure:   s.Config.Server.HTTPS.Enabled,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (s *server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
		HTTPOnly: true,
		Secure:   s.Config.Server.HTTPS.Enabled,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}
