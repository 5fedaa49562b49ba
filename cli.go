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
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
)

// adminPasswordLength is the length of generated admin passwords (base62, ~178 bits).
const adminPasswordLength = 30

// subcommand is one command of the binary besides serving: the words that name it, its flags
// for the usage text, what it does, and the function that runs it with the arguments after the
// words.
type subcommand struct {
	words, flags, does string
	run                func(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error
}

// subcommands lists every subcommand, in the order the usage text and the README show them.
func subcommands() []subcommand {
	return []subcommand{
		{"migrate", "", "apply database migrations and exit", cmdMigrate},
		{"admin reset-password", "[-username U]", "print a new password for an existing admin (once) and log out its sessions", cmdResetPassword},
		{"admin create-user", "-username U", "add an admin account and print its password (once)", cmdCreateUser},
		{"admin token create", "--name NAME", "print a new admin API token (once)", cmdTokenCreate},
		{"admin token list", "", "list the admin API tokens (never the tokens themselves)", cmdTokenList},
		{"admin token revoke", "--all | --id N", "revoke admin API tokens: all of them, or one", cmdTokenRevoke},
		{"healthcheck", "[-url URL]", "exit 0 when the gateway at URL (default " + defaultHealthURL + ") is ready, 1 otherwise", cmdHealthcheck},
	}
}

// command runs a subcommand. They all open the database the server uses and work while it runs:
// SQLite's busy_timeout (set in db.Open) makes each wait for the other's writes.
func command(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	for _, sc := range subcommands() {
		words := strings.Fields(sc.words)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			err := sc.run(ctx, args[len(words):], configPath, getenv, stdout)
			if errors.Is(err, flag.ErrHelp) {
				return nil // the usage was printed
			}
			return err
		}
	}
	names := make([]string, 0, len(subcommands()))
	for _, sc := range subcommands() {
		names = append(names, strings.TrimSpace(sc.words+" "+sc.flags))
	}
	return fmt.Errorf("unknown command %q; commands are: %s", strings.Join(args, " "), strings.Join(names, ", "))
}

// printCommands writes the usage lines of the subcommands.
func printCommands(w io.Writer, prog string) {
	for _, sc := range subcommands() {
		fmt.Fprintf(w, "  %s %-36s %s\n", prog, strings.TrimSpace(sc.words+" "+sc.flags), sc.does)
	}
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
	bdb, cfg, err := openCommandDB(ctx, configPath, getenv) // Open applies every pending migration
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
	fmt.Fprintf(stdout, "database %s is up to date (%d migrations applied)\n", cfg.Database.Options().Name(), len(applied))
	return nil
}

// openCommandDB opens the database of the config at configPath, the one a server on it uses.
func openCommandDB(ctx context.Context, configPath string, getenv func(string) string) (*bun.DB, *gateway.Config, error) {
	cfg, _, err := loadConfig(serveFlags{configPath: configPath}, getenv)
	if err != nil {
		return nil, nil, err
	}
	bdb, _, err := db.Connect(ctx, cfg.Database.Options())
	if err != nil {
		return nil, nil, err
	}
	return bdb, cfg, nil
}

// ensureAdmin creates the first admin account when there is none and returns its password ("" when
// an account already existed). Of several instances starting at once on one database, one creates
// it; the others find it made when their own insert fails, and print no password.
func ensureAdmin(ctx context.Context, users *db.AdminUsers) (string, error) {
	n, err := users.Count(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	password := db.RandomString(adminPasswordLength)
	if _, err := users.Create(ctx, db.DefaultAdminUsername, password); err != nil {
		if n, cerr := users.Count(ctx); cerr == nil && n > 0 {
			return "", nil
		}
		return "", err
	}
	return password, nil
}

// dataDirOf is the data directory: the database's directory, which also holds the master key.
func dataDirOf(cfg *gateway.Config) string { return filepath.Dir(cfg.Database.Path) }

// refuseNewKeyForSharedDatabase stops an instance that would generate a master key of its own for
// a PostgreSQL database another instance already set up: the upstream keys stored there are
// sealed with that instance's key, which this one must share (SPEC §17), or neither could read
// the other's.
func refuseNewKeyForSharedDatabase(cfg *gateway.Config, dbCreated bool, dataDir string, getenv func(string) string) error {
	if cfg.Database.Driver != db.DriverPostgres || dbCreated || getenv(db.MasterKeyEnv) != "" {
		return nil
	}
	path := filepath.Join(dataDir, db.MasterKeyFile)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("database %s was set up by another instance, and this one has no master key: "+
		"give it the same master key as the others (%s, or the file %s) — a key of its own could not read "+
		"the upstream keys stored there", cfg.Database.Options().Name(), db.MasterKeyEnv, path)
}

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
	database      db.Options
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
	if f.dbCreated && f.database.Driver == db.DriverPostgres {
		fmt.Fprintf(w, "  created tables in   %s\n", f.database.Name())
	} else if f.dbCreated {
		fmt.Fprintf(w, "  created database    %s\n", f.database.Name())
	}
	if f.keyCreated {
		fmt.Fprintf(w, "  created master key  %s (mode 0600) — back it up: stored upstream keys cannot be decrypted without it\n", f.keyPath)
	}
	if f.adminPassword != "" {
		fmt.Fprintf(w, "\nAdmin login (the password is shown only this once; `ai-gateway admin reset-password` makes a new one):\n")
		fmt.Fprintf(w, "  username: %s\n  password: %s\n\n", db.DefaultAdminUsername, f.adminPassword)
	}
}
