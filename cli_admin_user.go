package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/aigateway/ai-gateway/db"
)

// cmdResetPassword gives an existing admin account a new random password and logs out its
// browser sessions. It never creates an account (that is admin create-user), and it leaves the
// admin API tokens alone: they belong to the installation, not to an account, and whatever
// uses them (CI, scripts) keeps working. The output says so and names the command that revokes
// them, for when the old password may have leaked.
func cmdResetPassword(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	fs := subFlags("admin reset-password", stdout, &configPath)
	username := fs.String("username", db.DefaultAdminUsername, "the admin account")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	bdb, _, err := openCommandDB(ctx, configPath, getenv)
	if err != nil {
		return err
	}
	defer bdb.Close()

	users := db.NewAdminUsers(bdb)
	u, err := users.GetByUsername(ctx, *username)
	if errors.Is(err, db.ErrNotFound) {
		names, err := users.Usernames(ctx)
		if err != nil {
			return err
		}
		return fmt.Errorf("admin reset-password: there is no admin account named %q (accounts: %s); nothing was changed. "+
			"To add one, run: ai-gateway admin create-user -username %s", *username, quoteAll(names), *username)
	}
	if err != nil {
		return err
	}
	password := db.RandomString(adminPasswordLength)
	if err := users.SetPassword(ctx, u.ID, password); err != nil {
		return err
	}
	// A new password logs out every browser that knew the old one.
	sessions, err := db.NewAdminSessions(bdb).DeleteUser(ctx, u.ID)
	if err != nil {
		return err
	}
	tokens, err := db.NewAdminTokens(bdb).List(ctx)
	if err != nil {
		return err
	}
	if err := db.NewAuditLogs(bdb).Add(ctx, &db.AuditLog{Actor: "cli", Action: "admin.reset_password",
		Target: fmt.Sprintf("admin_user:%d", u.ID), Detail: fmt.Sprintf("%d sessions ended", sessions)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New password for %s (shown only this once):\n%s\n\n", u.Username, password)
	fmt.Fprintf(stdout, "Revoked: every browser session of %s (%d logged out).\n", u.Username, sessions)
	if len(tokens) == 0 {
		fmt.Fprintln(stdout, "There are no admin API tokens.")
		return nil
	}
	names := make([]string, len(tokens))
	for i, t := range tokens {
		names[i] = t.Name
	}
	fmt.Fprintf(stdout, "Not revoked: %d admin API tokens (%s); a password reset leaves them valid.\n"+
		"If the old password may have leaked, revoke them too:\n  ai-gateway admin token revoke --all\n", len(tokens), quoteAll(names))
	return nil
}

// cmdCreateUser adds an admin account with a random password, printed once. An existing
// username is refused (reset-password changes a password).
func cmdCreateUser(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	fs := subFlags("admin create-user", stdout, &configPath)
	username := fs.String("username", "", "the new account's username (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := validUsername(*username); err != nil {
		return fmt.Errorf("admin create-user: -username %w", err)
	}
	bdb, _, err := openCommandDB(ctx, configPath, getenv)
	if err != nil {
		return err
	}
	defer bdb.Close()

	users := db.NewAdminUsers(bdb)
	switch _, err := users.GetByUsername(ctx, *username); {
	case err == nil:
		return fmt.Errorf("admin create-user: an admin account named %q already exists; nothing was changed. "+
			"To give it a new password, run: ai-gateway admin reset-password -username %s", *username, *username)
	case !errors.Is(err, db.ErrNotFound):
		return err
	}
	password := db.RandomString(adminPasswordLength)
	u, err := users.Create(ctx, *username, password)
	if err != nil {
		return err
	}
	if err := db.NewAuditLogs(bdb).Add(ctx, &db.AuditLog{Actor: "cli", Action: "admin.create_user",
		Target: fmt.Sprintf("admin_user:%d", u.ID), Detail: "username=" + u.Username}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created admin account %s. Its password (shown only this once):\n%s\n", u.Username, password)
	return nil
}

// validUsername accepts what the login form can send back unchanged: 1 to 64 printable
// characters, no spaces.
func validUsername(name string) error {
	if name == "" {
		return errors.New("is required, e.g. -username ops")
	}
	if len(name) > 64 {
		return errors.New("must be at most 64 bytes")
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%q must not contain spaces or control characters", name)
	}
	return nil
}

// quoteAll lists names, each quoted, separated by commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
