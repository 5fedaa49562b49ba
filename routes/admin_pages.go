package routes

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// dateTimeLayout is how the admin pages show a moment (always UTC).
const dateTimeLayout = "2006-01-02 15:04 UTC"

// formatTime shows t in UTC, or "never" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(dateTimeLayout)
}

// shortTime is formatTime without the zone, for tables whose header says UTC.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// notices are the confirmations a page shows after a redirect (?notice=saved). Only these
// fixed texts are shown, so the query string cannot put words on the page.
func noticeText(code string) string {
	switch code {
	case "saved":
		return "Changes saved. They apply from the next request."
	case "deleted":
		return "Client deleted. Its key no longer works."
	case "enabled":
		return "Client enabled. Its key works again."
	case "disabled":
		return "Client disabled. Its key is refused from the next request."
	case "password":
		return "Password changed. Other browsers were logged out."
	case "token-revoked":
		return "Token revoked."
	case "prometheus":
		return "Prometheus settings saved."
	case "logs":
		return "Request log settings saved."
	case "price-saved":
		return "Price saved. It applies from the next request."
	case "price-removed":
		return "Override removed. The price list prices the model again."
	case "mcp-saved":
		return "MCP server saved. Its tools are listed again when next used."
	case "mcp-deleted":
		return "MCP server deleted. Its tools are no longer offered."
	}
	return ""
}

// withNotice adds ?notice=code to an admin URL.
func withNotice(target, code string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + "notice=" + url.QueryEscape(code)
}

// seeOther answers a form post with a redirect to target (Post/Redirect/Get).
func seeOther(c *fiber.Ctx, target string) error {
	return c.Redirect(target, fiber.StatusSeeOther)
}

// adminClient loads the client named by the :id parameter; a missing one is a 404.
func (s *server) adminClient(c *fiber.Ctx) (*db.Client, error) {
	id, err := pathID(c, "client")
	if err != nil {
		return nil, err
	}
	cl, err := s.Clients.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, noSuch("client", id)
	}
	return cl, err
}
