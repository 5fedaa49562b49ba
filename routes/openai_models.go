package routes

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// openAIModel is one entry of GET /v1/models.
type openAIModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func modelEntry(cl *gateway.Client, id string) openAIModel {
	return openAIModel{ID: id, Object: "model", OwnedBy: cl.Backend}
}

// modelsDoor is the protocol of a GET /v1/models caller: Anthropic's when it sends
// anthropic-version (Claude Code's model picker), else OpenAI's.
func modelsDoor(c *fiber.Ctx) string {
	if anthropicCaller(c) {
		return doorAnthropic
	}
	return doorOpenAI
}

// listModels is GET /v1/models: the models this key may use — its whitelist, else the backend's
// list (fetched on first use and cached) — in the caller's protocol's list shape.
func (s *server) listModels(c *fiber.Ctx) error {
	door := modelsDoor(c)
	ids, err := s.modelList(c, door, "/v1/models")
	if err != nil {
		return err
	}
	if door == doorAnthropic {
		return c.JSON(anthropicModelList(ids))
	}
	cl, _ := c.Locals(localClient).(*gateway.Client)
	data := make([]openAIModel, len(ids))
	for i, id := range ids {
		data[i] = modelEntry(cl, id)
	}
	return c.JSON(fiber.Map{"object": "list", "data": data})
}

// getModel is GET /v1/models/{id}, in the caller's protocol's shape; ids may contain slashes
// ("meta-llama/Llama-3.1-8B").
func (s *server) getModel(c *fiber.Ctx) error {
	id := c.Params("*")
	if err := providers.CheckModelID(id); err != nil {
		return err
	}
	door := modelsDoor(c)
	ids, err := s.modelList(c, door, "/v1/models/{id}")
	if err != nil {
		return err
	}
	if !slices.Contains(ids, id) {
		return &gateway.Refusal{Kind: providers.KindNotFound, Code: "model_not_found",
			Message: "The model '" + id + "' does not exist or is not available for this key"}
	}
	if door == doorAnthropic {
		return c.JSON(anthropicModelEntry(id))
	}
	cl, _ := c.Locals(localClient).(*gateway.Client)
	return c.JSON(modelEntry(cl, id))
}

// usage is GET /v1/usage: the calling client's limits, today's usage and what remains.
func (s *server) usage(c *fiber.Ctx) error {
	cl, _ := clientOf(c)
	return c.JSON(s.Gateway.Usage(cl))
}
