package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AdminSessions stores logged-in browsers. The cookie value is random and only its HashKey is
// stored, so reading the database does not hand out sessions.
type AdminSessions struct {
	db *bun.DB
}

// NewAdminSessions returns the session store over db.
func NewAdminSessions(db *bun.DB) *AdminSessions { return &AdminSessions{db: db} }

// Create starts a session for userID that expires at expires. It returns the cookie value (shown
// to the browser only) and the stored session, which carries the session's CSRF token.
func (s *AdminSessions) Create(ctx context.Context, userID int64, now, expires time.Time) (cookie string, sess *AdminSession, err error) {
	cookie = RandomString(43)
	sess = &AdminSession{
		ID:         HashKey(cookie),
		UserID:     userID,
		CSRFToken:  RandomString(43),
		CreatedAt:  now.UTC(),
		ExpiresAt:  expires.UTC(),
		LastSeenAt: now.UTC(),
	}
	if _, err := s.db.NewInsert().Model(sess).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return cookie, sess, nil
}

// Lookup returns the session of a cookie value. An unknown or expired session is ErrNotFound
// (and an expired one is deleted).
func (s *AdminSessions) Lookup(ctx context.Context, cookie string, now time.Time) (*AdminSession, error) {
	if cookie == "" {
		return nil, ErrNotFound
	}
	sess := new(AdminSession)
	err := s.db.NewSelect().Model(sess).Where("id = ?", HashKey(cookie)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	if !now.Before(sess.ExpiresAt) {
		if err := s.Delete(ctx, sess.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, ErrNotFound
	}
	return sess, nil
}

// Touch records activity on a session and moves its expiry.
func (s *AdminSessions) Touch(ctx context.Context, id string, lastSeen, expires time.Time) error {
	_, err := s.db.NewUpdate().Model((*AdminSession)(nil)).
		Set("last_seen_at = ?", lastSeen.UTC()).Set("expires_at = ?", expires.UTC()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// Delete ends the session with id (the stored hash), or returns ErrNotFound.
func (s *AdminSessions) Delete(ctx context.Context, id string) error {
	res, err := s.db.NewDelete().Model((*AdminSession)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return oneRow(res)
}

// DeleteUser ends every session of a user (after a password change) and returns how many.
func (s *AdminSessions) DeleteUser(ctx context.Context, userID int64) (int64, error) {
	res, err := s.db.NewDelete().Model((*AdminSession)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return res.RowsAffected()
}

// DeleteExpired removes sessions that expired at or before now and returns how many.
func (s *AdminSessions) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*AdminSession)(nil)).Where("expires_at <= ?", now.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
