package gateway

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

type fetchedModels struct {
	models []string
	at     time.Time
}

// Models returns the models c may use (GET /v1/models): the whitelist when it is set, else the
// backend's model list cached for the client, fetched from the backend on first use when the
// cache is empty. A fetched list is saved to the client's models_cache by the background writer,
// off the request path. Errors are the provider's *providers.Error.
func (g *Gateway) Models(ctx context.Context, c *Client) ([]string, error) {
	if len(c.Whitelist) > 0 {
		return slices.Clone(c.Whitelist), nil
	}
	if ms := g.cachedModels(c); ms != nil {
		return ms, nil
	}
	mu := g.fetchLock(c.ID)
	mu.Lock()
	defer mu.Unlock()
	if ms := g.cachedModels(c); ms != nil { // another request fetched it meanwhile
		return ms, nil
	}
	return g.fetchModels(ctx, c)
}

// FetchModels asks c's backend for its models now, caches them for c and stores them in the
// client's models_cache before returning (the admin "Fetch Models" button). The list is sorted.
func (g *Gateway) FetchModels(ctx context.Context, c *Client) ([]string, error) {
	mu := g.fetchLock(c.ID)
	mu.Lock()
	defer mu.Unlock()
	ms, err := g.fetchModels(ctx, c)
	if err != nil {
		return nil, err
	}
	if g.isRunning() {
		if err := g.Flush(ctx); err != nil {
			return ms, err
		}
	}
	return ms, nil
}

// cachedModels is the newest of the snapshot's models_cache and a list fetched since.
func (g *Gateway) cachedModels(c *Client) []string {
	if v, ok := g.fetched.Load(c.ID); ok {
		if f := v.(fetchedModels); f.at.After(c.fetchedAt) || len(c.modelsCache) == 0 {
			return slices.Clone(f.models)
		}
	}
	if len(c.modelsCache) > 0 {
		return slices.Clone(c.modelsCache)
	}
	return nil
}

func (g *Gateway) fetchLock(id int64) *sync.Mutex {
	v, _ := g.fetchMus.LoadOrStore(id, &sync.Mutex{})
	return v.(*sync.Mutex)
}

func (g *Gateway) fetchModels(ctx context.Context, c *Client) ([]string, error) {
	list, err := g.probe(ctx, c)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list))
	for _, m := range list {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	at := g.now().UTC()
	g.fetched.Store(c.ID, fetchedModels{models: ids, at: at})
	g.writer.addModels(db.ModelsCacheUpdate{ClientID: c.ID, Models: slices.Clone(ids), FetchedAt: at})
	return slices.Clone(ids), nil
}
