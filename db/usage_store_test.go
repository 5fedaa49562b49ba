package db

import (
	"context"
	"slices"
	"testing"

	"github.com/uptrace/bun"
)

func TestUsageStoreAddForDayAndRange(t *testing.T) { eachDB(t, testUsageStoreAddForDayAndRange) }

func testUsageStoreAddForDayAndRange(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewUsageStore(d)
	add := func(rows ...UsageDaily) {
		t.Helper()
		if err := s.Add(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	add(
		UsageDaily{ClientID: 1, Day: "2026-03-01", Model: "a", Requests: 1, InputTokens: 10, OutputTokens: 1, CachedTokens: 2, ReasoningTokens: 1,
			CacheWriteTokens: 4, CostMicros: 50, SavedMicros: 100},
		UsageDaily{ClientID: 2, Day: "2026-03-01", Model: "a", Requests: 1},
		UsageDaily{ClientID: 1, Day: "2026-03-02", Model: "a", Requests: 5},
	)
	add(UsageDaily{ClientID: 1, Day: "2026-03-01", Model: "a", Requests: 2, Errors: 1, InputTokens: 5, OutputTokens: 4, CachedTokens: 1, ReasoningTokens: 3,
		CostMicros: 7, Unpriced: 1, SavedMicros: -30})

	day, err := s.ForDay(ctx, "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	want := []UsageDaily{
		{ClientID: 1, Day: "2026-03-01", Model: "a", Requests: 3, Errors: 1, InputTokens: 15, OutputTokens: 5, CachedTokens: 3, ReasoningTokens: 4,
			CacheWriteTokens: 4, CostMicros: 57, Unpriced: 1, SavedMicros: 70},
		{ClientID: 2, Day: "2026-03-01", Model: "a", Requests: 1},
	}
	if !slices.Equal(day, want) {
		t.Fatalf("ForDay = %+v\nwant %+v", day, want)
	}

	rng, err := s.Range(ctx, 1, "2026-03-01", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	if len(rng) != 2 || rng[0].Day != "2026-03-01" || rng[1].Day != "2026-03-02" || rng[1].Requests != 5 {
		t.Fatalf("Range = %+v", rng)
	}
	all, err := s.Range(ctx, 0, "2026-03-02", "2026-03-31")
	if err != nil || len(all) != 1 {
		t.Fatalf("Range(all, from 03-02) = %+v, %v", all, err)
	}

	// The month's spend per client and day, summed over the models (what a start reloads).
	add(UsageDaily{ClientID: 1, Day: "2026-03-01", Model: "b", Requests: 1, CostMicros: 1000})
	spend, err := s.SpendSince(ctx, "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	wantSpend := []UsageDaily{{ClientID: 1, Day: "2026-03-01", CostMicros: 1057}, {ClientID: 1, Day: "2026-03-02"}, {ClientID: 2, Day: "2026-03-01"}}
	if !slices.Equal(spend, wantSpend) {
		t.Fatalf("SpendSince = %+v\nwant %+v", spend, wantSpend)
	}
}
