package db

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

func TestAdminUsersAuthenticate(t *testing.T) { eachDB(t, testAdminUsersAuthenticate) }

func testAdminUsersAuthenticate(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewAdminUsers(d)
	u, err := s.Create(ctx, "admin", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "horse") {
		t.Fatalf("password hash %q is not argon2id", u.PasswordHash)
	}
	if n, _ := s.Count(ctx); n != 1 {
		t.Fatalf("Count = %d", n)
	}
	tests := []struct {
		user, pass string
		ok         bool
	}{
		{"admin", "correct horse battery staple", true},
		{"admin", "wrong", false},
		{"admin", "", false},
		{"nobody", "correct horse battery staple", false},
	}
	for _, tt := range tests {
		got, err := s.Authenticate(ctx, tt.user, tt.pass)
		if tt.ok && (err != nil || got.ID != u.ID) {
			t.Errorf("Authenticate(%q, %q) = %v, %v; want the user", tt.user, tt.pass, got, err)
		}
		if !tt.ok && !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%q, %q) err = %v; want ErrBadCredentials", tt.user, tt.pass, err)
		}
	}

	if err := s.SetPassword(ctx, u.ID, "new password 1234567890"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "admin", "correct horse battery staple"); !errors.Is(err, ErrBadCredentials) {
		t.Error("old password still works after SetPassword")
	}
	if _, err := s.Authenticate(ctx, "admin", "new password 1234567890"); err != nil {
		t.Errorf("new password rejected: %v", err)
	}
	if err := s.SetPassword(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword of unknown user: %v", err)
	}
	if _, err := s.Create(ctx, "admin", "again"); err == nil {
		t.Error("created a second user named admin")
	}
}

func TestAdminSessions(t *testing.T) { eachDB(t, testAdminSessions) }

func testAdminSessions(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	u, _ := NewAdminUsers(d).Create(ctx, "admin", "pw-000000000000000000")
	s := NewAdminSessions(d)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

	cookie, sess, err := s.Create(ctx, u.ID, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sess.ID != HashKey(cookie) || sess.ID == cookie || len(sess.CSRFToken) < 32 || len(cookie) < 32 {
		t.Fatalf("session %+v for cookie %q", sess, cookie)
	}
	if got, err := s.Lookup(ctx, cookie, t0.Add(59*time.Minute)); err != nil || got.CSRFToken != sess.CSRFToken {
		t.Fatalf("Lookup before expiry = %v, %v", got, err)
	}
	if _, err := s.Lookup(ctx, sess.ID, t0); !errors.Is(err, ErrNotFound) {
		t.Fatal("the stored hash works as a cookie")
	}
	if _, err := s.Lookup(ctx, "", t0); !errors.Is(err, ErrNotFound) {
		t.Fatal("empty cookie found a session")
	}

	// Touch moves the expiry.
	if err := s.Touch(ctx, sess.ID, t0.Add(50*time.Minute), t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, cookie, t0.Add(90*time.Minute)); err != nil {
		t.Fatalf("touched session expired early: %v", err)
	}
	if _, err := s.Lookup(ctx, cookie, t0.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session still valid: %v", err)
	}
	// Expired sessions are gone for good, even if the clock went back.
	if _, err := s.Lookup(ctx, cookie, t0); !errors.Is(err, ErrNotFound) {
		t.Fatal("expired session was not deleted")
	}

	c1, s1, _ := s.Create(ctx, u.ID, t0, t0.Add(time.Hour))
	c2, _, _ := s.Create(ctx, u.ID, t0, t0.Add(time.Hour))
	if err := s.Delete(ctx, s1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, c1, t0); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted session still valid")
	}
	if n, err := s.DeleteUser(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("DeleteUser = %d, %v; want 1", n, err)
	}
	if _, err := s.Lookup(ctx, c2, t0); !errors.Is(err, ErrNotFound) {
		t.Fatal("session survived DeleteUser")
	}

	s.Create(ctx, u.ID, t0, t0.Add(time.Minute))
	live, _, _ := s.Create(ctx, u.ID, t0, t0.Add(time.Hour))
	if n, err := s.DeleteExpired(ctx, t0.Add(30*time.Minute)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want 1", n, err)
	}
	if _, err := s.Lookup(ctx, live, t0); err != nil {
		t.Fatal("DeleteExpired removed a live session")
	}
}

func TestAdminTokens(t *testing.T) { eachDB(t, testAdminTokens) }

func testAdminTokens(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewAdminTokens(d)
	tok, row, err := s.Create(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, AdminTokenPrefix) || row.TokenHash != HashKey(tok) || row.Hint != tok[len(tok)-4:] {
		t.Fatalf("token %q row %+v", tok, row)
	}
	got, err := s.Lookup(ctx, tok)
	if err != nil || got.Name != "ci" {
		t.Fatalf("Lookup = %v, %v", got, err)
	}
	for _, bad := range []string{"", row.TokenHash, tok + "x"} {
		if _, err := s.Lookup(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Touch(ctx, row.ID, at); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || !list[0].LastUsedAt.Equal(at) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := s.Delete(ctx, row.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatal("revoked token still works")
	}
	if err := s.Delete(ctx, row.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestAuditLogs(t *testing.T) { eachDB(t, testAuditLogs) }

func testAuditLogs(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewAuditLogs(d)
	for i, action := range []string{"client.create", "client.update", "client.delete"} {
		if err := s.Add(ctx, &AuditLog{Actor: "admin", Action: action, Target: "client:1", Detail: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.List(ctx, 2, 0)
	if err != nil || len(es) != 2 || es[0].Action != "client.delete" || es[1].Action != "client.update" || es[0].Time.IsZero() {
		t.Fatalf("List(2) = %+v, %v", es, err)
	}
	older, _ := s.List(ctx, 10, es[1].ID)
	if len(older) != 1 || older[0].Action != "client.create" {
		t.Fatalf("List before %d = %+v", es[1].ID, older)
	}
}

func TestSettings(t *testing.T) { eachDB(t, testSettings) }

func testSettings(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewSettings(d)
	if _, ok, err := s.Get(ctx, "logs.retention_days"); ok || err != nil {
		t.Fatalf("unset setting: ok=%v err=%v", ok, err)
	}
	if err := s.Set(ctx, "logs.retention_days", "7"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "logs.retention_days", "14"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "logs.retention_days"); v != "14" || !ok || err != nil {
		t.Fatalf("Get = %q %v %v; want 14", v, ok, err)
	}
	s.Set(ctx, "prometheus.enabled", "true")
	all, err := s.All(ctx)
	if err != nil || len(all) != 2 || all["prometheus.enabled"] != "true" {
		t.Fatalf("All = %v, %v", all, err)
	}
}

func TestAdminUsernamesAndDeleteAllTokens(t *testing.T) {
	eachDB(t, testAdminUsernamesAndDeleteAllTokens)
}

func testAdminUsernamesAndDeleteAllTokens(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	users, tokens := NewAdminUsers(bdb), NewAdminTokens(bdb)
	for _, name := range []string{"admin", "ops"} {
		if _, err := users.Create(ctx, name, "a password 1234567890"); err != nil {
			t.Fatal(err)
		}
	}
	if names, err := users.Usernames(ctx); err != nil || strings.Join(names, ",") != "admin,ops" {
		t.Errorf("Usernames = %v, %v", names, err)
	}
	if n, err := tokens.DeleteAll(ctx); err != nil || n != 0 {
		t.Errorf("DeleteAll of none = %d, %v", n, err)
	}
	var made []string
	for _, name := range []string{"ci", "deploy"} {
		tok, _, err := tokens.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, tok)
	}
	if n, err := tokens.DeleteAll(ctx); err != nil || n != 2 {
		t.Errorf("DeleteAll = %d, %v; want 2", n, err)
	}
	for _, tok := range made {
		if _, err := tokens.Lookup(ctx, tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("a token survived DeleteAll: %v", err)
		}
	}
}
