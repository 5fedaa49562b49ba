package routes

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// anthropicCaller reports whether the caller speaks Anthropic's protocol on a door both protocols
// share (GET /v1/models): Anthropic's SDKs and Claude Code send anthropic-version on every request.
func anthropicCaller(c *fiber.Ctx) bool {
	return c.Get("anthropic-version") != ""
}

// anthropicModel is one entry of Anthropic's GET /v1/models. The gateway does not know when a
// backend released a model: created_at is the Unix epoch, as OpenAI's created is 0.
type anthropicModel struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

func anthropicModelEntry(id string) anthropicModel {
	return anthropicModel{Type: "model", ID: id, DisplayName: id, CreatedAt: time.Unix(0, 0).UTC().Format(time.RFC3339)}
}

// anthropicModelList is Anthropic's list shape: every model on one page (has_more false), with
// the first and last ids for its cursors (null when the list is empty).
func anthropicModelList(ids []string) fiber.Map {
	data := make([]anthropicModel, len(ids))
	for i, id := range ids {
		data[i] = anthropicModelEntry(id)
	}
	var first, last *string
	if len(ids) > 0 {
		first, last = &ids[0], &ids[len(ids)-1]
	}
	return fiber.Map{"data": data, "has_more": false, "first_id": first, "last_id": last}
}
