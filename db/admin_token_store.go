package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AdminTokenPrefix starts every admin API token, so a leaked one is recognisable.
const AdminTokenPrefix = "aigw_"

// AdminTokens stores bearer tokens for the admin JSON API; only HashKey of a token is stored.
type AdminTokens struct {
	db *bun.DB
}

// NewAdminTokens returns the admin token store over db.
func NewAdminTokens(db *bun.DB) *AdminTokens { return &AdminTokens{db: db} }

// Create makes a token named name and returns it in full, once.
func (s *AdminTokens) Create(ctx context.Context, name string) (token string, t *AdminToken, err error) {
	token = AdminTokenPrefix + RandomString(keyRandomChars)
	t = &AdminToken{Name: name, TokenHash: HashKey(token), Hint: Hint(token), CreatedAt: time.Now().UTC()}
	if _, err := s.db.NewInsert().Model(t).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("create admin token: %w", err)
	}
	return token, t, nil
}

// Lookup returns the stored token matching token, or ErrNotFound.
func (s *AdminTokens) Lookup(ctx context.Context, token string) (*AdminToken, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	t := new(AdminToken)
	err := s.db.NewSelect().Model(t).Where("token_hash = ?", HashKey(token)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get admin token: %w", err)
	}
	return t, nil
}

// Touch records that the token with id was used at at.
func (s *AdminTokens) Touch(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.NewUpdate().Model((*AdminToken)(nil)).Set("last_used_at = ?", at.UTC()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch admin token: %w", err)
	}
	return nil
}

// List returns every token, oldest first.
func (s *AdminTokens) List(ctx context.Context) ([]AdminToken, error) {
	var ts []AdminToken
	if err := s.db.NewSelect().Model(&ts).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", err)
	}
	return ts, nil
}

// Delete revokes the token with id, or returns ErrNotFound.
func (s *AdminTokens) Delete(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*AdminToken)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete admin token: %w", err)
	}
	return oneRow(res)
}

// DeleteAll revokes every token and returns how many there were.
func (s *AdminTokens) DeleteAll(ctx context.Context) (int64, error) {
	res, err := s.db.NewDelete().Model((*AdminToken)(nil)).Where("1 = 1").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete admin tokens: %w", err)
	}
	return res.RowsAffected()
}
