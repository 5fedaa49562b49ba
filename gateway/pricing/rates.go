package pricing

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// Price is a model's price in US dollars per million tokens. Zero CacheRead or CacheWrite means
// those tokens cost what input tokens cost.
type Price struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cache_read"`
	CacheWrite float64 `json:"cache_write"`
}

// Rates are a model's prices, which may step up once a request's prompt passes a size (long
// context tiers): the higher price then applies to the whole request.
type Rates struct {
	base  Price
	tiers []tier // by start, ascending
}

type tier struct {
	start int64
	price Price
}

// Flat returns rates of one price for any request size.
func Flat(p Price) Rates { return Rates{base: p} }

// Base is the price below any tier.
func (r Rates) Base() Price { return r.base }

func (r Rates) empty() bool {
	return r.base.Input == 0 && r.base.Output == 0 && r.base.CacheRead == 0 && r.base.CacheWrite == 0 && len(r.tiers) == 0
}

// For returns the price of a request whose prompt has input tokens (cached ones included).
func (r Rates) For(input int64) Price {
	p := r.base
	for _, t := range r.tiers {
		if input > t.start {
			p = t.price
		}
	}
	return p
}

// cacheRates are p's prices of a cache read and a cache write; one the price list does not give
// is billed as plain input.
func (p Price) cacheRates() (read, write float64) {
	read, write = p.CacheRead, p.CacheWrite
	if read == 0 {
		read = p.Input
	}
	if write == 0 {
		write = p.Input
	}
	return read, write
}

// Tokens are one request's token counts, as the gateway records them: Input counts every prompt
// token, cache reads and writes included; Output counts every generated token, reasoning included.
type Tokens struct {
	Input, CacheRead, CacheWrite, Output int64
}

// Cost is what t costs at rates r, in micro-dollars, rounded to the nearest. A dollar per million
// tokens is a micro-dollar per token, so each count is simply multiplied by its price.
func Cost(r Rates, t Tokens) int64 {
	p := r.For(t.Input)
	read, write := p.cacheRates()
	cr, cw := max(t.CacheRead, 0), max(t.CacheWrite, 0)
	plain := max(t.Input-cr-cw, 0)
	c := float64(plain)*p.Input + float64(cr)*read + float64(cw)*write + float64(max(t.Output, 0))*p.Output
	if c >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(math.Round(c))
}

// parsePrices reads a model's "prices": a price object, or a list of them with constraints of
// which the latest whose start_date has passed at now applies (time-of-day discounts are not
// modelled: the undiscounted price applies).
func parsePrices(raw json.RawMessage, now time.Time) (Rates, error) {
	if len(raw) == 0 {
		return Rates{}, nil
	}
	if raw[0] != '[' {
		return parsePrice(raw)
	}
	var list []struct {
		Constraint *struct {
			Type      string `json:"type"`
			StartDate string `json:"start_date"`
		} `json:"constraint"`
		Prices json.RawMessage `json:"prices"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return Rates{}, err
	}
	var pick json.RawMessage
	for _, c := range list {
		switch {
		case c.Constraint == nil:
			if pick == nil {
				pick = c.Prices
			}
		case c.Constraint.Type == "start_date":
			start, err := time.Parse("2006-01-02", c.Constraint.StartDate)
			if err != nil {
				start, err = time.Parse(time.RFC3339, c.Constraint.StartDate)
			}
			if err == nil && !now.Before(start) {
				pick = c.Prices
			}
		}
	}
	return parsePrice(pick)
}

// field is one price: a number, or {"base":…, "tiers":[{"start":…, "price":…}]}.
type field struct {
	base  float64
	tiers []struct {
		Start int64   `json:"start"`
		Price float64 `json:"price"`
	}
}

func (f *field) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var t struct {
			Base  float64 `json:"base"`
			Tiers []struct {
				Start int64   `json:"start"`
				Price float64 `json:"price"`
			} `json:"tiers"`
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return err
		}
		f.base, f.tiers = t.Base, t.Tiers
		return nil
	}
	return json.Unmarshal(b, &f.base)
}

func parsePrice(raw json.RawMessage) (Rates, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return Rates{}, nil
	}
	var p struct {
		Input      *field `json:"input_mtok"`
		Output     *field `json:"output_mtok"`
		CacheRead  *field `json:"cache_read_mtok"`
		CacheWrite *field `json:"cache_write_mtok"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return Rates{}, fmt.Errorf("prices: %w", err)
	}
	fields := []*field{p.Input, p.Output, p.CacheRead, p.CacheWrite}
	priceAt := func(start int64) Price {
		var v [4]float64
		for i, f := range fields {
			if f == nil {
				continue
			}
			v[i] = f.base
			for _, t := range f.tiers {
				if start >= t.Start && t.Start > 0 {
					v[i] = t.Price
				}
			}
		}
		return Price{Input: v[0], Output: v[1], CacheRead: v[2], CacheWrite: v[3]}
	}
	r := Rates{base: priceAt(0)}
	var starts []int64
	seen := map[int64]bool{}
	for _, f := range fields {
		if f == nil {
			continue
		}
		for _, t := range f.tiers {
			if t.Start > 0 && !seen[t.Start] {
				seen[t.Start] = true
				starts = append(starts, t.Start)
			}
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	for _, s := range starts {
		r.tiers = append(r.tiers, tier{start: s, price: priceAt(s)})
	}
	if p.Input == nil && p.Output == nil {
		return Rates{}, nil // priced per request, image or second only: not a token price
	}
	return r, nil
}

// CacheSaved is what the prompt cache saved on t at rates r, in micro-dollars, rounded to the
// nearest: what t would cost with every cached prompt token billed as plain input, less what it
// costs. Reads save (input − cache read) each; writes cost (cache write − input) more each, so
// the figure is net of the write premium and may be negative.
func CacheSaved(r Rates, t Tokens) int64 {
	p := r.For(t.Input)
	read, write := p.cacheRates()
	cr, cw := max(t.CacheRead, 0), max(t.CacheWrite, 0)
	s := float64(cr)*(p.Input-read) - float64(cw)*(write-p.Input)
	if math.Abs(s) >= math.MaxInt64/2 {
		return int64(math.Copysign(math.MaxInt64/2, s))
	}
	return int64(math.Round(s))
}
