package db

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AuditLogs stores the record of admin actions.
type AuditLogs struct {
	db *bun.DB
}

// NewAuditLogs returns the audit log store over db.
func NewAuditLogs(db *bun.DB) *AuditLogs { return &AuditLogs{db: db} }

// Add records one action; a zero Time becomes now. Detail must never hold a secret.
func (s *AuditLogs) Add(ctx context.Context, e *AuditLog) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if _, err := s.db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("add audit log: %w", err)
	}
	return nil
}

// List returns up to limit entries, newest first, older than beforeID when beforeID > 0.
func (s *AuditLogs) List(ctx context.Context, limit int, beforeID int64) ([]AuditLog, error) {
	var es []AuditLog
	q := s.db.NewSelect().Model(&es).Order("id DESC").Limit(int64(limit))
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return es, nil
}
