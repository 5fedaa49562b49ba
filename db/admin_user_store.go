package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/uptrace/bun"
)

// ErrBadCredentials is returned by Authenticate for an unknown user or a wrong password alike.
var ErrBadCredentials = errors.New("invalid username or password")

// DefaultAdminUsername is the account created on first launch.
const DefaultAdminUsername = "admin"

// passwordParams are OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): strong, and cheap
// enough that a login does not stall a small box.
func passwordParams() *argon2id.Params {
	return &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// AdminUsers stores admin accounts with argon2id password hashes.
type AdminUsers struct {
	db *bun.DB

	dummyOnce sync.Once
	dummy     string // hash compared against for unknown users, so they cost as much as known ones
}

// NewAdminUsers returns the admin user store over db.
func NewAdminUsers(db *bun.DB) *AdminUsers { return &AdminUsers{db: db} }

// Count returns the number of admin accounts.
func (s *AdminUsers) Count(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*AdminUser)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count admin users: %w", err)
	}
	return int(n), nil
}

// Create adds an account with password hashed by argon2id.
func (s *AdminUsers) Create(ctx context.Context, username, password string) (*AdminUser, error) {
	hash, err := argon2id.CreateHash(password, passwordParams())
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	now := time.Now().UTC()
	u := &AdminUser{Username: username, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if _, err := s.db.NewInsert().Model(u).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create admin user %q: %w", username, err)
	}
	return u, nil
}

// Usernames returns every account's username, in the order they were created.
func (s *AdminUsers) Usernames(ctx context.Context) ([]string, error) {
	var names []string
	if err := s.db.NewSelect().Model((*AdminUser)(nil)).Column("username").Order("id").Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("list admin users: %w", err)
	}
	return names, nil
}

// Get returns the account with id, or ErrNotFound.
func (s *AdminUsers) Get(ctx context.Context, id int64) (*AdminUser, error) {
	return s.getWhere(ctx, "id = ?", id)
}

// GetByUsername returns the account named username, or ErrNotFound.
func (s *AdminUsers) GetByUsername(ctx context.Context, username string) (*AdminUser, error) {
	return s.getWhere(ctx, "username = ?", username)
}

func (s *AdminUsers) getWhere(ctx context.Context, where string, arg any) (*AdminUser, error) {
	u := new(AdminUser)
	err := s.db.NewSelect().Model(u).Where(where, arg).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get admin user: %w", err)
	}
	return u, nil
}

// SetPassword replaces the password of the account with id (ErrNotFound when there is none).
func (s *AdminUsers) SetPassword(ctx context.Context, id int64, password string) error {
	hash, err := argon2id.CreateHash(password, passwordParams())
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	res, err := s.db.NewUpdate().Model((*AdminUser)(nil)).
		Set("password_hash = ?", hash).Set("updated_at = ?", time.Now().UTC()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	return oneRow(res)
}

// Authenticate returns the account when password is right, or ErrBadCredentials. An unknown
// username costs the same argon2id work as a wrong password, so timing does not tell them apart.
func (s *AdminUsers) Authenticate(ctx context.Context, username, password string) (*AdminUser, error) {
	u, err := s.GetByUsername(ctx, username)
	if errors.Is(err, ErrNotFound) {
		s.dummyOnce.Do(func() { s.dummy, _ = argon2id.CreateHash("not a password", passwordParams()) })
		argon2id.ComparePasswordAndHash(password, s.dummy) //nolint:errcheck // only spends the time
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, err := argon2id.ComparePasswordAndHash(password, u.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("check password of %q: %w", username, err)
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return u, nil
}
