package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// everyPage renders each admin page with a view model that shows all its parts.
func everyPage() map[string]templ.Component {
	p := Page{Title: "T", Nav: "clients", Username: "admin", CSRFToken: "tok123", Notice: "Saved.",
		Assets: Assets{CSS: "/static/a.css", HTMX: "/static/h.js", HTMXWS: "/static/w.js", JS: "/static/admin.x.js"}}
	meters := []Meter{{Key: "requests", Label: "requests", Used: 5, Limit: 10}}
	form := ClientForm{ID: 3, Backends: []string{"openai"}, KeyPrefixes: []string{"gm_"}, UpstreamKeyHint: "abcd",
		KeyPrefix: "gm_", KeyHint: "wxyz", Active: true, Usage: meters, Errors: FieldErrors{"name": "is required"},
		Values: ClientValues{Limits: map[string]string{}},
		Picker: ModelPicker{ClientID: 3, Options: []ModelOption{{Name: "m1", Checked: true}}, Extra: "m2", FetchedAt: "now"},
		Test:   &ConnectionResult{OK: true, Message: "ok", Models: []string{"m1"}}}
	chart := NewBarChart("dash-chart-x", "X", "s", []ChartSeries{{"r", "series-requests"}}, []ChartPoint{{Label: "t", Values: []int64{1}}}, 1)
	return map[string]templ.Component{
		"dashboard": Dashboard(p, DashboardView{Live: DashboardLive{Stats: []Stat{{Key: "requests", Value: "1"}},
			HourRequests: chart, HourTokens: chart, DayRequests: chart, DayTokens: chart,
			TopModels: TopList{ID: "dash-top-models", Rows: []TopRow{{Name: "m"}}}, TopClients: TopList{ID: "dash-top-clients"}}}),
		"clients":        Clients(p, ClientsView{Rows: []ClientRow{{ID: 1, Name: "c", Active: true, Usage: meters}, {ID: 2, Name: "d"}}}),
		"client edit":    ClientFormPage(p, form),
		"client new":     ClientFormPage(p, ClientForm{Backends: []string{"openai"}, KeyPrefixes: []string{"gm_"}}),
		"client key":     ClientKeyPage(p, ClientKeyView{ClientID: 1, ClientName: "c", Key: "gm_x"}),
		"client delete":  ClientDeletePage(p, ClientDeleteView{ClientID: 1, ClientName: "c"}),
		"requests":       Requests(p, RequestsView{Rows: []RequestRow{{ID: 1, Status: 502, Error: "e"}}, OlderURL: "/admin/requests?before=1", Paged: true}),
		"request detail": RequestDetailPage(p, RequestDetail{ID: 1, Status: 500, ErrorMessage: "e", RequestBody: "b"}),
		"settings": Settings(p, SettingsView{Tokens: []TokenRow{{ID: 1, Name: "t"}}, NewToken: "aigw_x",
			Audit: []AuditRow{{Action: "a"}}, AuditOlderURL: "/admin/settings?audit_before=1"}),
	}
}

// TestPagesKeepTheContentSecurityPolicy: no inline script or style anywhere (the CSP would
// block them), and every form that changes something carries the CSRF token.
func TestPagesKeepTheContentSecurityPolicy(t *testing.T) {
	for name, c := range everyPage() {
		doc, html := renderDoc(t, c)
		if strings.Contains(html, "style=") || doc.Find("style").Length() != 0 || hasHandler(doc) {
			t.Errorf("%s: inline style or event handler", name)
		}
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline script %q", name, s.Text())
			}
		})
		if doc.Find(`script[src="/static/admin.x.js"]`).Length() != 1 {
			t.Errorf("%s: admin.js not loaded", name)
		}
		doc.Find("form").Each(func(_ int, f *goquery.Selection) {
			if strings.EqualFold(f.AttrOr("method", "get"), "post") && f.Find(`input[name="csrf_token"][value="tok123"]`).Length() != 1 {
				t.Errorf("%s: form %s posts without the CSRF token", name, f.AttrOr("action", "?"))
			}
		})
		if doc.Find(`[data-testid="notice"]`).Text() != "Saved." {
			t.Errorf("%s: notice missing", name)
		}
	}
}

func hasHandler(doc *goquery.Document) bool {
	found := false
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
				found = true
			}
		}
	})
	return found
}
