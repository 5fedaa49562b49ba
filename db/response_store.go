package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Responses stores the Responses API's responses, per client.
type Responses struct {
	db *bun.DB
}

// NewResponses returns the response store over db.
func NewResponses(db *bun.DB) *Responses { return &Responses{db: db} }

// Add stores r; a zero CreatedAt becomes now.
func (s *Responses) Add(ctx context.Context, r *StoredResponse) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if _, err := s.db.NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("add response: %w", err)
	}
	return nil
}

// Get returns client's response id; nil when there is none (or it is another client's).
func (s *Responses) Get(ctx context.Context, client int64, id string) (*StoredResponse, error) {
	var r StoredResponse
	err := s.db.NewSelect().Model(&r).Where("id = ? AND client_id = ?", id, client).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get response: %w", err)
	}
	return &r, nil
}

// Delete deletes client's response id, reporting whether there was one.
func (s *Responses) Delete(ctx context.Context, client int64, id string) (bool, error) {
	res, err := s.db.NewDelete().Model((*StoredResponse)(nil)).Where("id = ? AND client_id = ?", id, client).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete response: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteBefore deletes the responses created before t (the retention job).
func (s *Responses) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*StoredResponse)(nil)).Where("created_at < ?", t.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete old responses: %w", err)
	}
	return res.RowsAffected()
}
