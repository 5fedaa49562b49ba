package db

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"
)

func TestModelPricesSetReplaceDelete(t *testing.T) { eachDB(t, testModelPricesSetReplaceDelete) }

func testModelPricesSetReplaceDelete(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewModelPrices(d)
	for _, p := range []ModelPrice{
		{Model: "gpt-4o", Input: 2.5, Output: 10},
		{Model: "claude", Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75},
		{Model: "gpt-4o", Input: 2, Output: 8, CacheRead: 1}, // replaces the first
	} {
		if err := s.Set(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Model != "claude" || got[0].CacheWrite != 3.75 ||
		got[1].Model != "gpt-4o" || got[1].Input != 2 || got[1].Output != 8 || got[1].CacheRead != 1 {
		t.Fatalf("prices %+v", got)
	}
	if err := s.Delete(ctx, "claude"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "claude"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a missing price: %v, want ErrNotFound", err)
	}
	if got, _ := s.List(ctx); len(got) != 1 {
		t.Fatalf("after delete: %+v", got)
	}
}
