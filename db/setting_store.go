package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Settings stores admin-edited settings that override config.yaml at runtime.
type Settings struct {
	db *bun.DB
}

// NewSettings returns the settings store over db.
func NewSettings(db *bun.DB) *Settings { return &Settings{db: db} }

// Get returns the value of key; ok is false when it was never set.
func (s *Settings) Get(ctx context.Context, key string) (value string, ok bool, err error) {
	st := new(Setting)
	err = s.db.NewSelect().Model(st).Where("key = ?", key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get setting %s: %w", key, err)
	}
	return st.Value, true, nil
}

// Set stores value under key, replacing any earlier value.
func (s *Settings) Set(ctx context.Context, key, value string) error {
	st := &Setting{Key: key, Value: value, UpdatedAt: time.Now().UTC()}
	_, err := s.db.NewInsert().Model(st).
		On("CONFLICT (key) DO UPDATE").
		Set("value = EXCLUDED.value").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	return nil
}

// Delete removes the keys' stored values (missing ones are no error).
func (s *Settings) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := s.db.NewDelete().Model((*Setting)(nil)).Where("key IN (?)", bun.In(keys)).Exec(ctx); err != nil {
		return fmt.Errorf("delete settings: %w", err)
	}
	return nil
}

// All returns every stored setting.
func (s *Settings) All(ctx context.Context) (map[string]string, error) {
	var sts []Setting
	if err := s.db.NewSelect().Model(&sts).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list settings: %w", err)
	}
	m := make(map[string]string, len(sts))
	for _, st := range sts {
		m[st.Key] = st.Value
	}
	return m, nil
}
