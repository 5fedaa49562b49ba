package routes

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/providers"
)

// apiFetchModels answers POST /admin/api/v1/clients/{id}/fetch-models: the backend's models are
// fetched now and stored as the client's models_cache. 200 {"models":[…],"fetched_at"}; a
// backend failure is passed on with its status (502, 504, 401 …).
func (s *server) apiFetchModels(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	models, perr := s.fetchModels(c.UserContext(), cl)
	if perr != nil {
		// The backend's own status would mislead here (its 401 is not the caller's): 502, or
		// 504 when it did not answer in time.
		e := *perr
		if e.Kind != providers.KindTimeout {
			e.Kind, e.HTTPStatus, e.Code = providers.KindUpstream, fiber.StatusBadGateway, "upstream_error"
		}
		e.Message = "could not fetch models: " + e.Message
		return &e
	}
	if err := s.clientChanged(c, "client.fetch_models", cl.ID, strconv.Itoa(len(models))+" models"); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"models": nonNil(models), "fetched_at": s.now().UTC()})
}
