package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// ClientSource lists every client (db.Clients does).
type ClientSource interface {
	List(ctx context.Context) ([]db.Client, error)
}

// Decrypter opens an encrypted upstream key (db.Keyring does).
type Decrypter interface {
	Decrypt(ciphertext []byte) (string, error)
}

// ProviderFactory builds the provider of one backend for one client (openai.New, anthropic.New, …).
type ProviderFactory func(providers.Config) (providers.Provider, error)

// Client is an immutable snapshot of one client: its settings and its upstream provider, built
// once per change of the client, never per request. Treat every field as read-only.
type Client struct {
	ID     int64
	Name   string
	Active bool
	// Backend is the provider id (openai, anthropic, gemini, mistral, …).
	Backend      string
	DefaultModel string
	// Whitelist is the models the client may use; empty means every model.
	Whitelist    []string
	SystemPrompt string
	ToolMode     string
	// MCPServers is the allowlist of MCP servers whose tools the client may use (SPEC §18).
	MCPServers []string
	// PromptCache is "auto" (automatic Anthropic cache breakpoints on translated requests, see
	// providers.Request.AutoCache) or "off".
	PromptCache string
	RateLimit   RateLimit
	Quota       Quota
	Budget      Budget

	// provider is the first target's first key: model listing and test connection use it.
	provider    providers.Provider
	providerErr error
	// targets are the upstreams in routing order (targets.go).
	targets []*target
	// upstreamKeys are the decrypted upstream keys of every target, kept only to redact them.
	upstreamKeys []string
	keyHash      [sha256.Size]byte
	// key names the client in the limiter and counters.
	key       string
	rates     [3]Rate
	whitelist map[string]struct{}
	// labels are the model names that get their own metric label; others are "other".
	labels      map[string]struct{}
	modelsCache []string
	fetchedAt   time.Time
	row         db.Client
	// running is the client's calls in progress, shared with the snapshots before and after
	// this one while the key stays valid (running.go).
	running *running
}

// Provider returns the client's upstream provider, or a *providers.Error (KindInternal) when it
// could not be built from the client's settings (unknown backend, undecryptable key, …).
func (c *Client) Provider() (providers.Provider, error) {
	if c.providerErr != nil {
		return nil, &providers.Error{Kind: providers.KindInternal, Provider: c.Backend,
			Message: "this client's backend settings are incomplete or invalid; ask the gateway admin to fix them"}
	}
	return c.provider, nil
}

// Allows reports whether the client may use model: every model when the whitelist is empty.
func (c *Client) Allows(model string) bool {
	if len(c.whitelist) == 0 {
		return true
	}
	_, ok := c.whitelist[model]
	return ok
}

// modelLabel bounds the model label of metrics and stats to the client's known models.
func (c *Client) modelLabel(model string) string {
	if _, ok := c.labels[model]; ok {
		return model
	}
	return "other"
}

// clientSet is one immutable generation of the key cache.
type clientSet struct {
	byHash map[[sha256.Size]byte]*Client
	byID   map[int64]*Client
	active int
}

// Authenticate returns the client that key belongs to. It reads only the in-memory cache.
// An empty, unknown or inactive key is a *Refusal of KindAuth.
func (g *Gateway) Authenticate(key string) (*Client, error) {
	if key == "" {
		return nil, &Refusal{Kind: providers.KindAuth, Message: "missing API key"}
	}
	var room [64]byte // a gateway key fits: its bytes are hashed from the stack
	sum := sha256.Sum256(append(room[:0], key...))
	c := g.clients.Load().byHash[sum]
	// The lookup is by hash; comparing the stored hash in constant time as well costs nothing.
	if c == nil || subtle.ConstantTimeCompare(c.keyHash[:], sum[:]) != 1 {
		return nil, &Refusal{Kind: providers.KindAuth, Message: "invalid API key"}
	}
	if !c.Active {
		return nil, &Refusal{Kind: providers.KindAuth, Message: "this API key is disabled"}
	}
	return c, nil
}

// ClientByID returns the cached snapshot of client id, active or not, or nil.
func (g *Gateway) ClientByID(id int64) *Client {
	return g.clients.Load().byID[id]
}

// ReloadClients rebuilds the key cache from the client source and swaps it in atomically: the
// next Authenticate sees every create, update, deactivation, key rotation and deletion. Admin
// handlers call it after each change. Clients whose row did not change keep their snapshot
// (and provider); a client whose provider cannot be built stays known and fails at Begin.
// The calls still running for a client that was deleted, disabled or given a new key are ended
// (see running).
// Other instances are told through Options.ClientEvents. On error the old cache stays.
func (g *Gateway) ReloadClients(ctx context.Context) error {
	if err := g.reloadClients(ctx); err != nil {
		return err
	}
	if g.events != nil {
		if err := g.events.Publish(ctx, g.instance); err != nil {
			return fmt.Errorf("announce client change: %w", err)
		}
	}
	return nil
}

func (g *Gateway) reloadClients(ctx context.Context) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	rows, err := g.opts.Clients.List(ctx)
	if err != nil {
		return fmt.Errorf("load clients: %w", err)
	}
	old := g.clients.Load()
	next := &clientSet{
		byHash: make(map[[sha256.Size]byte]*Client, len(rows)),
		byID:   make(map[int64]*Client, len(rows)),
	}
	for i := range rows {
		row := &rows[i]
		c := old.byID[row.ID]
		if c == nil || !sameSettings(&c.row, row) {
			c = g.buildClient(row, old.byID[row.ID])
		}
		next.byID[c.ID] = c
		if c.keyHash != ([sha256.Size]byte{}) {
			next.byHash[c.keyHash] = c
		}
		if c.Active {
			next.active++
		}
	}
	g.clients.Store(next)
	for id, c := range old.byID {
		n := next.byID[id]
		// After the swap, so that the key no longer authenticates when its calls end.
		if why := revocationOf(c, n); why != nil {
			c.running.end(why)
		}
		if n == nil {
			g.limiter.Forget(c.key)
			g.counters.Forget(c.key)
			g.spend.Forget(c.key)
		}
		if n == nil || n.Name != c.Name {
			g.metrics.forgetClient(c.Name, next)
		}
	}
	g.metrics.activeClients.Set(float64(next.active))
	return nil
}

// buildClient makes the snapshot of row. prev is the client's previous snapshot, if any: its
// provider is reused when the connection settings are the same.
func (g *Gateway) buildClient(row *db.Client, prev *Client) *Client {
	c := &Client{
		ID:           row.ID,
		Name:         row.Name,
		Active:       row.Active,
		Backend:      row.Backend,
		DefaultModel: row.DefaultModel,
		Whitelist:    slices.Clone([]string(row.ModelWhitelist)),
		SystemPrompt: row.SystemPrompt,
		ToolMode:     row.ToolMode,
		MCPServers:   slices.Clone([]string(row.MCPServers)),
		PromptCache:  row.PromptCache,
		RateLimit: RateLimit{
			RequestsPerMinute: row.RequestsPerMinute,
			RequestsPerHour:   row.RequestsPerHour,
			RequestsPerDay:    row.RequestsPerDay,
		},
		Quota: Quota{
			MaxInputTokensPerDay:  row.MaxInputTokensPerDay,
			MaxOutputTokensPerDay: row.MaxOutputTokensPerDay,
			MaxRequestsPerDay:     row.MaxRequestsPerDay,
			MaxInputTokens:        row.MaxInputTokens,
			MaxOutputTokens:       row.MaxOutputTokens,
		},
		Budget:      Budget{DayMicros: row.BudgetDayMicros, MonthMicros: row.BudgetMonthMicros},
		key:         clientKey(row.ID),
		modelsCache: slices.Clone([]string(row.ModelsCache)),
		fetchedAt:   row.ModelsFetchedAt,
		row:         *row,
	}
	c.row.ModelWhitelist = slices.Clone(row.ModelWhitelist)
	c.row.ModelsCache = slices.Clone(row.ModelsCache)
	c.row.UpstreamKey = bytes.Clone(row.UpstreamKey)
	c.row.UpstreamKeys = slices.Clone(row.UpstreamKeys)
	c.row.Fallbacks = slices.Clone(row.Fallbacks)
	c.rates = [3]Rate{
		{Limit: row.RequestsPerMinute, Window: time.Minute},
		{Limit: row.RequestsPerHour, Window: time.Hour},
		{Limit: row.RequestsPerDay, Window: 24 * time.Hour},
	}
	if h, err := hex.DecodeString(row.KeyHash); err == nil && len(h) == sha256.Size {
		copy(c.keyHash[:], h)
	} else {
		g.log.Error("client has a malformed key hash; its key is refused", "client_id", row.ID, "client", row.Name)
	}
	if len(c.Whitelist) > 0 {
		c.whitelist = make(map[string]struct{}, len(c.Whitelist))
		for _, m := range c.Whitelist {
			c.whitelist[m] = struct{}{}
		}
	}
	c.labels = make(map[string]struct{}, len(c.Whitelist)+len(c.modelsCache)+1)
	for _, list := range [][]string{c.Whitelist, c.modelsCache, {c.DefaultModel}} {
		for _, m := range list {
			if m != "" {
				c.labels[m] = struct{}{}
			}
		}
	}

	if sharesRunning(prev, c) {
		c.running = prev.running
	} else {
		c.running = newRunning()
	}

	if prev != nil && prev.providerErr == nil && sameConnection(&prev.row, row) {
		c.provider, c.targets, c.upstreamKeys = prev.provider, prev.targets, prev.upstreamKeys
		return c
	}
	// A client saved with other connection settings: its keys get a new chance.
	g.buildTargets(c, row, prev != nil)
	return c
}

// buildProvider is the one place a provider is built: target t reached with the key sealed
// (nil for none), answering /v1/responses as responsesAPI says (db.ResponsesAPINative or
// translate). It returns the decrypted key too, for redaction.
func (g *Gateway) buildProvider(t db.Target, responsesAPI string, sealed []byte) (providers.Provider, string, error) {
	row := &t
	factory := g.opts.Providers[row.Backend]
	if factory == nil {
		return nil, "", fmt.Errorf("unknown backend %q", row.Backend)
	}
	var key string
	if len(sealed) > 0 {
		if g.opts.Secrets == nil {
			return nil, "", fmt.Errorf("upstream key is encrypted but no decrypter is configured")
		}
		k, err := g.opts.Secrets.Decrypt(sealed)
		if err != nil {
			return nil, "", fmt.Errorf("decrypt upstream key: %w", err)
		}
		key = k
	}
	p, err := factory(providers.Config{
		Backend:         row.Backend,
		BaseURL:         row.BaseURL,
		APIKey:          key,
		AzureAPIVersion: row.AzureAPIVersion,
		ResponsesAPI:    responsesAPI,
		HTTPClient:      g.opts.HTTPClient,
		HeaderTimeout:   g.opts.HeaderTimeout,
		IdleTimeout:     g.opts.IdleTimeout,
		Propagator:      g.opts.Propagator,
	})
	if err != nil {
		return nil, "", fmt.Errorf("build %s provider: %w", row.Backend, err)
	}
	if p == nil {
		return nil, "", fmt.Errorf("build %s provider: factory returned nil", row.Backend)
	}
	return p, key, nil
}

// sameSettings reports whether a and b are the same client settings; last_used_at (written by
// the gateway itself) does not count.
func sameSettings(a, b *db.Client) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Active == b.Active && a.KeyHash == b.KeyHash &&
		sameConnection(a, b) && a.DefaultModel == b.DefaultModel &&
		slices.Equal(a.ModelWhitelist, b.ModelWhitelist) && slices.Equal(a.ModelsCache, b.ModelsCache) &&
		a.ModelsFetchedAt.Equal(b.ModelsFetchedAt) && a.SystemPrompt == b.SystemPrompt && a.ToolMode == b.ToolMode &&
		slices.Equal(a.MCPServers, b.MCPServers) &&
		a.PromptCache == b.PromptCache &&
		a.RequestsPerMinute == b.RequestsPerMinute && a.RequestsPerHour == b.RequestsPerHour &&
		a.RequestsPerDay == b.RequestsPerDay && a.MaxInputTokensPerDay == b.MaxInputTokensPerDay &&
		a.MaxOutputTokensPerDay == b.MaxOutputTokensPerDay && a.MaxRequestsPerDay == b.MaxRequestsPerDay &&
		a.MaxInputTokens == b.MaxInputTokens && a.MaxOutputTokens == b.MaxOutputTokens &&
		a.UpdatedAt.Equal(b.UpdatedAt)
}
