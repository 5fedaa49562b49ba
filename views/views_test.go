package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func renderDoc(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

var assets = Assets{CSS: "/static/admin.abc.css", HTMX: "/static/htmx.min.abc.js", HTMXWS: "/static/htmx-ext-ws.min.abc.js"}

func TestLayout(t *testing.T) {
	p := Page{Title: "Clients", Nav: "clients", Username: "admin", CSRFToken: "tok123", Assets: assets}
	doc, html := renderDoc(t, Clients(p, ClientsView{}))

	if got, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content"); got != "tok123" {
		t.Errorf("csrf meta = %q", got)
	}
	if got, _ := doc.Find("body").Attr("hx-headers"); got != `{"X-CSRF-Token":"tok123"}` {
		t.Errorf("body hx-headers = %q", got)
	}
	if got, _ := doc.Find(`[data-testid="logout-form"] input[name="csrf_token"]`).Attr("value"); got != "tok123" {
		t.Errorf("logout form csrf = %q", got)
	}
	if cur := doc.Find(`nav a[aria-current="page"]`); cur.Length() != 1 || cur.AttrOr("data-testid", "") != "nav-clients" {
		t.Errorf("active nav: %d entries, %q", cur.Length(), cur.AttrOr("data-testid", ""))
	}
	for _, key := range []string{"dashboard", "clients", "requests", "settings"} {
		if doc.Find(`[data-testid="nav-`+key+`"]`).Length() != 1 {
			t.Errorf("nav entry %s missing", key)
		}
	}
	for _, src := range []string{assets.HTMX, assets.HTMXWS} {
		if doc.Find(`script[src="`+src+`"]`).Length() != 1 {
			t.Errorf("script %s missing", src)
		}
	}
	// CSP allows no inline script or style.
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline script: %q", s.Text())
		}
	})
	if doc.Find("style").Length() != 0 || strings.Contains(html, "style=") {
		t.Error("inline style in the shell")
	}
	if doc.Find(`[data-testid="page-title"]`).Text() != "Clients" {
		t.Error("page title missing")
	}
}

func TestLoginPage(t *testing.T) {
	doc, _ := renderDoc(t, LoginPage(Login{Assets: assets, CSRFToken: "c1", Username: `<b>x</b>`, Error: "Wrong <password>", Next: "/admin/clients"}))
	form := doc.Find(`form[data-testid="login-form"]`)
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/admin/login" {
		t.Fatalf("login form method/action: %q %q", form.AttrOr("method", ""), form.AttrOr("action", ""))
	}
	for name, want := range map[string]string{"csrf_token": "c1", "next": "/admin/clients", "username": "<b>x</b>"} {
		if got := form.Find(`input[name="`+name+`"]`).AttrOr("value", "?"); got != want {
			t.Errorf("input %s = %q, want %q", name, got, want)
		}
	}
	if form.Find(`input[name="password"][type="password"]`).Length() != 1 {
		t.Error("no password input")
	}
	if got := doc.Find(`[data-testid="login-error"]`).Text(); got != "Wrong <password>" {
		t.Errorf("error text = %q (must be escaped text, not markup)", got)
	}
	if doc.Find("b").Length() != 0 {
		t.Error("username rendered as markup")
	}
	if doc.Find("nav").Length() != 0 {
		t.Error("login page shows the admin nav")
	}
}

func TestClientsEscapesNames(t *testing.T) {
	rows := []ClientRow{{ID: 1, Name: `<script>alert(1)</script>`, Backend: "openai", KeyPrefix: "gm_", KeyHint: "abcd", Active: true}}
	doc, html := renderDoc(t, ClientsContent(Page{Title: "Clients"}, ClientsView{Rows: rows}))
	if strings.Contains(html, "<script>alert") {
		t.Fatal("client name rendered unescaped")
	}
	row := doc.Find(`[data-testid="client-row"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "gm_…abcd") || !strings.Contains(row.Text(), "active") {
		t.Errorf("row = %q", row.Text())
	}
}

func TestErrorPage(t *testing.T) {
	doc, _ := renderDoc(t, ErrorPage(ErrorView{Assets: assets, Status: 404, Message: "Page not found.", RequestID: "rid1"}))
	if doc.Find(`[data-testid="error-status"]`).Text() != "404" || doc.Find(`[data-testid="error-message"]`).Text() != "Page not found." {
		t.Error("error page content")
	}
	if !strings.Contains(doc.Text(), "rid1") {
		t.Error("request id missing")
	}
}
