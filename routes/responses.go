package routes

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/responses"
)

// doorResponses is the OpenAI Responses API front door (SPEC §14).
const doorResponses = "responses"

// createResponse is POST /v1/responses: the OpenAI Responses API on whatever backend the
// client's key names — forwarded to a backend that serves it itself (the state is then the
// upstream's; the gateway only remembers who owns each id), translated through the canonical
// model for every other (the gateway keeps the state).
func (s *server) createResponse(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	req, door, native, err := s.readResponsesRequest(c, cl)
	if err != nil {
		return err
	}
	stored := req.Stored() && s.Responses != nil
	switch {
	case stored && native:
		door.Owned = func(id string) { s.recordOwner(cl.ID, id) }
	case stored:
		input := req.TurnInput()
		door.Done = func(o *responses.Object) { s.storeResponse(cl.ID, input, o) }
	}
	adm := s.admission(c, doorResponses, "/v1/responses", received)
	adm.Model, adm.Stream, adm.InputTokens = req.Model, req.Stream, int64(req.InputTokens())
	if req.MaxOutputTokens != nil {
		adm.MaxOutputTokens = int64(*req.MaxOutputTokens)
	}
	err = s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      door,
		Body:      c.Body(),
		Forward:   providers.ForwardRequest{Stream: req.Stream},
		Decode:    req.Decode,
	})
	if err == nil && stored && native && !req.Stream {
		var answer struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(c.Response().Body(), &answer) == nil && answer.ID != "" {
			s.recordOwner(cl.ID, answer.ID)
		}
	}
	return err
}

// responsesInputTokens is POST /v1/responses/input_tokens: the backend's own counter (forwarded,
// or through translation where it has one), else the estimate of one token per four bytes.
func (s *server) responsesInputTokens(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	req, door, _, err := s.readResponsesRequest(c, cl)
	if err != nil {
		return err
	}
	req.Stream = false
	adm := s.admission(c, doorResponses, "/v1/responses/input_tokens", received)
	adm.Op, adm.Model = gateway.OpCountTokens, req.Model
	return s.serve(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      door,
		Body:      c.Body(),
		Decode:    req.Decode,
	})
}
