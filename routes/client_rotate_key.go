package routes

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

// rotateKeyInput is the optional body of rotate-key.
type rotateKeyInput struct {
	KeyPrefix *string `json:"key_prefix"`
}

// clientRotateKey answers POST /admin/api/v1/clients/{id}/rotate-key: a new key (shown once, as
// "key") replaces the old one, which stops working on the next request. An optional
// {"key_prefix": "sk-"} picks the new key's prefix.
func (s *server) clientRotateKey(c *fiber.Ctx) error {
	id, err := pathID(c, "client")
	if err != nil {
		return err
	}
	var in rotateKeyInput
	if err := decodeJSON(c, &in, true); err != nil {
		return err
	}
	prefix := ""
	if in.KeyPrefix != nil {
		prefix = strings.TrimSpace(*in.KeyPrefix)
		if prefix == "" { // an explicit empty prefix is a mistake, not "keep the current one"
			return fieldErrors{"key_prefix": "must be one of gm_, sk-, sk-ant-"}
		}
	}
	key, cl, err := s.rotateKey(c, id, prefix)
	if err != nil {
		return err
	}
	out := toClientJSON(cl)
	out.Key = key
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// rotateKey gives client id a new key (shown once) with prefix, or its current prefix when
// prefix is empty; the change is audited and reaches the key cache. The admin page and the JSON
// API both rotate through it.
func (s *server) rotateKey(c *fiber.Ctx, id int64, prefix string) (string, *db.Client, error) {
	prefix = strings.TrimSpace(prefix)
	if prefix != "" && !db.ValidKeyPrefix(prefix) {
		return "", nil, fieldErrors{"key_prefix": "must be one of gm_, sk-, sk-ant-"}
	}
	key, cl, err := s.Clients.RotateKey(c.UserContext(), id, prefix)
	if errors.Is(err, db.ErrNotFound) {
		return "", nil, noSuch("client", id)
	}
	if err != nil {
		return "", nil, err
	}
	if err := s.clientChanged(c, "client.rotate_key", id, "prefix="+cl.KeyPrefix); err != nil {
		return "", nil, err
	}
	return key, cl, nil
}
