package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/pricing"
)

// PriceStore keeps the administrators' price overrides (db.ModelPrices).
type PriceStore interface {
	List(ctx context.Context) ([]db.ModelPrice, error)
	Set(ctx context.Context, p *db.ModelPrice) error
	Delete(ctx context.Context, model string) error
}

// priceBook is the prices in force: the price list and the overrides, replaced whole on a change
// so the request path reads it without locks or database.
type priceBook struct {
	table     *pricing.Table
	overrides map[string]db.ModelPrice // by lower-case model id
}

// PriceInfo is a model's price as the gateway applies it.
type PriceInfo struct {
	Rates pricing.Rates
	// Source is "override" or the price-list entry that matched ("provider/model").
	Source string
	OK     bool
}

// PriceOf returns the price of model served by backend: an administrator's override of exactly
// that id first, then the price list (pricing.Table.Lookup). OK false means unpriced.
func (g *Gateway) PriceOf(backend, model string) PriceInfo {
	b := g.prices.Load()
	if o, ok := b.overrides[strings.ToLower(model)]; ok {
		return PriceInfo{Rates: pricing.Flat(pricing.Price{Input: o.Input, Output: o.Output, CacheRead: o.CacheRead,
			CacheWrite: o.CacheWrite}), Source: "override", OK: true}
	}
	m := b.table.Lookup(backend, model)
	return PriceInfo{Rates: m.Rates, Source: m.Entry, OK: m.OK}
}

// PriceSource names the price list in use (e.g. npm:@pydantic/genai-prices@0.1.8).
func (g *Gateway) PriceSource() string { return g.prices.Load().table.Source() }

// PriceOverrides returns the administrators' overrides, by model.
func (g *Gateway) PriceOverrides() []db.ModelPrice {
	b := g.prices.Load()
	out := make([]db.ModelPrice, 0, len(b.overrides))
	for _, o := range b.overrides {
		out = append(out, o)
	}
	sortPrices(out)
	return out
}

// SetPrice stores an override of model's price (US dollars per million tokens) and applies it to
// the next request. Prices must be finite and not negative.
func (g *Gateway) SetPrice(ctx context.Context, model string, p pricing.Price) error {
	if g.opts.Prices == nil {
		return fmt.Errorf("gateway: no price store")
	}
	row := &db.ModelPrice{Model: model, Input: p.Input, Output: p.Output, CacheRead: p.CacheRead, CacheWrite: p.CacheWrite}
	if err := g.opts.Prices.Set(ctx, row); err != nil {
		return err
	}
	return g.pricesChanged(ctx)
}

// DeletePrice removes the override of model (db.ErrNotFound when there is none); the price list
// prices it again from the next request.
func (g *Gateway) DeletePrice(ctx context.Context, model string) error {
	if g.opts.Prices == nil {
		return db.ErrNotFound
	}
	if err := g.opts.Prices.Delete(ctx, model); err != nil {
		return err
	}
	return g.pricesChanged(ctx)
}

// pricesChanged reloads the overrides and tells the other instances, which reload theirs with
// their clients (Options.ClientEvents carries both).
func (g *Gateway) pricesChanged(ctx context.Context) error {
	if err := g.reloadPrices(ctx); err != nil {
		return err
	}
	if g.events != nil {
		if err := g.events.Publish(ctx, g.instance); err != nil {
			return fmt.Errorf("announce price change: %w", err)
		}
	}
	return nil
}

// reloadPrices reads the overrides into a new price book.
func (g *Gateway) reloadPrices(ctx context.Context) error {
	g.priceMu.Lock()
	defer g.priceMu.Unlock()
	b := &priceBook{table: g.prices.Load().table, overrides: map[string]db.ModelPrice{}}
	if g.opts.Prices != nil {
		rows, err := g.opts.Prices.List(ctx)
		if err != nil {
			return fmt.Errorf("load price overrides: %w", err)
		}
		for _, r := range rows {
			b.overrides[strings.ToLower(r.Model)] = r
		}
	}
	g.prices.Store(b)
	return nil
}

// newPriceBook starts from table, or from the embedded snapshot when table is nil.
func newPriceBook(table *pricing.Table, now time.Time) (*priceBook, error) {
	if table == nil {
		t, err := pricing.Parse(pricing.Snapshot(), now)
		if err != nil {
			return nil, fmt.Errorf("gateway: embedded prices: %w", err)
		}
		table = t
	}
	return &priceBook{table: table, overrides: map[string]db.ModelPrice{}}, nil
}

// callPrice is the price of a call: an override of the model the upstream reports or of the one
// asked for, else the price list's for the reported model (a dated version may cost more), else
// its price for the model asked for.
func (g *Gateway) callPrice(backend, used, asked string) PriceInfo {
	b := g.prices.Load()
	for _, m := range [2]string{used, asked} {
		if _, ok := b.overrides[strings.ToLower(m)]; ok {
			return g.PriceOf(backend, m)
		}
	}
	p := g.PriceOf(backend, used)
	if !p.OK && asked != used {
		p = g.PriceOf(backend, asked)
	}
	return p
}

// costOf prices a call's usage in micro-dollars: nil when it used tokens of an unpriced model.
// saved is what the prompt cache saved on it, net of cache writes (pricing.CacheSaved); 0 when
// unpriced.
func (g *Gateway) costOf(backend, used, asked string, t pricing.Tokens) (cost *int64, saved int64) {
	if t == (pricing.Tokens{}) {
		return new(int64), 0 // no tokens: nothing spent, whatever the price
	}
	p := g.callPrice(backend, used, asked)
	if !p.OK {
		return nil, 0
	}
	c := pricing.Cost(p.Rates, t)
	return &c, pricing.CacheSaved(p.Rates, t)
}

func sortPrices(ps []db.ModelPrice) {
	slices.SortFunc(ps, func(a, b db.ModelPrice) int { return strings.Compare(a.Model, b.Model) })
}
