package routes

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/gemini"
)

// geminiModelAction splits the path tail "gemini-2.5-flash:generateContent".
func geminiModelAction(c *fiber.Ctx) (model, action string, err error) {
	tail := c.Params("*")
	i := strings.LastIndexByte(tail, ':')
	if i <= 0 || i == len(tail)-1 {
		return "", "", &gateway.Refusal{Kind: providers.KindNotFound,
			Message: "expected /v1beta/models/{model}:{generateContent|streamGenerateContent|countTokens}"}
	}
	return strings.TrimPrefix(tail[:i], "models/"), tail[i+1:], nil
}

// geminiAction is POST /v1beta/models/{model}:{action}: the native Gemini front door.
func (s *server) geminiAction(c *fiber.Ctx) error {
	model, action, err := geminiModelAction(c)
	if err != nil {
		return err
	}
	switch action {
	case "generateContent":
		return s.geminiGenerate(c, model, false)
	case "streamGenerateContent":
		return s.geminiGenerate(c, model, true)
	case "countTokens":
		return s.geminiCountTokens(c, model)
	}
	return &gateway.Refusal{Kind: providers.KindNotFound, Message: "unsupported Gemini method " + action}
}

func (s *server) geminiGenerate(c *fiber.Ctx, model string, stream bool) error {
	cl, received := clientOf(c)
	body := c.Body()
	info, err := gemini.PeekRequest(body)
	if err != nil {
		return err
	}
	endpoint := "/v1beta/models:generateContent"
	if stream {
		endpoint = "/v1beta/models:streamGenerateContent"
	}
	adm := s.admission(c, doorGemini, endpoint, received)
	adm.Model, adm.Stream, adm.InputTokens, adm.MaxOutputTokens = model, stream, int64(info.InputTokens), int64(info.MaxTokens)
	adm.Choices = int64(info.Choices)
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      gemini.Door{SSE: c.Query("alt") == "sse"},
		Body:      body,
		Forward:   providers.ForwardRequest{Stream: stream},
		Decode: func() (*providers.Request, error) {
			req, err := gemini.DecodeRequest(model, body)
			if err == nil {
				req.Stream = stream
			}
			return req, err
		},
	})
}

// geminiCountTokens is POST /v1beta/models/{model}:countTokens: the Gemini backend's counter,
// another backend's counter through translation where it has one, else the estimate of one
// token per four bytes of prompt. The client's system prompt is counted too, as it will be sent.
func (s *server) geminiCountTokens(c *fiber.Ctx, model string) error {
	cl, received := clientOf(c)
	body := c.Body()
	adm := s.admission(c, doorGemini, "/v1beta/models:countTokens", received)
	adm.Op, adm.Model = gateway.OpCountTokens, model
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      gemini.Door{},
		Body:      body,
		Decode:    func() (*providers.Request, error) { return gemini.DecodeCountTokensRequest(model, body) },
	})
}

// geminiModels is GET /v1beta/models: the models this key may use, in Gemini's shape.
func (s *server) geminiModels(c *fiber.Ctx) error {
	ids, err := s.modelList(c, doorGemini, "/v1beta/models")
	if err != nil {
		return err
	}
	models := make([]providers.Model, len(ids))
	for i, id := range ids {
		models[i] = providers.Model{ID: id}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(gemini.EncodeModels(models))
}

// geminiModel is GET /v1beta/models/{model}.
func (s *server) geminiModel(c *fiber.Ctx) error {
	id := strings.TrimPrefix(c.Params("*"), "models/")
	if err := providers.CheckModelID(id); err != nil {
		return err
	}
	ids, err := s.modelList(c, doorGemini, "/v1beta/models/{model}")
	if err != nil {
		return err
	}
	if !slices.Contains(ids, id) {
		return &gateway.Refusal{Kind: providers.KindNotFound, Message: "model " + id + " is not available for this key"}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(gemini.EncodeModel(providers.Model{ID: id}))
}

// modelList is the list of models the calling client may use (its whitelist, else its backend's
// list), through the pipeline: admitted (rate limits), logged and counted like every call.
func (s *server) modelList(c *fiber.Ctx, door, endpoint string) ([]string, error) {
	cl, received := clientOf(c)
	adm := s.admission(c, door, endpoint, received)
	adm.Op = gateway.OpModels
	a, err := s.call(c, &gateway.Exchange{Client: cl, Admission: adm})
	if err != nil {
		return nil, err
	}
	return a.Models, nil
}
