package db

import (
	"context"
	"fmt"
	"sort"

	"github.com/uptrace/bun"
)

// UsageStore reads and writes the usage_daily rollups.
//
// The gateway keeps today's usage in memory and adds deltas through the background writer
// (RequestLogStore.WriteBatch); this store is what it reads back at start, and what the admin UI
// reads for history.
type UsageStore struct {
	db bun.IDB
}

// NewUsageStore returns the usage_daily store over db.
func NewUsageStore(db bun.IDB) *UsageStore { return &UsageStore{db: db} }

// Add adds each row's counters to the stored row with the same (client_id, day, model),
// creating it when missing, in one transaction.
func (s *UsageStore) Add(ctx context.Context, rows []UsageDaily) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return addUsage(ctx, tx, rows)
	})
}

// ForDay returns every row of day (YYYY-MM-DD, UTC): what the gateway loads at start so that a
// restart does not reset the daily quotas.
func (s *UsageStore) ForDay(ctx context.Context, day string) ([]UsageDaily, error) {
	var rows []UsageDaily
	err := s.db.NewSelect().Model(&rows).Where("day = ?", day).
		OrderExpr("client_id, model").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load usage of %s: %w", day, err)
	}
	return rows, nil
}

// Range returns the rows from fromDay to toDay inclusive (YYYY-MM-DD), oldest first; clientID 0
// means every client.
func (s *UsageStore) Range(ctx context.Context, clientID int64, fromDay, toDay string) ([]UsageDaily, error) {
	var rows []UsageDaily
	q := s.db.NewSelect().Model(&rows).Where("day >= ?", fromDay).Where("day <= ?", toDay)
	if clientID != 0 {
		q = q.Where("client_id = ?", clientID)
	}
	if err := q.OrderExpr("day, client_id, model").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load usage %s..%s: %w", fromDay, toDay, err)
	}
	return rows, nil
}

// addUsage upserts rows as deltas. The statement is portable SQL (SQLite ≥ 3.24 and PostgreSQL
// both have INSERT … ON CONFLICT … DO UPDATE with EXCLUDED). Rows are sorted by key so two
// writers never lock the same rows in opposite orders.
func addUsage(ctx context.Context, idb bun.IDB, rows []UsageDaily) error {
	if len(rows) == 0 {
		return nil
	}
	rows = mergeUsage(rows)
	const chunk = 500 // 14 columns each: far below SQLite's bound-parameter limit
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		_, err := idb.NewInsert().Model(&part).
			On("CONFLICT (client_id, day, model) DO UPDATE").
			Set("requests = usage_daily.requests + EXCLUDED.requests").
			Set("errors = usage_daily.errors + EXCLUDED.errors").
			Set("refused = usage_daily.refused + EXCLUDED.refused").
			Set("input_tokens = usage_daily.input_tokens + EXCLUDED.input_tokens").
			Set("output_tokens = usage_daily.output_tokens + EXCLUDED.output_tokens").
			Set("cached_tokens = usage_daily.cached_tokens + EXCLUDED.cached_tokens").
			Set("reasoning_tokens = usage_daily.reasoning_tokens + EXCLUDED.reasoning_tokens").
			Set("cache_write_tokens = usage_daily.cache_write_tokens + EXCLUDED.cache_write_tokens").
			Set("cost_micros = usage_daily.cost_micros + EXCLUDED.cost_micros").
			Set("unpriced = usage_daily.unpriced + EXCLUDED.unpriced").
			Set("saved_micros = usage_daily.saved_micros + EXCLUDED.saved_micros").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("add usage: %w", err)
		}
	}
	return nil
}

// Add adds o's counters to u (the key is not compared). Every counter of the rollup is summed
// here, so a new column cannot be summed in one place and forgotten in another.
func (u *UsageDaily) Add(o *UsageDaily) {
	u.Requests += o.Requests
	u.Errors += o.Errors
	u.Refused += o.Refused
	u.InputTokens += o.InputTokens
	u.OutputTokens += o.OutputTokens
	u.CachedTokens += o.CachedTokens
	u.ReasoningTokens += o.ReasoningTokens
	u.CacheWriteTokens += o.CacheWriteTokens
	u.CostMicros += o.CostMicros
	u.Unpriced += o.Unpriced
	u.SavedMicros += o.SavedMicros
}

// mergeUsage sums rows with the same key (one INSERT may not touch a row twice) and sorts them.
func mergeUsage(rows []UsageDaily) []UsageDaily {
	type key struct {
		client int64
		day    string
		model  string
	}
	idx := make(map[key]int, len(rows))
	out := make([]UsageDaily, 0, len(rows))
	for _, r := range rows {
		k := key{r.ClientID, r.Day, r.Model}
		if i, ok := idx[k]; ok {
			out[i].Add(&r)
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.ClientID != b.ClientID {
			return a.ClientID < b.ClientID
		}
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		return a.Model < b.Model
	})
	return out
}

// SpendSince sums each client's cost in micro-dollars from fromDay (YYYY-MM-DD) on: what the
// gateway loads at start so that a restart keeps the month's spend against the budgets.
func (s *UsageStore) SpendSince(ctx context.Context, fromDay string) ([]UsageDaily, error) {
	var rows []UsageDaily
	err := s.db.NewSelect().Model((*UsageDaily)(nil)).
		Column("client_id", "day").ColumnExpr("SUM(cost_micros) AS cost_micros").
		Where("day >= ?", fromDay).Group("client_id", "day").OrderExpr("client_id, day").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load spend since %s: %w", fromDay, err)
	}
	return rows, nil
}
