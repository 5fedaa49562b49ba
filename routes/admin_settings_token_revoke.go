package routes

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// tokenRevokeSubmit deletes an admin API token; what used it gets 401 from the next call.
func (s *server) tokenRevokeSubmit(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err == nil && id > 0 {
		err = s.Tokens.Delete(c.UserContext(), id)
	} else {
		err = db.ErrNotFound
	}
	if errors.Is(err, db.ErrNotFound) {
		return &gateway.Refusal{Kind: providers.KindNotFound, Message: "no admin token with id " + strconv.Quote(c.Params("id"))}
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, "admin_token.revoke", "admin_token:"+strconv.FormatInt(id, 10), ""); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/settings", "token-revoked")+"#tokens")
}
