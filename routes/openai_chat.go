package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// chatCompletions is POST /v1/chat/completions (and /chat/completions): OpenAI Chat Completions
// to whatever backend the client's key names.
func (s *server) chatCompletions(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	body := c.Body()
	info, err := openai.PeekRequest(body)
	if err != nil {
		return err
	}
	adm := s.admission(c, doorOpenAI, "/v1/chat/completions", received)
	adm.Model, adm.Stream, adm.InputTokens, adm.MaxOutputTokens = info.Model, info.Stream, int64(info.InputTokens), int64(info.MaxTokens)
	adm.Choices = int64(info.Choices)
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      openai.Door{IncludeUsage: info.IncludeUsage},
		Body:      body,
		Forward:   providers.ForwardRequest{Stream: info.Stream, IncludeUsage: info.IncludeUsage},
		Decode:    func() (*providers.Request, error) { return openai.DecodeRequest(body) },
	})
}
