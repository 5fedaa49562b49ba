package routes

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/views"
)

// pricesPage shows the price list in use, a lookup (?model=&backend=) and the overrides.
func (s *server) pricesPage(c *fiber.Ctx) error {
	return s.renderPrices(c, fiber.StatusOK, map[string]string{}, nil)
}

func (s *server) renderPrices(c *fiber.Ctx, status int, form map[string]string, bad fieldErrors) error {
	v := views.PricesView{Source: s.Gateway.PriceSource(), Backends: backends(), Form: form, Errors: views.FieldErrors(bad),
		LookupModel: strings.TrimSpace(c.Query("model")), LookupBackend: c.Query("backend", "openai")}
	for _, o := range s.Gateway.PriceOverrides() {
		v.Overrides = append(v.Overrides, views.PriceRow{Model: o.Model, Input: usdPerMtok(o.Input), Output: usdPerMtok(o.Output),
			CacheRead: usdPerMtok(o.CacheRead), CacheWrite: usdPerMtok(o.CacheWrite), Source: "override", Priced: true})
	}
	if v.LookupModel != "" {
		p := s.Gateway.PriceOf(v.LookupBackend, v.LookupModel)
		b := p.Rates.Base()
		read, write := b.CacheRead, b.CacheWrite
		if read == 0 {
			read = b.Input
		}
		if write == 0 {
			write = b.Input
		}
		v.Lookup = &views.PriceRow{Model: v.LookupModel, Input: usdPerMtok(b.Input), Output: usdPerMtok(b.Output),
			CacheRead: usdPerMtok(read), CacheWrite: usdPerMtok(write), Source: p.Source, Priced: p.OK}
	}
	p := s.page(c, "Prices", "prices")
	return render(c, status, views.Prices(p, v), views.PricesContent(p, v))
}

func usdPerMtok(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// priceSubmit sets an override from the Prices page's form (the checks of PUT /admin/api/v1/prices).
func (s *server) priceSubmit(c *fiber.Ctx) error {
	form := map[string]string{"model": strings.Clone(c.FormValue("model"))}
	in := priceInput{Model: form["model"]}
	bad := fieldErrors{}
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"input_usd_per_mtok", &in.Input}, {"output_usd_per_mtok", &in.Output},
		{"cache_read_usd_per_mtok", &in.CacheRead}, {"cache_write_usd_per_mtok", &in.CacheWrite}} {
		raw := strings.TrimSpace(c.FormValue(f.name))
		form[f.name] = strings.Clone(raw)
		if raw == "" {
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			bad[f.name] = "must be a number of US dollars per million tokens"
			continue
		}
		*f.dst = &v
	}
	model, price, err := in.check()
	var fe fieldErrors
	if errors.As(err, &fe) {
		for k, v := range fe {
			bad[k] = v
		}
	}
	if len(bad) > 0 {
		return s.renderPrices(c, fiber.StatusUnprocessableEntity, form, bad)
	}
	if err := s.Gateway.SetPrice(c.UserContext(), model, price); err != nil {
		return err
	}
	if err := s.audit(c, "price.set", "model:"+model, "from the Prices page"); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/prices", "price-saved"))
}

// priceDeleteSubmit removes an override from the Prices page.
func (s *server) priceDeleteSubmit(c *fiber.Ctx) error {
	model := strings.Clone(c.FormValue("model"))
	if err := s.Gateway.DeletePrice(c.UserContext(), model); errors.Is(err, db.ErrNotFound) {
		return &gateway.Refusal{Kind: providers.KindNotFound, Message: "no price override for model " + strconv.Quote(model)}
	} else if err != nil {
		return err
	}
	if err := s.audit(c, "price.delete", "model:"+model, "from the Prices page"); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/prices", "price-removed"))
}
