package routes

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/pricing"
	"github.com/aigateway/ai-gateway/providers"
)

// priceJSON is one model's price in US dollars per million tokens.
type priceJSON struct {
	Model      string  `json:"model"`
	Input      float64 `json:"input_usd_per_mtok"`
	Output     float64 `json:"output_usd_per_mtok"`
	CacheRead  float64 `json:"cache_read_usd_per_mtok"`
	CacheWrite float64 `json:"cache_write_usd_per_mtok"`
	// Source is "override" or the price-list entry that matched; empty when unpriced.
	Source string `json:"source,omitempty"`
	Priced bool   `json:"priced"`
}

// priceList answers GET /admin/api/v1/prices: the price list in use and the overrides; with
// ?model= (and optionally &backend=) also the price that model gets.
func (s *server) priceList(c *fiber.Ctx) error {
	out := fiber.Map{"source": s.Gateway.PriceSource()}
	overrides := []priceJSON{}
	for _, o := range s.Gateway.PriceOverrides() {
		overrides = append(overrides, priceJSON{Model: o.Model, Input: o.Input, Output: o.Output, CacheRead: o.CacheRead,
			CacheWrite: o.CacheWrite, Source: "override", Priced: true})
	}
	out["overrides"] = overrides
	if m := c.Query("model"); m != "" {
		p := s.Gateway.PriceOf(c.Query("backend", "openai-compatible"), m)
		b := p.Rates.Base()
		out["lookup"] = priceJSON{Model: m, Input: b.Input, Output: b.Output, CacheRead: b.CacheRead, CacheWrite: b.CacheWrite,
			Source: p.Source, Priced: p.OK}
	}
	return c.JSON(out)
}

// priceInput is the body of PUT /admin/api/v1/prices.
type priceInput struct {
	Model      string   `json:"model"`
	Input      *float64 `json:"input_usd_per_mtok"`
	Output     *float64 `json:"output_usd_per_mtok"`
	CacheRead  *float64 `json:"cache_read_usd_per_mtok"`
	CacheWrite *float64 `json:"cache_write_usd_per_mtok"`
}

// check validates the input and returns the price; input and output are required, cache prices
// default to the input price (0).
func (in *priceInput) check() (string, pricing.Price, error) {
	bad := fieldErrors{}
	model := strings.TrimSpace(in.Model)
	if model == "" {
		bad["model"] = "is required"
	} else if msg := textError(model, false); msg != "" {
		bad["model"] = msg
	} else if err := providers.CheckModelID(model); err != nil {
		bad["model"] = providers.AsError(err).Message
	}
	get := func(field string, v *float64, required bool) float64 {
		if v == nil {
			if required {
				bad[field] = "is required (US dollars per million tokens)"
			}
			return 0
		}
		if math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0 || *v > 1e6 {
			bad[field] = "must be a price from 0 to 1000000 US dollars per million tokens"
		}
		return *v
	}
	p := pricing.Price{
		Input:      get("input_usd_per_mtok", in.Input, true),
		Output:     get("output_usd_per_mtok", in.Output, true),
		CacheRead:  get("cache_read_usd_per_mtok", in.CacheRead, false),
		CacheWrite: get("cache_write_usd_per_mtok", in.CacheWrite, false),
	}
	if len(bad) > 0 {
		return "", p, bad
	}
	return model, p, nil
}

// priceSet answers PUT /admin/api/v1/prices: the model's price is overridden from the next request on.
func (s *server) priceSet(c *fiber.Ctx) error {
	var in priceInput
	if err := decodeJSON(c, &in, false); err != nil {
		return err
	}
	model, p, err := in.check()
	if err != nil {
		return err
	}
	if err := s.Gateway.SetPrice(c.UserContext(), model, p); err != nil {
		return err
	}
	if err := s.audit(c, "price.set", "model:"+model, fmt.Sprintf("input=%g output=%g cache_read=%g cache_write=%g",
		p.Input, p.Output, p.CacheRead, p.CacheWrite)); err != nil {
		return err
	}
	return c.JSON(priceJSON{Model: model, Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite,
		Source: "override", Priced: true})
}

// priceDelete answers DELETE /admin/api/v1/prices?model=… with 204: the price list prices the
// model again.
func (s *server) priceDelete(c *fiber.Ctx) error {
	model := c.Query("model")
	if err := s.Gateway.DeletePrice(c.UserContext(), model); errors.Is(err, db.ErrNotFound) {
		return &gateway.Refusal{Kind: providers.KindNotFound, Message: fmt.Sprintf("no price override for model %q", model)}
	} else if err != nil {
		return err
	}
	if err := s.audit(c, "price.delete", "model:"+model, ""); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
