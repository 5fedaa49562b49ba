package routes

import (
	"github.com/gofiber/fiber/v2"
)

// staticFile serves an embedded asset by its content-hashed name; the name changes with the
// content, so browsers may keep it forever.
func (s *server) staticFile(c *fiber.Ctx) error {
	body, contentType, ok := s.Assets.Lookup(c.Params("file"))
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(body)
}
