package routes

import (
	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/static"
	"github.com/aigateway/ai-gateway/views"
)

// render writes a page. An htmx request that swaps part of the page (HX-Request, but not a boosted
// link or a history restore, which need the whole document) gets fragment instead of full.
// Responses vary on HX-Request so a cache never serves one for the other.
func render(c *fiber.Ctx, status int, full, fragment templ.Component) error {
	c.Vary("HX-Request")
	comp := full
	if fragment != nil && c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" &&
		c.Get("HX-History-Restore-Request") != "true" {
		comp = fragment
	}
	c.Status(status)
	c.Type("html", "utf-8")
	return comp.Render(c.UserContext(), c.Response().BodyWriter())
}

func (s *server) viewAssets() views.Assets {
	return views.Assets{
		CSS:    s.Assets.URL(static.CSS),
		HTMX:   s.Assets.URL(static.HTMX),
		HTMXWS: s.Assets.URL(static.HTMXWS),
		JS:     s.Assets.URL(static.JS),
	}
}

// page is the shell's view model for the logged-in admin.
func (s *server) page(c *fiber.Ctx, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, Assets: s.viewAssets(), Notice: noticeText(c.Query("notice"))}
	if sess := sessionOf(c); sess != nil {
		p.CSRFToken = sess.CSRFToken
	}
	if u := userOf(c); u != nil {
		p.Username = u.Username
	}
	return p
}
