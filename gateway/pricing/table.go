package pricing

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Table is a parsed price list. It is safe for concurrent use and never changes once built;
// a reload builds a new one.
type Table struct {
	source    string
	providers []*provider
	byID      map[string]*provider
	// exact maps a lower-case model id to the first priced model of that id in any provider.
	exact map[string]Match

	// cache remembers lookups (backend + "\x00" + model → Match), at most cacheLimit of them:
	// a read needs no lock, so concurrent requests do not queue on it.
	cache  sync.Map
	cached atomic.Int64
}

// cacheLimit bounds the remembered lookups: model ids come from callers, so a flood of made-up
// ids must not grow memory; past it lookups are simply recomputed.
const cacheLimit = 4096

type provider struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	ModelMatch    *rule    `json:"model_match"`
	ProviderMatch *rule    `json:"provider_match"`
	Fallbacks     []string `json:"fallback_model_providers"`
	Models        []*model `json:"models"`
}

type model struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	Match  *rule           `json:"match"`
	Prices json.RawMessage `json:"prices"`

	price Rates
}

// file is the snapshot's shape; genai-prices' own data.json is the bare list of providers.
type file struct {
	Source    string      `json:"source"`
	Providers []*provider `json:"providers"`
}

// Parse reads price data in genai-prices' format: either the embedded snapshot's object
// ({"source":…, "providers":[…]}) or the project's data.json (the list of providers). Where a
// model's prices changed over time, the prices in force at now are used.
func Parse(data []byte, now time.Time) (*Table, error) {
	var f file
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "[") {
		if err := json.Unmarshal(data, &f.Providers); err != nil {
			return nil, fmt.Errorf("price data: %w", err)
		}
	} else if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("price data: %w", err)
	}
	if len(f.Providers) == 0 {
		return nil, errors.New("price data: no providers")
	}
	t := &Table{source: f.Source, providers: f.Providers, byID: map[string]*provider{}, exact: map[string]Match{}}
	for _, p := range f.Providers {
		if p == nil {
			continue
		}
		t.byID[strings.ToLower(p.ID)] = p
		for _, m := range p.Models {
			if m == nil {
				continue
			}
			r, err := parsePrices(m.Prices, now)
			if err != nil {
				return nil, fmt.Errorf("price data: %s/%s: %w", p.ID, m.ID, err)
			}
			m.price = r
			if f := found(p, m); f.OK {
				if _, dup := t.exact[strings.ToLower(m.ID)]; !dup {
					t.exact[strings.ToLower(m.ID)] = f
				}
			}
		}
	}
	return t, nil
}

// Source names where the table came from (e.g. npm:@pydantic/genai-prices@0.1.8); empty if unknown.
func (t *Table) Source() string { return t.source }

// Match is the outcome of a lookup.
type Match struct {
	// Rates are the model's prices; meaningful only when OK.
	Rates Rates
	// Entry names the price-list entry that matched, "provider/model".
	Entry string
	OK    bool
}

// backendProviders maps a gateway backend to the genai-prices provider that prices it. Backends
// not listed (openai-compatible, ollama, lmstudio) are looked up in every provider.
var backendProviders = map[string]string{
	"openai": "openai", "azure": "azure", "anthropic": "anthropic", "gemini": "google",
	"mistral": "mistral", "xai": "x-ai", "cohere": "cohere", "perplexity": "perplexity",
}

// Lookup finds the price of modelID as served by backend (a gateway backend id), trying in order:
//
//  1. the exact id, in the backend's provider (then that provider's fallback providers; for a
//     backend the list does not know, the providers whose rules claim the id, then any provider);
//  2. a provider-qualified id, "provider/model" (e.g. "anthropic/claude-sonnet-4-5"): the model in
//     that provider;
//  3. the price list's own match rules, in the backend's provider (for a backend the list does
//     not know, in the providers whose rules claim the id);
//  4. the same after normalising dates: -YYYYMMDD written -YYYY-MM-DD, then the date removed.
//
// No match means the model is unpriced (Match.OK false), never free.
func (t *Table) Lookup(backend, modelID string) Match {
	if t == nil || modelID == "" {
		return Match{}
	}
	key := backend + "\x00" + modelID
	if v, ok := t.cache.Load(key); ok {
		return v.(Match)
	}
	m := t.lookup(backend, modelID)
	for _, alt := range normalisations(modelID) {
		if m.OK {
			break
		}
		m = t.lookup(backend, alt)
	}
	if t.cached.Add(1) <= cacheLimit {
		t.cache.Store(key, m)
	}
	return m
}

func (t *Table) lookup(backend, raw string) Match {
	id := strings.ToLower(raw)
	home := t.byID[backendProviders[backend]]
	scope := t.withFallbacks(home)
	if home == nil {
		// A backend the list does not know: the providers whose own rules claim the id (gpt-… is
		// OpenAI's) first, then an exact id in any provider. Only the claiming providers' model
		// rules are tried below: every provider's would cost a millisecond per made-up id.
		for _, p := range t.providers {
			if p != nil && p.ModelMatch.matches(id, raw) {
				scope = append(scope, t.withFallbacks(p)...)
			}
		}
	}
	// 1. exact id
	if m := exact(scope, id); m.OK {
		return m
	}
	if m, ok := t.exact[id]; ok && home == nil {
		return m
	}
	// 2. provider-qualified id
	if pid, rest, ok := strings.Cut(id, "/"); ok && rest != "" {
		if p := t.provider(pid); p != nil {
			if m := t.lookupIn(t.withFallbacks(p), rest, raw[len(pid)+1:]); m.OK {
				return m
			}
		}
	}
	// 3. the list's match rules
	return t.lookupIn(scope, id, raw)
}

// exact finds the first priced model of scope whose id is id.
func exact(scope []*provider, id string) Match {
	for _, p := range scope {
		if p == nil {
			continue
		}
		for _, m := range p.Models {
			if m != nil && strings.ToLower(m.ID) == id {
				if f := found(p, m); f.OK {
					return f
				}
			}
		}
	}
	return Match{}
}

// lookupIn tries the exact id, then the match rules, in each provider of scope; entries without
// a token price are passed over.
func (t *Table) lookupIn(scope []*provider, id, raw string) Match {
	if m := exact(scope, id); m.OK {
		return m
	}
	for _, p := range scope {
		if p == nil {
			continue
		}
		for _, m := range p.Models {
			if m != nil && m.Match.matches(id, raw) {
				if f := found(p, m); f.OK {
					return f
				}
			}
		}
	}
	return Match{}
}

func found(p *provider, m *model) Match {
	return Match{Rates: m.price, Entry: p.ID + "/" + m.ID, OK: !m.price.empty()}
}

// provider finds a provider by id, or by its own provider-matching rule.
func (t *Table) provider(id string) *provider {
	if p := t.byID[id]; p != nil {
		return p
	}
	for _, p := range t.providers {
		if p != nil && p.ProviderMatch.matches(id, id) {
			return p
		}
	}
	return nil
}

func (t *Table) withFallbacks(p *provider) []*provider {
	if p == nil {
		return nil
	}
	out := []*provider{p}
	for _, f := range p.Fallbacks {
		if q := t.byID[strings.ToLower(f)]; q != nil {
			out = append(out, q)
		}
	}
	return out
}
