package db

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

func TestClientsLifecycle(t *testing.T) { eachDB(t, testClientsLifecycle) }

func testClientsLifecycle(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewClients(d)

	c := &Client{Name: "app", Backend: "openai", Active: true, ModelWhitelist: Strings{"gpt-4o", "gpt-4o-mini"},
		RequestsPerMinute: 60, MaxOutputTokens: 8192}
	key, err := s.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "gm_") || c.KeyPrefix != "gm_" {
		t.Fatalf("default prefix: key %q, stored prefix %q", key, c.KeyPrefix)
	}
	if c.ID == 0 || c.KeyHash != HashKey(key) || c.KeyHint != key[len(key)-4:] || c.ToolMode != "passthrough" {
		t.Fatalf("create did not fill the client: %+v", c)
	}

	got, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "app" || !slices.Equal(got.ModelWhitelist, []string{"gpt-4o", "gpt-4o-mini"}) || got.RequestsPerMinute != 60 || !got.Active {
		t.Fatalf("Get = %+v", got)
	}
	if byKey, err := s.GetByKeyHash(ctx, HashKey(key)); err != nil || byKey.ID != c.ID {
		t.Fatalf("GetByKeyHash = %v, %v", byKey, err)
	}

	// Update changes settings, never the key.
	got.Name, got.Active, got.ModelWhitelist = "renamed", false, nil
	got.KeyHash = "tampered"
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Get(ctx, c.ID)
	if again.Name != "renamed" || again.Active || len(again.ModelWhitelist) != 0 || again.KeyHash != HashKey(key) {
		t.Fatalf("after update: %+v", again)
	}

	newKey, rotated, err := s.RotateKey(ctx, c.ID, "sk-ant-")
	if err != nil {
		t.Fatal(err)
	}
	if newKey == key || !strings.HasPrefix(newKey, "sk-ant-") || rotated.KeyPrefix != "sk-ant-" {
		t.Fatalf("rotate: new key %q, client %+v", newKey, rotated)
	}
	if _, err := s.GetByKeyHash(ctx, HashKey(key)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old key still resolves after rotation: %v", err)
	}
	if byKey, err := s.GetByKeyHash(ctx, HashKey(newKey)); err != nil || byKey.ID != c.ID {
		t.Fatalf("new key does not resolve: %v", err)
	}
	if k2, r2, err := s.RotateKey(ctx, c.ID, ""); err != nil || !strings.HasPrefix(k2, "sk-ant-") || r2.KeyPrefix != "sk-ant-" {
		t.Fatalf("rotate with empty prefix should keep sk-ant-: %q %v", k2, err)
	}

	fetched := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.SetModelsCache(ctx, c.ID, []string{"a", "b"}, fetched); err != nil {
		t.Fatal(err)
	}
	used := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	if err := s.MarkUsed(ctx, map[int64]time.Time{c.ID: used, 999: used}); err != nil {
		t.Fatal(err)
	}
	again, _ = s.Get(ctx, c.ID)
	if !slices.Equal(again.ModelsCache, []string{"a", "b"}) || !again.ModelsFetchedAt.Equal(fetched) || !again.LastUsedAt.Equal(used) {
		t.Fatalf("models cache / last used: %+v", again)
	}

	if _, err := s.Create(ctx, &Client{Name: "second", Backend: "gemini", KeyPrefix: "sk-"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "renamed" || list[1].KeyPrefix != "sk-" {
		t.Fatalf("List = %+v, %v", list, err)
	}

	if err := s.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get":    func() error { _, err := s.Get(ctx, c.ID); return err }(),
		"delete": s.Delete(ctx, c.ID),
		"update": s.Update(ctx, &Client{ID: c.ID}),
		"rotate": func() error { _, _, err := s.RotateKey(ctx, c.ID, ""); return err }(),
		"models": s.SetModelsCache(ctx, c.ID, nil, time.Now()),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a deleted client: %v, want ErrNotFound", name, err)
		}
	}
}

func TestClientsCreateRejectsBadPrefix(t *testing.T) { eachDB(t, testClientsCreateRejectsBadPrefix) }

func testClientsCreateRejectsBadPrefix(t *testing.T, d *bun.DB) {
	if _, err := NewClients(d).Create(context.Background(), &Client{Name: "x", Backend: "openai", KeyPrefix: "pk_"}); err == nil {
		t.Fatal("created a client with prefix pk_")
	}
}

func TestClientsUpstreamKeyStoredEncrypted(t *testing.T) {
	eachDB(t, testClientsUpstreamKeyStoredEncrypted)
}

func testClientsUpstreamKeyStoredEncrypted(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	k := mustKeyring(t, testKey(3))
	ct, _ := k.Encrypt("sk-upstream-secret-value")
	c := &Client{Name: "enc", Backend: "openai", UpstreamKey: ct, UpstreamKeyHint: Hint("sk-upstream-secret-value")}
	if _, err := NewClients(d).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := d.NewSelect().Table("client").Column("upstream_key").Where("id = ?", c.ID).Scan(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "upstream-secret") {
		t.Fatal("upstream key stored in clear")
	}
	got, _ := NewClients(d).Get(ctx, c.ID)
	if plain, err := k.Decrypt(got.UpstreamKey); err != nil || plain != "sk-upstream-secret-value" {
		t.Fatalf("decrypt stored key: %q, %v", plain, err)
	}
}
