package routes

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// clientCreate answers POST /admin/api/v1/clients with 201 and the client, including its full key
// as "key" — the only time it is shown. Omitted limits take the config's defaults.
func (s *server) clientCreate(c *fiber.Ctx) error {
	var in clientInput
	if err := decodeJSON(c, &in, false); err != nil {
		return err
	}
	cl := newClientFromDefaults(s.Config.Defaults)
	cl.KeyPrefix = db.DefaultKeyPrefix
	bad := fieldErrors{}
	if in.KeyPrefix != nil {
		if p := strings.TrimSpace(*in.KeyPrefix); db.ValidKeyPrefix(p) {
			cl.KeyPrefix = p
		} else {
			bad["key_prefix"] = "must be one of gm_, sk-, sk-ant-"
		}
	}
	if _, err := in.apply(cl, s.Keyring); err != nil {
		if fe, ok := err.(fieldErrors); ok {
			for k, v := range fe {
				bad[k] = v
			}
		} else {
			return err
		}
	}
	if len(bad) > 0 {
		return bad
	}
	key, err := s.Clients.Create(c.UserContext(), cl)
	if err != nil {
		return err
	}
	if err := s.clientChanged(c, "client.create", cl.ID, "name="+cl.Name+" backend="+cl.Backend); err != nil {
		return err
	}
	out := toClientJSON(cl)
	out.Key = key
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(out)
}
