package routes

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// home sends a browser that opens the server's address to the admin UI.
func (s *server) home(c *fiber.Ctx) error {
	return c.Redirect("/admin", fiber.StatusFound)
}

// faviconSVG is the gateway's icon: the logo's gate on the accent colour.
const faviconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
	`<rect width="32" height="32" rx="7" fill="#2457d6"/>` +
	`<path d="M8 24V12a8 8 0 0 1 16 0v12" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round"/>` +
	`<path d="M8 18h16" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>`

// favicon serves the icon browsers ask for (/favicon.ico by habit, /favicon.svg by the pages' link).
func (s *server) favicon(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.SendString(faviconSVG)
}

// toClientPage answers a GET on a client's POST-only action with the client's page.
func (s *server) toClientPage(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	return seeOther(c, "/admin/clients/"+strconv.FormatInt(id, 10))
}

// toSettingsSection answers a GET on a settings form's address with its section of the page.
func (s *server) toSettingsSection(c *fiber.Ctx) error {
	switch sec := c.Params("section"); sec {
	case "password", "prometheus", "logs", "tokens":
		return seeOther(c, "/admin/settings#"+sec)
	}
	return fiber.ErrNotFound
}
