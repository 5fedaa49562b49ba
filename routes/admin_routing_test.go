package routes

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
)

// The request detail page lists every upstream attempt (SPEC §15): target, status, latency and
// error, the last one the target that answered.
func TestRequestDetailShowsAttempts(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	row := db.RequestLog{Time: time.Now(), ClientID: 42, Status: 200, Provider: "gemini", Attempts: db.Attempts{
		{Provider: "anthropic", BaseURL: "https://api.anthropic.test", Status: 529, LatencyMS: 120, Error: "Overloaded <b>now</b>"},
		{Provider: "anthropic", BaseURL: "https://api.anthropic.test", Status: 529, LatencyMS: 80, Error: "Overloaded"},
		{Provider: "gemini", Status: 200, LatencyMS: 900},
	}}
	if _, err := e.deps.DB.NewInsert().Model(&row).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, doc, _ := e.page(s, "/admin/requests/"+edgeID(row.ID))
	rows := doc.Find(testid("attempt-row"))
	if rows.Length() != 3 {
		t.Fatalf("%d attempt rows, want 3", rows.Length())
	}
	var got []string
	rows.Each(func(_ int, r *goquery.Selection) { got = append(got, cells(r)) })
	want := []string{
		"1 | anthropic https://api.anthropic.test | 529 | 120 ms | Overloaded <b>now</b>",
		"2 | anthropic https://api.anthropic.test | 529 | 80 ms | Overloaded",
		"3 | gemini | 200 | 900 ms | answered",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attempt %d: %q, want %q", i+1, got[i], want[i])
		}
	}
	if doc.Find("b").Length() != 0 {
		t.Error("an attempt's error renders as markup")
	}
}

// The dashboard shows each upstream target's breaker by name, with when an open one half-opens,
// and a benched key with its time and error.
func TestDashboardShowsTargetHealth(t *testing.T) {
	snap := snapshot()
	until := time.Date(2026, 12, 4, 10, 0, 30, 0, time.UTC)
	snap.Targets = []gateway.HealthStatus{
		{Target: "anthropic default …wxyz", Breaker: gateway.BreakerOpen, OpenUntil: until},
		{Target: "gemini default …abcd", Breaker: gateway.BreakerHalfOpen},
		{Target: "openai default …k123", Breaker: gateway.BreakerClosed, BenchedAt: until, BenchError: "401: invalid key"},
	}
	frags, err := renderLive(t.Context(), dashboardLive(snap))
	if err != nil {
		t.Fatal(err)
	}
	var doc *goquery.Document
	for _, f := range frags {
		if bytes.Contains(f, []byte(`id="dash-health"`)) {
			doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(f))
		}
	}
	if doc == nil {
		t.Fatal("no dash-health fragment")
	}
	var got []string
	doc.Find(testid("health-row")).Each(func(_ int, r *goquery.Selection) { got = append(got, cells(r)) })
	want := []string{
		"anthropic default …wxyz | open until 2026-12-04 10:00:30 UTC | in rotation",
		"gemini default …abcd | half-open | in rotation",
		"openai default …k123 | closed | benched 2026-12-04 10:00:30 UTC 401: invalid key",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("health rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// cells is a table row's cells, each with its spaces collapsed, joined by " | ".
func cells(r *goquery.Selection) string {
	var out []string
	r.Find("td").Each(func(_ int, c *goquery.Selection) {
		var words []string
		c.Contents().Each(func(_ int, n *goquery.Selection) { words = append(words, strings.Fields(n.Text())...) })
		out = append(out, strings.Join(words, " "))
	})
	return strings.Join(out, " | ")
}
