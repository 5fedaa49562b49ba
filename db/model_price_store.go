package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ModelPrices stores the administrators' price overrides (model_price).
type ModelPrices struct {
	db bun.IDB
}

// NewModelPrices returns the price-override store over db.
func NewModelPrices(db bun.IDB) *ModelPrices { return &ModelPrices{db: db} }

// List returns every override, by model.
func (s *ModelPrices) List(ctx context.Context) ([]ModelPrice, error) {
	var rows []ModelPrice
	if err := s.db.NewSelect().Model(&rows).Order("model").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list model prices: %w", err)
	}
	return rows, nil
}

// Set stores p, replacing any earlier override of the same model.
func (s *ModelPrices) Set(ctx context.Context, p *ModelPrice) error {
	p.UpdatedAt = time.Now().UTC()
	_, err := s.db.NewInsert().Model(p).
		On("CONFLICT (model) DO UPDATE").
		Set("input_usd_mtok = EXCLUDED.input_usd_mtok").
		Set("output_usd_mtok = EXCLUDED.output_usd_mtok").
		Set("cache_read_usd_mtok = EXCLUDED.cache_read_usd_mtok").
		Set("cache_write_usd_mtok = EXCLUDED.cache_write_usd_mtok").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("set price of %s: %w", p.Model, err)
	}
	return nil
}

// Delete removes the override of model; it returns ErrNotFound when there was none.
func (s *ModelPrices) Delete(ctx context.Context, model string) error {
	res, err := s.db.NewDelete().Model((*ModelPrice)(nil)).Where("model = ?", model).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete price of %s: %w", model, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
