package gateway

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// target is one upstream of a client (SPEC §15): its own backend first, then its fallbacks in
// order. Each key of a target has its own provider; keys are used in turn.
type target struct {
	backend string
	baseURL string
	// model, when set, replaces the requested model on this target.
	model string
	keys  []*targetKey
	// next is the turn of the keys: the key the next request starts with.
	next atomic.Uint32
}

// targetKey is a target reached with one of its keys.
type targetKey struct {
	provider providers.Provider
	// err is why the provider could not be built; the key is then skipped.
	err    error
	hint   string
	health *upstreamHealth
}

// targetSpec is what a target is built from: the client's own backend columns or a fallback.
type targetSpec struct {
	db.Target
	// sealed are the encrypted keys, in turn order; none for a keyless backend (ollama, …).
	sealed []db.SealedKey
	// responsesAPI is the client's responses_api for its own backend; empty for a fallback
	// (translated, unless its backend serves the Responses API anyway).
	responsesAPI string
}

// targetSpecs lists the targets of row: its backend columns with UpstreamKey, UpstreamKeys and
// ResponsesAPI, then its fallbacks.
func targetSpecs(row *db.Client) []targetSpec {
	first := targetSpec{Target: db.Target{Backend: row.Backend, BaseURL: row.BaseURL, AzureAPIVersion: row.AzureAPIVersion},
		responsesAPI: row.ResponsesAPI}
	if len(row.UpstreamKey) > 0 {
		first.sealed = append(first.sealed, db.SealedKey{Ciphertext: row.UpstreamKey, Hint: row.UpstreamKeyHint})
	}
	first.sealed = append(first.sealed, row.UpstreamKeys...)
	specs := []targetSpec{first}
	for _, fb := range row.Fallbacks {
		specs = append(specs, targetSpec{Target: fb, sealed: fb.Keys})
	}
	return specs
}

// buildTargets builds c's targets from row. The first key of the first target is the client's
// provider (model listing, test connection): its failure is the client's providerErr. A further
// key or target that cannot be built is logged and skipped at call time. unbench puts the keys
// back in rotation: an administrator saved new connection settings.
func (g *Gateway) buildTargets(c *Client, row *db.Client, unbench bool) {
	c.targets, c.upstreamKeys = nil, nil
	for ti, spec := range targetSpecs(row) {
		t := &target{backend: spec.Backend, baseURL: spec.BaseURL, model: spec.Model}
		sealed := spec.sealed
		if len(sealed) == 0 {
			sealed = []db.SealedKey{{}}
		}
		for ki, sk := range sealed {
			p, key, err := g.buildProvider(spec.Target, spec.responsesAPI, sk.Ciphertext)
			k := &targetKey{provider: p, err: err, hint: sk.Hint,
				health: g.healthOf(spec.Backend, spec.BaseURL, spec.AzureAPIVersion, key, sk.Hint)}
			if unbench {
				k.health.unbench()
			}
			if key != "" {
				c.upstreamKeys = append(c.upstreamKeys, key)
			}
			if ti == 0 && ki == 0 {
				c.provider, c.providerErr = p, err
			}
			if err != nil {
				// The error names the backend and the cause, never the key.
				g.log.Error("client provider unavailable", "client_id", row.ID, "client", row.Name,
					"backend", spec.Backend, "target", ti, "key", ki, "err", err)
			}
			t.keys = append(t.keys, k)
		}
		c.targets = append(c.targets, t)
	}
}

// callable returns the first target key whose provider could be built: a client can be called
// while one can. The error is Provider's, when none can.
func (c *Client) callable() (providers.Provider, error) {
	for _, t := range c.targets {
		for _, k := range t.keys {
			if k.err == nil && k.provider != nil {
				return k.provider, nil
			}
		}
	}
	if _, err := c.Provider(); err != nil {
		return nil, err
	}
	return c.provider, nil
}

// sameConnection reports whether a and b reach their upstreams the same way.
func sameConnection(a, b *db.Client) bool {
	return a.Backend == b.Backend && a.BaseURL == b.BaseURL && a.AzureAPIVersion == b.AzureAPIVersion &&
		a.ResponsesAPI == b.ResponsesAPI && bytes.Equal(a.UpstreamKey, b.UpstreamKey) && sameJSON(a.UpstreamKeys, b.UpstreamKeys) &&
		sameJSON(a.Fallbacks, b.Fallbacks)
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// TargetHealth is one target key of a client as the admin UI shows it.
type TargetHealth struct {
	// Position is 0 for the client's own backend, n for its n-th fallback.
	Position int
	Backend  string
	BaseURL  string
	Model    string
	KeyHint  string
	// BuildError is set when the key's provider could not be built (undecryptable key, …).
	BuildError string
	HealthStatus
}

// TargetHealth lists the health of every target key of client id, in routing order; nil when
// there is no such client.
func (g *Gateway) TargetHealth(id int64) []TargetHealth {
	c := g.ClientByID(id)
	if c == nil {
		return nil
	}
	now := g.now()
	var out []TargetHealth
	for i, t := range c.targets {
		for _, k := range t.keys {
			th := TargetHealth{Position: i, Backend: t.backend, BaseURL: t.baseURL, Model: t.model, KeyHint: k.hint,
				HealthStatus: k.health.status(now)}
			if k.err != nil {
				th.BuildError = "this key's settings are invalid (see the server log)"
			}
			out = append(out, th)
		}
	}
	return out
}

// Health lists every target key the gateway has seen, for the dashboard.
func (g *Gateway) Health() []HealthStatus {
	now := g.now()
	var out []HealthStatus
	seen := map[*upstreamHealth]bool{}
	for _, c := range g.clients.Load().byID {
		for _, t := range c.targets {
			for _, k := range t.keys {
				if !seen[k.health] {
					seen[k.health] = true
					out = append(out, k.health.status(now))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b HealthStatus) int { return strings.Compare(a.Target, b.Target) })
	return out
}
