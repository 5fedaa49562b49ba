package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
)

// adminPasswordLength is the length of generated admin passwords (base62, ~178 bits).
const adminPasswordLength = 30

// command runs a subcommand. They all open the database the server uses and work while it runs:
// SQLite's busy_timeout (set in db.Open) makes each wait for the other's writes.
func command(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	name := strings.Join(args[:min(len(args), 2)], " ")
	switch {
	case args[0] == "migrate":
		return cmdMigrate(ctx, args[1:], configPath, getenv, stdout)
	case name == "admin reset-password":
		return cmdResetPassword(ctx, args[2:], configPath, getenv, stdout)
	case len(args) >= 3 && name == "admin token" && args[2] == "create":
		return cmdTokenCreate(ctx, args[3:], configPath, getenv, stdout)
	}
	return fmt.Errorf("unknown command %q; commands are: migrate, admin reset-password, admin token create --name NAME", strings.Join(args, " "))
}

// subFlags parses a subcommand's own flags; -config is accepted there too.
func subFlags(name string, stdout io.Writer, configPath *string) *flag.FlagSet {
	fs := flag.NewFlagSet("ai-gateway "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(configPath, "config", *configPath, "path of the config file")
	return fs
}

func parseSub(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	if err := parseSub(subFlags("migrate", stdout, &configPath), args); err != nil {
		return err
	}
	cfg, _, err := loadConfig(serveFlags{configPath: configPath}, getenv)
	if err != nil {
		return err
	}
	bdb, err := db.Open(ctx, cfg.Database.Path) // Open applies every pending migration
	if err != nil {
		return err
	}
	defer bdb.Close()
	m, err := db.Migrator(bdb)
	if err != nil {
		return err
	}
	applied, err := m.AppliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("read migration status: %w", err)
	}
	fmt.Fprintf(stdout, "database %s is up to date (%d migrations applied)\n", cfg.Database.Path, len(applied))
	return nil
}

func cmdResetPassword(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	fs := subFlags("admin reset-password", stdout, &configPath)
	username := fs.String("username", db.DefaultAdminUsername, "the admin account")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	cfg, _, err := loadConfig(serveFlags{configPath: configPath}, getenv)
	if err != nil {
		return err
	}
	bdb, err := db.Open(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer bdb.Close()

	users := db.NewAdminUsers(bdb)
	password := db.RandomString(adminPasswordLength)
	u, err := users.GetByUsername(ctx, *username)
	switch {
	case errors.Is(err, db.ErrNotFound):
		if u, err = users.Create(ctx, *username, password); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := users.SetPassword(ctx, u.ID, password); err != nil {
			return err
		}
		// A new password logs out every browser that knew the old one.
		if _, err := db.NewAdminSessions(bdb).DeleteUser(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := db.NewAuditLogs(bdb).Add(ctx, &db.AuditLog{Actor: "cli", Action: "admin.reset_password",
		Target: fmt.Sprintf("admin_user:%d", u.ID)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New password for %s (shown only this once; existing sessions were logged out):\n%s\n", u.Username, password)
	return nil
}

func cmdTokenCreate(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	fs := subFlags("admin token create", stdout, &configPath)
	name := fs.String("name", "", "a name that says who or what uses the token (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("admin token create: --name is required, e.g. --name ci")
	}
	cfg, _, err := loadConfig(serveFlags{configPath: configPath}, getenv)
	if err != nil {
		return err
	}
	bdb, err := db.Open(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer bdb.Close()
	token, t, err := db.NewAdminTokens(bdb).Create(ctx, strings.TrimSpace(*name))
	if err != nil {
		return err
	}
	if err := db.NewAuditLogs(bdb).Add(ctx, &db.AuditLog{Actor: "cli", Action: "admin_token.create",
		Target: fmt.Sprintf("admin_token:%d", t.ID), Detail: "name=" + t.Name}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Admin API token %q (shown only this once; send it as \"Authorization: Bearer <token>\"):\n%s\n", t.Name, token)
	return nil
}

// ensureAdmin creates the first admin account when there is none and returns its password ("" when
// an account already existed).
func ensureAdmin(ctx context.Context, users *db.AdminUsers) (string, error) {
	n, err := users.Count(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	password := db.RandomString(adminPasswordLength)
	if _, err := users.Create(ctx, db.DefaultAdminUsername, password); err != nil {
		return "", err
	}
	return password, nil
}

// dataDirOf is the data directory: the database's directory, which also holds the master key.
func dataDirOf(cfg *gateway.Config) string { return filepath.Dir(cfg.Database.Path) }

// keyPathOf says where the master key comes from, for the first-launch message.
func keyPathOf(dataDir string, getenv func(string) string) string {
	if getenv(db.MasterKeyEnv) != "" {
		return "$" + db.MasterKeyEnv
	}
	return filepath.Join(dataDir, db.MasterKeyFile)
}

// warnIfKeyFileIsOpen logs when other users may read the master key file.
func warnIfKeyFileIsOpen(logger *slog.Logger, dataDir string, getenv func(string) string) {
	if getenv(db.MasterKeyEnv) != "" || runtime.GOOS == "windows" {
		return
	}
	path := filepath.Join(dataDir, db.MasterKeyFile)
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("the master key file is readable by other users; run chmod 600 on it", "path", path,
			"mode", fmt.Sprintf("%04o", st.Mode().Perm()))
	}
}

// firstLaunch is what the first launch created.
type firstLaunch struct {
	configPath    string
	configCreated bool
	dbPath        string
	dbCreated     bool
	keyPath       string
	keyCreated    bool
	adminPassword string
}

// printFirstLaunch tells the newcomer what was set up, with the admin password — the only time
// it is ever printed.
func printFirstLaunch(w io.Writer, f firstLaunch) {
	fmt.Fprintln(w, "AI Gateway first launch:")
	if f.configCreated {
		abs, _ := filepath.Abs(f.configPath)
		fmt.Fprintf(w, "  wrote config        %s (every default; edit it or use AIGW_* variables)\n", abs)
	}
	if f.dbCreated {
		fmt.Fprintf(w, "  created database    %s\n", f.dbPath)
	}
	if f.keyCreated {
		fmt.Fprintf(w, "  created master key  %s (mode 0600) — back it up: stored upstream keys cannot be decrypted without it\n", f.keyPath)
	}
	if f.adminPassword != "" {
		fmt.Fprintf(w, "\nAdmin login (the password is shown only this once; `ai-gateway admin reset-password` makes a new one):\n")
		fmt.Fprintf(w, "  username: %s\n  password: %s\n\n", db.DefaultAdminUsername, f.adminPassword)
	}
}
