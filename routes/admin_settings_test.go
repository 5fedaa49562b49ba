package routes

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aigateway/ai-gateway/db"
)

func TestChangePassword(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	other := e.login() // another browser of the same admin

	for _, tt := range []struct {
		current, next, confirm string
		field, want            string
	}{
		{"wrong password", "a-brand-new-password", "a-brand-new-password", "current_password", "is not your current password"},
		{edgePassword, "short", "short", "new_password", "at least 12 characters"},
		{edgePassword, "a-brand-new-password", "a-different-password", "confirm_password", "does not match"},
	} {
		resp, doc, body := e.post(s, "/admin/settings/password", url.Values{"current_password": {tt.current},
			"new_password": {tt.next}, "confirm_password": {tt.confirm}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(testid("error-"+tt.field)).Text(), tt.want) {
			t.Errorf("%s: %d %q", tt.field, resp.StatusCode, doc.Find(testid("error-"+tt.field)).Text())
		}
		if strings.Contains(body, tt.next) && tt.next != "short" || strings.Contains(body, "wrong password") {
			t.Error("a typed password is echoed back")
		}
	}

	// Every error at once, not one stage at a time.
	_, doc, _ := e.post(s, "/admin/settings/password", url.Values{"current_password": {"wrong password"},
		"new_password": {"short"}, "confirm_password": {"shorter"}})
	for _, field := range []string{"current_password", "new_password", "confirm_password"} {
		if doc.Find(testid("error-"+field)).Length() != 1 {
			t.Errorf("three wrong fields: no error shown for %s", field)
		}
	}

	resp, _, _ := e.post(s, "/admin/settings/password", url.Values{"current_password": {edgePassword},
		"new_password": {"a-brand-new-password"}, "confirm_password": {"a-brand-new-password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/settings?notice=password" {
		t.Fatalf("change: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var fresh string
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			fresh = c.Value
		}
	}
	for name, cookie := range map[string]string{"this browser's old session": s.cookie, "the other browser": other.cookie} {
		if resp, _ := e.do(newReq("GET", "/admin", "", "Cookie", sessionCookie+"="+cookie)); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s still works: %d", name, resp.StatusCode)
		}
	}
	if resp, _ := e.do(newReq("GET", "/admin/settings", "", "Cookie", sessionCookie+"="+fresh)); resp.StatusCode != http.StatusOK {
		t.Errorf("this browser's new session: %d", resp.StatusCode)
	}
	csrfCookie, token := e.loginForm()
	if resp, _ := e.postLogin(csrfCookie, token, "admin", "a-brand-new-password"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", resp.StatusCode)
	}
	if a := e.auditActions(); !slicesHasPrefix(a, "admin.password_change admin_user:1") {
		t.Errorf("audit %q", a)
	}
}

func slicesHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestAdminTokensCreateAndRevoke(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	resp, doc, _ := e.post(s, "/admin/settings/tokens", url.Values{"name": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(testid("error-name")).Length() != 1 {
		t.Errorf("token without a name: %d", resp.StatusCode)
	}

	resp, doc, _ = e.postRedirect(s, "/admin/settings/tokens", url.Values{"name": {"terraform <ci>"}})
	tok := doc.Find(testid("new-token")).AttrOr("value", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(tok, db.AdminTokenPrefix) {
		t.Fatalf("create: %d token %q", resp.StatusCode, tok)
	}
	if resp := e.api(tok, "GET", "/admin/api/v1/clients", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new token does not work: %d", resp.StatusCode)
	}
	// Shown once: the settings page lists it by hint only.
	_, doc, body := e.page(s, "/admin/settings")
	row := doc.Find(testid("token-row"))
	if strings.Contains(body, tok) || row.Length() != 1 || !strings.Contains(row.Text(), "terraform <ci>") || !strings.Contains(row.Text(), "…"+tok[len(tok)-4:]) {
		t.Fatalf("token list %q", row.Text())
	}
	revoke := row.Find("form").AttrOr("action", "")
	resp, _, _ = e.post(s, revoke, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke %s: %d", revoke, resp.StatusCode)
	}
	if resp := e.api(tok, "GET", "/admin/api/v1/clients", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token works: %d", resp.StatusCode)
	}
	if a := e.auditActions(); !strings.HasPrefix(a[0], "admin_token.revoke") || !slicesHasPrefix(a, "admin_token.create admin_token:1 name=terraform <ci>") {
		t.Errorf("audit %q", a)
	}
	if resp, _, _ := e.post(s, "/admin/settings/tokens/99/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoke unknown: %d", resp.StatusCode)
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestPrometheusSettingsApplyAtRuntime(t *testing.T) {
	withRegistry := func(d *Deps) { d.Registry = prometheus.NewRegistry() }
	e := newEdge(t, withRegistry)
	s := e.login()
	scrape := func(app *fiber.App, auth string) int {
		req := newReq("GET", "/metrics", "")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := scrape(e.app, ""); st != http.StatusNotFound {
		t.Fatalf("disabled /metrics: %d", st)
	}

	resp, doc, _ := e.post(s, "/admin/settings/prometheus", url.Values{"enabled": {"true"}, "username": {"scraper"}, "password": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(testid("error-password")).Length() != 1 {
		t.Fatalf("enable without any password: %d", resp.StatusCode)
	}
	resp, doc, _ = e.post(s, "/admin/settings/prometheus", url.Values{"enabled": {"true"}, "username": {"a:b"}, "password": {"short"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(testid("error-username")).Length() != 1 ||
		doc.Find(testid("error-password")).Length() != 1 {
		t.Fatalf("bad username and password: %d", resp.StatusCode)
	}

	const pw = "metrics-password-0123"
	resp, _, _ = e.post(s, "/admin/settings/prometheus", url.Values{"enabled": {"true"}, "username": {"scraper"}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if st := scrape(e.app, basic("scraper", pw)); st != http.StatusOK {
		t.Errorf("scrape with the new credentials: %d", st)
	}
	if st := scrape(e.app, basic("scraper", "wrong")); st != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", st)
	}
	_, doc, body := e.page(s, "/admin/settings")
	if strings.Contains(body, pw) || !strings.Contains(doc.Find(testid("prometheus-password-hint")).Text(), pw[len(pw)-4:]) ||
		doc.Find(testid("field-prometheus-enabled")).AttrOr("checked", "no") == "no" {
		t.Error("settings page: password shown, or hint / enabled missing")
	}
	// The password is stored sealed, never in clear.
	if v, _, _ := e.deps.Settings.Get(context.Background(), settingPrometheusPassword); strings.Contains(v, pw) || v == "" {
		t.Errorf("stored password %q", v)
	}

	// A restart keeps it: a new app over the same database serves /metrics the same way.
	if st := scrape(New(e.deps), basic("scraper", pw)); st != http.StatusOK {
		t.Errorf("after a restart: %d", st)
	}

	// Turning it off keeps the password (an empty field keeps it).
	e.post(s, "/admin/settings/prometheus", url.Values{"username": {"scraper"}})
	if st := scrape(e.app, basic("scraper", pw)); st != http.StatusNotFound {
		t.Errorf("disabled again: %d", st)
	}
	e.post(s, "/admin/settings/prometheus", url.Values{"enabled": {"true"}, "username": {"scraper"}})
	if st := scrape(e.app, basic("scraper", pw)); st != http.StatusOK {
		t.Errorf("re-enabled with the kept password: %d", st)
	}
	if a := e.auditActions(); !strings.HasPrefix(a[0], "settings.prometheus settings enabled=true username=scraper") ||
		strings.Contains(strings.Join(a, " "), pw) {
		t.Errorf("audit %q", a)
	}
}

func TestLogSettingsApplyAtRuntime(t *testing.T) {
	up := newUpstreamMock(t)
	e := newEdge(t, withGateway(t))
	s := e.login()
	resp, doc, _ := e.post(s, "/admin/settings/logs", url.Values{"retention_days": {"-3"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(testid("error-retention_days")).Length() != 1 ||
		doc.Find(testid("field-retention-days")).AttrOr("value", "") != "-3" {
		t.Fatalf("negative retention: %d", resp.StatusCode)
	}

	resp, _, _ = e.post(s, "/admin/settings/logs", url.Values{"retention_days": {"7"}, "store_bodies": {"true"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, doc, _ = e.page(s, "/admin/settings")
	if doc.Find(testid("field-retention-days")).AttrOr("value", "") != "7" || doc.Find(testid("field-store-bodies")).AttrOr("checked", "no") == "no" {
		t.Error("settings page does not show the saved values")
	}
	for key, want := range map[string]string{settingRetentionDays: "7", settingStoreBodies: "true"} {
		if v, ok, _ := e.deps.Settings.Get(context.Background(), key); !ok || v != want {
			t.Errorf("stored %s = %q", key, v)
		}
	}

	// Bodies are stored from the next request on.
	_, key := e.createClient(&db.Client{Name: "bot", Backend: "openai", BaseURL: up.srv.URL + "/v1", ToolMode: "passthrough",
		Active: true, DefaultModel: "gpt-4o"}, "sk-up-0123456789")
	body := `{"messages":[{"role":"user","content":"remember me"}]}`
	if resp, b := e.do(newReq("POST", "/v1/chat/completions", body, "Authorization", "Bearer "+key, "Content-Type", "application/json")); resp.StatusCode != 200 {
		t.Fatalf("chat: %d %s", resp.StatusCode, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.deps.Gateway.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := e.deps.RequestLogs.List(ctx, db.RequestLogFilter{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	full, err := e.deps.RequestLogs.Get(ctx, rows[0].ID)
	if err != nil || !strings.Contains(full.RequestBody, "remember me") {
		t.Errorf("stored request body %q (%v)", full.RequestBody, err)
	}
	_, doc, _ = e.page(s, "/admin/requests/"+strconv.FormatInt(rows[0].ID, 10))
	if !strings.Contains(doc.Find(testid("detail-request-body")).Text(), "remember me") {
		t.Error("detail page does not show the stored body")
	}
}

func TestAuditLogPages(t *testing.T) {
	e := newEdge(t)
	for i := range 60 {
		if err := e.deps.Audit.Add(context.Background(), &db.AuditLog{Actor: "token:ci", Action: "client.update",
			Target: "client:" + strconv.Itoa(i), Detail: "changed <name>"}); err != nil {
			t.Fatal(err)
		}
	}
	s := e.login() // adds admin.login: 61 entries
	_, doc, _ := e.page(s, "/admin/settings")
	rows := doc.Find(testid("audit-row"))
	if rows.Length() != 50 || !strings.Contains(rows.First().Text(), "admin.login") || !strings.Contains(rows.Eq(1).Text(), "changed <name>") {
		t.Fatalf("first page: %d rows, first %q", rows.Length(), rows.First().Text())
	}
	older := doc.Find(testid("audit-older")).AttrOr("href", "")
	_, doc, _ = e.page(s, older)
	if rows := doc.Find(testid("audit-row")); rows.Length() != 11 || !strings.Contains(rows.Last().Text(), "deleted client 0") ||
		doc.Find(testid("audit-older")).Length() != 0 {
		t.Errorf("second page (%s): %d rows", older, rows.Length())
	}
}

func TestAdminAPIStats(t *testing.T) {
	up := newUpstreamMock(t)
	e := newEdge(t, withGateway(t))
	tok := e.adminToken()
	_, key := e.createClient(&db.Client{Name: "bot", Backend: "openai", BaseURL: up.srv.URL + "/v1", ToolMode: "passthrough",
		Active: true, DefaultModel: "gpt-4o"}, "sk-up-0123456789")
	for range 2 {
		e.do(newReq("POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+key))
	}
	var st struct {
		Today struct {
			Requests     int64 `json:"requests"`
			InputTokens  int64 `json:"input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
		} `json:"today"`
		InFlight int64 `json:"in_flight"`
		LastHour []any `json:"last_hour"`
		Clients  []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"clients"`
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if resp := e.api(tok, "GET", "/admin/api/v1/stats", "", &st); resp.StatusCode != 200 {
		t.Fatalf("stats: %d", resp.StatusCode)
	}
	if st.Today.Requests != 2 || st.Today.InputTokens != 22 || st.Today.OutputTokens != 6 || len(st.LastHour) != 60 ||
		len(st.Clients) != 1 || st.Clients[0].Name != "bot" || st.Clients[0].Requests != 2 || len(st.Models) != 1 {
		t.Errorf("stats %+v", st)
	}
	if resp := e.api("nope", "GET", "/admin/api/v1/stats", "", nil); resp.StatusCode != 401 {
		t.Errorf("stats without a token: %d", resp.StatusCode)
	}
}

// The audit log names clients, not their ids; the Settings page says which Prometheus and log
// settings are in force and where they come from, and can drop the values saved on it.
func TestSettingsShowOriginAndAuditNames(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	e.createClient(&db.Client{Name: "billing-bot", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	cl := e.clientRows()[0]
	if err := e.deps.Audit.Add(context.Background(), &db.AuditLog{Actor: "admin", Action: "client.update",
		Target: "client:" + strconv.FormatInt(cl.ID, 10)}); err != nil {
		t.Fatal(err)
	}
	_, doc, _ := e.page(s, "/admin/settings")
	if got := doc.Find(testid("audit-row")).First().Find("td").Eq(3).Text(); got != "client billing-bot" {
		t.Errorf("audit target %q, want the client's name", got)
	}
	source := func(doc *goquery.Document) string {
		return doc.Find(`[data-testid="origin-prometheus.enabled"] [data-testid="origin-source"]`).Text()
	}
	if got := source(doc); !strings.Contains(got, "from the configuration") || !strings.Contains(got, "AIGW_PROMETHEUS_ENABLED") {
		t.Errorf("before saving: %q", got)
	}
	e.postRedirect(s, "/admin/settings/prometheus", url.Values{"enabled": {"true"}, "username": {"prom"}, "password": {"a-long-password-123"}})
	_, doc, _ = e.page(s, "/admin/settings")
	if got := source(doc); !strings.Contains(got, "saved on this page") || !strings.Contains(got, "false") {
		t.Errorf("after saving: %q", got)
	}
	if got := doc.Find(`[data-testid="origin-prometheus.enabled"] [data-testid="origin-value"]`).Text(); got != "true" {
		t.Errorf("in force %q", got)
	}
	_, doc, _ = e.postRedirect(s, "/admin/settings/prometheus/reset", nil)
	if got := source(doc); !strings.Contains(got, "from the configuration") {
		t.Errorf("after dropping the saved values: %q", got)
	}
	if got := doc.Find(`[data-testid="origin-prometheus.enabled"] [data-testid="origin-value"]`).Text(); got != "false" {
		t.Errorf("in force after the reset %q", got)
	}
}
