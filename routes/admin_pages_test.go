package routes

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
)

func TestRequestsPage(t *testing.T) {
	e := newEdge(t)
	ctx := context.Background()
	s := e.login()
	get := func() *goquery.Document {
		t.Helper()
		resp, body := e.do(newReq("GET", "/admin/requests", "", "Cookie", sessionCookie+"="+s.cookie))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	if get().Find(`[data-testid="requests-empty"]`).Length() != 1 {
		t.Fatal("empty history not shown as such")
	}

	cl := &db.Client{Name: "billing-bot", Backend: "openai"}
	if _, err := e.deps.Clients.Create(ctx, cl); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rows := []db.RequestLog{
		{Time: t0, ClientID: cl.ID, Endpoint: "/v1/chat/completions", ModelRequested: "gpt-4o", ModelUsed: "gpt-4o-2024-08-06",
			Status: 200, LatencyMS: 812, TTFTMS: 95, InputTokens: 120, OutputTokens: 30},
		{Time: t0.Add(time.Minute), ClientID: 999, Endpoint: "/v1/messages", ModelRequested: "claude", Status: 429,
			ErrorMessage: "<b>rate limited</b>"},
	}
	if _, err := e.deps.DB.NewInsert().Model(&rows).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	doc := get()
	trs := doc.Find(`[data-testid="request-row"]`)
	if trs.Length() != 2 {
		t.Fatalf("%d rows, want 2", trs.Length())
	}
	newest, oldest := trs.Eq(0).Text(), trs.Eq(1).Text()
	for _, want := range []string{"deleted client 999", "claude", "429", "<b>rate limited</b>"} {
		if !strings.Contains(newest, want) {
			t.Errorf("newest row %q lacks %q", newest, want)
		}
	}
	for _, want := range []string{"billing-bot", "gpt-4o-2024-08-06", "200", "812 ms", "95 ms", "120 / 30", "2026-03-01 09:00:00"} {
		if !strings.Contains(oldest, want) {
			t.Errorf("oldest row %q lacks %q", oldest, want)
		}
	}
	if doc.Find("b").Length() != 0 {
		t.Error("an upstream error message was rendered as markup")
	}
}

func TestSettingsPageListsTokens(t *testing.T) {
	e := newEdge(t)
	tok := e.adminToken()
	s := e.login()
	_, body := e.do(newReq("GET", "/admin/settings", "", "Cookie", sessionCookie+"="+s.cookie))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	row := doc.Find(`[data-testid="token-row"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "…"+tok[len(tok)-4:]) || strings.Contains(body, tok) {
		t.Errorf("token row %q (the full token must never be shown)", row.Text())
	}
}

// The server's address leads to the admin UI, browsers get an icon, a logged-in admin's 404
// keeps the navigation, and a POST-only address opened with GET leads to its form's page.
func TestHomeFaviconNotFoundAndGetOnActions(t *testing.T) {
	e := newEdge(t)
	resp, _ := e.do(newReq("GET", "/", ""))
	if resp.StatusCode != fiber.StatusFound || resp.Header.Get("Location") != "/admin" {
		t.Errorf("GET /: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/favicon.ico", "/favicon.svg"} {
		resp, body := e.do(newReq("GET", path, ""))
		if resp.StatusCode != fiber.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	s := e.login()
	resp, doc, _ := e.page(s, "/admin/no-such-page")
	if resp.StatusCode != fiber.StatusNotFound || doc.Find(testid("nav-clients")).Length() != 1 || doc.Find(testid("error-status")).Text() != "404" {
		t.Errorf("404 for an admin: %d, navigation %d", resp.StatusCode, doc.Find(testid("nav-clients")).Length())
	}
	cl, _ := e.createClient(&db.Client{Name: "bot", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	id := strconv.FormatInt(cl.ID, 10)
	for path, want := range map[string]string{
		"/admin/clients/" + id + "/rotate-key": "/admin/clients/" + id,
		"/admin/clients/" + id + "/test":       "/admin/clients/" + id,
		"/admin/settings/password":             "/admin/settings#password",
		"/admin/settings/tokens":               "/admin/settings#tokens",
	} {
		resp, _, _ := e.page(s, path)
		if resp.StatusCode != fiber.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 303 → %s", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}
