package routes

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/responses"
)

// doorResponses is the OpenAI Responses API front door (SPEC §14).
const doorResponses = "responses"

// createResponse is POST /v1/responses: the OpenAI Responses API on whatever backend the
// client's key names, translated through the canonical model.
func (s *server) createResponse(c *fiber.Ctx) error {
	received := time.Now()
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	req, err := s.readResponsesRequest(c, cl)
	if err != nil {
		return err
	}
	door := responses.NewDoor(req)
	if req.Stored() && s.Responses != nil {
		input := req.TurnInput()
		door.Done = func(o *responses.Object) { s.storeResponse(cl.ID, input, o) }
	}
	adm := s.admission(c, doorResponses, "/v1/responses", received)
	adm.Model, adm.Stream, adm.InputTokens = req.Model, req.Stream, int64(req.InputTokens())
	if req.MaxOutputTokens != nil {
		adm.MaxOutputTokens = int64(*req.MaxOutputTokens)
	}
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      door,
		Body:      c.Body(),
		Forward:   providers.ForwardRequest{Stream: req.Stream},
		Decode:    req.Decode,
	})
}

// responsesInputTokens is POST /v1/responses/input_tokens: the backend's own counter through
// translation where it has one, else the estimate of one token per four bytes of prompt.
func (s *server) responsesInputTokens(c *fiber.Ctx) error {
	received := time.Now()
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	req, err := s.readResponsesRequest(c, cl)
	if err != nil {
		return err
	}
	req.Stream = false
	adm := s.admission(c, doorResponses, "/v1/responses/input_tokens", received)
	adm.Op, adm.Model = gateway.OpCountTokens, req.Model
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      responses.NewDoor(req),
		Body:      c.Body(),
		Decode:    req.Decode,
	})
}
