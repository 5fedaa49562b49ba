package gateway

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

func TestKeyCacheSeesEveryChangeOnTheNextAuthenticate(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	reload := func() {
		t.Helper()
		if err := e.gw.ReloadClients(ctx); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(key string) {
		t.Helper()
		if _, err := e.gw.Authenticate(key); err == nil {
			t.Fatalf("key %q accepted", key)
		} else if pe := perr(t, err, providers.KindAuth); pe.Status() != 401 {
			t.Fatalf("status %d", pe.Status())
		}
	}

	refused("key-app")
	refused("")

	// Create.
	row := clientRow(7, "app")
	e.clients.put(row)
	reload()
	c := e.auth("app")
	if c.ID != 7 || c.DefaultModel != "gpt-4o-mini" {
		t.Fatalf("client %+v", c)
	}
	if e.fac.count() != 1 || e.fac.last().cfg.APIKey != "upstream-secret-app" || e.fac.last().cfg.Backend != "openai" {
		t.Fatalf("provider built %d times with %+v", e.fac.count(), e.fac.last().cfg)
	}

	// A reload without changes keeps the snapshot and its provider.
	reload()
	if e.auth("app") != c || e.fac.count() != 1 {
		t.Fatal("unchanged client rebuilt")
	}

	// Update: settings change; the connection does not, so the provider is reused.
	row.SystemPrompt = "Be brief."
	row.UpdatedAt = row.UpdatedAt.Add(time.Second)
	e.clients.put(row)
	reload()
	c2 := e.auth("app")
	if c2 == c || c2.SystemPrompt != "Be brief." || e.fac.count() != 1 {
		t.Fatalf("after update: prompt %q, providers built %d", c2.SystemPrompt, e.fac.count())
	}
	if p, _ := c2.Provider(); p != e.fac.last() {
		t.Fatal("provider not reused")
	}

	// A new upstream key builds a new provider with it.
	row.UpstreamKey = []byte("enc:rotated-upstream")
	e.clients.put(row)
	reload()
	if e.fac.count() != 2 || e.fac.last().cfg.APIKey != "rotated-upstream" {
		t.Fatalf("upstream key change: built %d, key %q", e.fac.count(), e.fac.last().cfg.APIKey)
	}

	// Deactivate.
	row.Active = false
	e.clients.put(row)
	reload()
	refused("key-app")
	if got := e.gw.ClientByID(7); got == nil || got.Active {
		t.Fatalf("ClientByID of inactive client = %+v", got)
	}
	row.Active = true
	e.clients.put(row)
	reload()
	e.auth("app")

	// Rotate: the old key is refused at once, the new one works.
	row.KeyHash = hashKey("new-key")
	e.clients.put(row)
	reload()
	refused("key-app")
	if c, err := e.gw.Authenticate("new-key"); err != nil || c.ID != 7 {
		t.Fatalf("new key: %v", err)
	}

	// Delete.
	e.clients.remove(7)
	reload()
	refused("new-key")
	if e.gw.ClientByID(7) != nil {
		t.Fatal("deleted client still known")
	}
}

func TestReloadFailureKeepsTheCache(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	e.clients.mu.Lock()
	e.clients.err = errors.New("database is locked")
	e.clients.mu.Unlock()
	if err := e.gw.ReloadClients(context.Background()); err == nil {
		t.Fatal("want the source's error")
	}
	e.auth("app")
}

func TestClientEventsReloadOtherInstances(t *testing.T) {
	bus := NewMemoryClientEvents()
	withBus := func(o *Options) { o.ClientEvents = bus }
	a := newEnv(t, nil, withBus)
	b := newEnv(t, nil, withBus)
	b.clients = a.clients // both instances read the same database
	b.gw.opts.Clients = a.clients

	a.clients.put(clientRow(1, "app"))
	if err := a.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.gw.Authenticate("key-app"); err != nil {
		t.Fatalf("instance b did not reload on a's announcement: %v", err)
	}
	if a.fac.count() != 1 {
		t.Fatalf("instance a reloaded its own announcement again: %d providers built", a.fac.count())
	}
	// After Close, b no longer listens.
	if err := b.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.clients.remove(1)
	if err := a.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.gw.Authenticate("key-app"); err != nil {
		t.Fatal("closed instance still reloading")
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	src := &fakeClients{}
	for i := range 100 {
		src.put(clientRow(int64(i+1), fmt.Sprintf("client%d", i)))
	}
	gw, err := New(Options{Clients: src, Secrets: fakeDecrypter{}, Providers: (&factories{}).providers(),
		Logs: nopLogs{}, Usage: nopLogs{}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	if err := gw.ReloadClients(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gw.Authenticate("key-client42"); err != nil {
			b.Fatal(err)
		}
	}
}

// nopLogs is a store that accepts everything and keeps nothing.
type nopLogs struct{}

func (nopLogs) WriteBatch(context.Context, db.AccountingBatch) error    { return nil }
func (nopLogs) DeleteBefore(context.Context, time.Time) (int64, error)  { return 0, nil }
func (nopLogs) ForDay(context.Context, string) ([]db.UsageDaily, error) { return nil, nil }

func TestStatsCountClientsFromTheKeyCache(t *testing.T) {
	off := clientRow(2, "off")
	off.Active = false
	e := newEnv(t, []db.Client{clientRow(1, "on"), off}, nil)
	if s := e.gw.Stats(); s.ClientCount != 2 || s.ActiveClientCount != 1 {
		t.Fatalf("counts %d/%d, want 2 clients, 1 active", s.ClientCount, s.ActiveClientCount)
	}
	e.clients.rows = append(e.clients.rows, clientRow(3, "new"))
	if err := e.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := e.gw.Stats(); s.ClientCount != 3 || s.ActiveClientCount != 2 {
		t.Fatalf("after a reload: counts %d/%d, want 3 clients, 2 active", s.ClientCount, s.ActiveClientCount)
	}
}
