package routes

import (
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/responses"
)

// compactResponse is POST /v1/responses/compact (SPEC §14): the conversation compacted by a
// backend that serves the Responses API itself — forwarded with the policy applied, admitted and
// accounted as a generation. A translated backend cannot make the opaque compaction item that
// only OpenAI's servers read back, so there it is a 400 (Codex then compacts locally).
func (s *server) compactResponse(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	req, err := responses.ParseRequest(c.Body())
	if err != nil {
		return err
	}
	door := responses.NewDoor(req)
	if !gateway.Forwards(cl, door) {
		return &gateway.Refusal{Kind: providers.KindBadRequest, Message: "POST /v1/responses/compact is not supported on the " + cl.Backend + " backend: remote compaction needs a backend that serves the Responses API itself; compact the conversation locally"}
	}
	if err := s.checkPrevious(cl, req); err != nil {
		return err
	}
	adm := s.admission(c, doorResponses, "/v1/responses/compact", received)
	adm.Op, adm.Model, adm.InputTokens = gateway.OpCompact, req.Model, int64(req.InputTokens())
	return s.serve(c, &gateway.Exchange{Client: cl, Admission: adm, Door: door, Body: c.Body()})
}
