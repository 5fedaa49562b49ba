package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

func cmdTokenCreate(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	fs := subFlags("admin token create", stdout, &configPath)
	name := fs.String("name", "", "a name that says who or what uses the token (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("admin token create: --name is required, e.g. --name ci")
	}
	bdb, _, err := openCommandDB(ctx, configPath, getenv)
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

// cmdTokenList prints the admin API tokens with their hints; the tokens themselves are not stored.
func cmdTokenList(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	if err := parseSub(subFlags("admin token list", stdout, &configPath), args); err != nil {
		return err
	}
	bdb, _, err := openCommandDB(ctx, configPath, getenv)
	if err != nil {
		return err
	}
	defer bdb.Close()
	tokens, err := db.NewAdminTokens(bdb).List(ctx)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		fmt.Fprintln(stdout, "There are no admin API tokens.")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tTOKEN\tCREATED\tLAST USED")
	for _, t := range tokens {
		used := "never"
		if !t.LastUsedAt.IsZero() {
			used = t.LastUsedAt.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%d\t%q\t%s\t%s\t%s\n", t.ID, t.Name, t.Hint, t.CreatedAt.UTC().Format(time.DateTime), used)
	}
	return w.Flush()
}

// cmdTokenRevoke deletes every admin API token (--all) or one (--id N). A running server checks
// the database on every call, so whatever used them gets 401 from its next call.
func cmdTokenRevoke(ctx context.Context, args []string, configPath string, getenv func(string) string, stdout io.Writer) error {
	fs := subFlags("admin token revoke", stdout, &configPath)
	all := fs.Bool("all", false, "revoke every admin API token")
	id := fs.Int64("id", 0, "revoke the token with this id (see admin token list)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if *all == (*id != 0) {
		return errors.New("admin token revoke: give either --all or --id N (see ai-gateway admin token list)")
	}
	bdb, _, err := openCommandDB(ctx, configPath, getenv)
	if err != nil {
		return err
	}
	defer bdb.Close()
	tokens := db.NewAdminTokens(bdb)
	target, n := fmt.Sprintf("admin_token:%d", *id), int64(1)
	if *all {
		target = "admin_token:*"
		if n, err = tokens.DeleteAll(ctx); err != nil {
			return err
		}
	} else if err := tokens.Delete(ctx, *id); errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("admin token revoke: there is no admin API token with id %d (see ai-gateway admin token list)", *id)
	} else if err != nil {
		return err
	}
	if err := db.NewAuditLogs(bdb).Add(ctx, &db.AuditLog{Actor: "cli", Action: "admin_token.revoke",
		Target: target, Detail: fmt.Sprintf("%d revoked", n)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Revoked %d admin API token(s); whatever used them gets 401 from now on.\n", n)
	return nil
}
