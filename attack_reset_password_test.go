package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
)

// reset-password with a username that has no account changes nothing and says so (it used to
// create a new admin silently); adding an account is the explicit admin create-user, which
// prints the password once and refuses a name that exists. All against a running server.
func TestAttackResetPasswordUnknownUser(t *testing.T) {
	g := startRelGateway(t, nil, "")
	password := adminPassword(t, g.out.String())

	out, err := runCmd(t, nil, "admin", "reset-password", "-username", "nosuchuser", "-config", g.cfgPath)
	if err == nil || !strings.Contains(err.Error(), `there is no admin account named "nosuchuser" (accounts: "admin"); nothing was changed`) ||
		!strings.Contains(err.Error(), "ai-gateway admin create-user -username nosuchuser") {
		t.Fatalf("reset-password for an unknown user: err %v, want a refusal naming admin create-user\n%s", err, out)
	}
	if strings.Contains(out, "password") {
		t.Errorf("the refusal printed a password:\n%s", out)
	}
	if n, err := db.NewAdminUsers(g.openDB().DB).Count(context.Background()); err != nil || n != 1 {
		t.Fatalf("%d admin accounts after the refusal (%v), want 1", n, err)
	}
	if resp := login(t, noRedirects(), g.url, "nosuchuser", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login as the unknown user: %d, want 401", resp.StatusCode)
	}
	if resp := login(t, noRedirects(), g.url, "admin", password); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin's password changed: login %d", resp.StatusCode)
	}

	out, err = runCmd(t, nil, "admin", "create-user", "-username", "ops", "-config", g.cfgPath)
	m := regexp.MustCompile(`(?m)\ACreated admin account ops\. Its password \(shown only this once\):\n(\S{20,})\n\z`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("create-user: %v\n%s", err, out)
	}
	if resp := login(t, noRedirects(), g.url, "ops", m[1]); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login as the created user: %d", resp.StatusCode)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-username", "ops"}, `an admin account named "ops" already exists; nothing was changed`},
		{[]string{"-username", "admin"}, `an admin account named "admin" already exists`},
		{nil, "-username is required"},
		{[]string{"-username", "two words"}, "must not contain spaces"},
	} {
		out, err := runCmd(t, nil, append([]string{"admin", "create-user", "-config", g.cfgPath}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(out, "password") {
			t.Errorf("create-user %v: err %v, want %q\n%s", tt.args, err, tt.want, out)
		}
	}
	if n, _ := db.NewAdminUsers(g.openDB().DB).Count(context.Background()); n != 2 {
		t.Errorf("%d admin accounts, want 2 (admin and ops)", n)
	}
}

// A password reset logs out the account's browsers and leaves the admin API tokens valid, and
// says both, offering admin token revoke --all; that command then revokes every token, which the
// running server refuses from its next call.
func TestAttackResetPasswordRevokes(t *testing.T) {
	g := startRelGateway(t, nil, "")
	b := loginBrowser(t, g)
	out, err := runCmd(t, nil, "admin", "token", "create", "--name", "ci", "-config", g.cfgPath)
	ciToken := regexp.MustCompile(`(?m)^aigw_\w+$`).FindString(out)
	if err != nil || ciToken == "" {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	api := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, g.url+"/admin/api/v1/clients", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	out, err = runCmd(t, nil, "admin", "reset-password", "-config", g.cfgPath)
	lines := strings.Split(out, "\n")
	if err != nil || len(lines) < 2 || !strings.HasPrefix(out, "New password for admin (shown only this once):\n") {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	newPassword := lines[1]
	for _, want := range []string{
		"Revoked: every browser session of admin (1 logged out).",
		`Not revoked: 2 admin API tokens ("tests", "ci"); a password reset leaves them valid.`,
		"ai-gateway admin token revoke --all",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reset-password output lacks %q:\n%s", want, out)
		}
	}
	if status, _ := b.get("/admin"); status != http.StatusSeeOther {
		t.Errorf("a browser session from before the reset: %d, want 303 to the login page", status)
	}
	if resp := login(t, noRedirects(), g.url, "admin", newPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password: %d", resp.StatusCode)
	}
	if s1, s2 := api(g.token), api(ciToken); s1 != http.StatusOK || s2 != http.StatusOK {
		t.Errorf("tokens after the reset: %d %d, want 200 as the output says", s1, s2)
	}

	out, err = runCmd(t, nil, "admin", "token", "list", "-config", g.cfgPath)
	if err != nil || !strings.Contains(out, `"tests"`) || !strings.Contains(out, `"ci"`) ||
		strings.Contains(out, ciToken) || strings.Contains(out, g.token) {
		t.Errorf("token list: %v\n%s", err, out)
	}
	if _, err := runCmd(t, nil, "admin", "token", "revoke", "-config", g.cfgPath); err == nil ||
		!strings.Contains(err.Error(), "give either --all or --id N") {
		t.Errorf("token revoke without --all or --id: %v", err)
	}
	out, err = runCmd(t, nil, "admin", "token", "revoke", "--all", "-config", g.cfgPath)
	if err != nil || !strings.Contains(out, "Revoked 2 admin API token(s)") {
		t.Fatalf("token revoke --all: %v\n%s", err, out)
	}
	if s1, s2 := api(g.token), api(ciToken); s1 != http.StatusUnauthorized || s2 != http.StatusUnauthorized {
		t.Errorf("tokens after revoke --all: %d %d, want 401", s1, s2)
	}
	out, err = runCmd(t, nil, "admin", "reset-password", "-config", g.cfgPath)
	if err != nil || !strings.Contains(out, "There are no admin API tokens.") {
		t.Errorf("reset-password with no tokens left: %v\n%s", err, out)
	}
}
