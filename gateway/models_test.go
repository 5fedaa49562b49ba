package gateway

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

func TestModelsWhitelistElseCacheElseFetchedOnce(t *testing.T) {
	listed := clientRow(1, "listed")
	listed.ModelWhitelist = db.Strings{"b", "a"}
	cached := clientRow(2, "cached")
	cached.ModelsCache = db.Strings{"x", "y"}
	fresh := clientRow(3, "fresh")
	e := newEnv(t, []db.Client{listed, cached, fresh}, nil)
	ctx := context.Background()
	// Insert the client rows so models_cache can be written back.
	for _, r := range []db.Client{listed, cached, fresh} {
		r.CreatedAt = day0
		if _, err := e.db.NewInsert().Model(&r).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	got, err := e.gw.Models(ctx, e.auth("listed"))
	if err != nil || !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("whitelisted: %v, %v", got, err)
	}
	got, err = e.gw.Models(ctx, e.auth("cached"))
	if err != nil || !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("cached: %v, %v", got, err)
	}

	// First use with an empty cache: many concurrent callers, one upstream call.
	c := e.auth("fresh")
	p, _ := c.Provider()
	fp := p.(*fakeProvider)
	fp.models = []providers.Model{{ID: "m2"}, {ID: "m1"}, {ID: "m2"}}
	fp.block = make(chan struct{})
	var wg sync.WaitGroup
	results := make([][]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = e.gw.Models(ctx, c)
		}()
	}
	close(fp.block)
	wg.Wait()
	for _, r := range results {
		if !slices.Equal(r, []string{"m1", "m2"}) {
			t.Fatalf("fetched %v, want sorted, deduplicated [m1 m2]", r)
		}
	}
	if n := fp.calls.Load(); n != 1 {
		t.Fatalf("%d upstream calls, want 1", n)
	}

	// The list went to the writer, not to the database on the request path.
	var row db.Client
	load := func() {
		t.Helper()
		if err := e.db.NewSelect().Model(&row).Where("id = 3").Scan(ctx); err != nil {
			t.Fatal(err)
		}
	}
	load()
	if len(row.ModelsCache) != 0 {
		t.Fatalf("models_cache written on the request path: %v", row.ModelsCache)
	}
	e.flush()
	load()
	if !slices.Equal(row.ModelsCache, db.Strings{"m1", "m2"}) || !row.ModelsFetchedAt.Equal(day0) {
		t.Fatalf("models_cache %v at %v", row.ModelsCache, row.ModelsFetchedAt)
	}

	// The admin button fetches again and has it stored when it returns.
	fp.models = []providers.Model{{ID: "m3"}}
	e.clock.Add(time.Hour)
	got, err = e.gw.FetchModels(ctx, c)
	if err != nil || !slices.Equal(got, []string{"m3"}) {
		t.Fatalf("FetchModels: %v, %v", got, err)
	}
	load()
	if !slices.Equal(row.ModelsCache, db.Strings{"m3"}) {
		t.Fatalf("models_cache after FetchModels %v", row.ModelsCache)
	}
	// Requests see the new list; a reload from the (now updated) row keeps it.
	if got, _ := e.gw.Models(ctx, c); !slices.Equal(got, []string{"m3"}) {
		t.Fatalf("Models after FetchModels %v", got)
	}
	fresh.ModelsCache, fresh.ModelsFetchedAt = row.ModelsCache, row.ModelsFetchedAt
	e.clients.put(fresh)
	if err := e.gw.ReloadClients(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.gw.Models(ctx, e.auth("fresh")); !slices.Equal(got, []string{"m3"}) {
		t.Fatalf("Models after reload %v", got)
	}
	if fp.calls.Load() != 2 {
		t.Fatalf("%d upstream calls, want 2", fp.calls.Load())
	}
}

func TestModelsUpstreamErrorIsTyped(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	c := e.auth("app")
	p, _ := c.Provider()
	p.(*fakeProvider).err = &providers.Error{Kind: providers.KindAuth, HTTPStatus: 401, Message: "bad upstream key", Provider: "openai"}
	_, err := e.gw.Models(context.Background(), c)
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Status() != 401 {
		t.Fatalf("error %v", err)
	}
	p.(*fakeProvider).err = errors.New("dial tcp: connection refused")
	_, err = e.gw.FetchModels(context.Background(), c)
	perr(t, err, providers.KindUnavailable)
}
