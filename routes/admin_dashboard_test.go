package routes

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
)

// snapshot is a day of traffic with a model name that is markup.
func snapshot() gateway.Snapshot {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := gateway.Snapshot{
		Time: now,
		Today: gateway.Totals{Requests: 1234, Errors: 12, InputTokens: 2_500_000, OutputTokens: 40_000, CachedTokens: 1_750_000,
			CacheSavedMicros: 1_234_567},
		InFlight:          3,
		RequestsPerSecond: 2.5,
		Models: []gateway.Top{
			{Name: "gpt-4o", Totals: gateway.Totals{Requests: 1000, InputTokens: 2_000_000}},
			{Name: `<script>alert("model")</script>`, Totals: gateway.Totals{Requests: 234, Errors: 12}},
		},
		Clients: []gateway.Top{{Name: "billing-bot", Totals: gateway.Totals{Requests: 1234, Errors: 12}}},
	}
	for i := range 60 {
		s.LastHour = append(s.LastHour, gateway.Point{Time: now.Add(time.Duration(i-59) * time.Minute),
			Totals: gateway.Totals{Requests: int64(i % 7), Errors: int64(i % 2), InputTokens: int64(100 * i), OutputTokens: int64(10 * i)}})
	}
	for i := range 144 {
		s.LastDay = append(s.LastDay, gateway.Point{Time: now.Add(time.Duration(i-143) * 10 * time.Minute)})
	}
	return s
}

func TestDashboardLiveFragments(t *testing.T) {
	frags, err := renderLive(t.Context(), dashboardLive(snapshot()))
	if err != nil {
		t.Fatal(err)
	}
	html := string(bytes.Join(frags, nil))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"stat-requests-value":      "1,234",
		"stat-input-tokens-value":  "2.5M",
		"stat-output-tokens-value": "40k",
		"stat-errors-value":        "12",
		"stat-in-flight-value":     "3",
		"stat-rps-value":           "2.5",
		"stat-cache-hit-value":     "70.0%",
	} {
		if got := strings.TrimSpace(doc.Find(testid(id)).Text()); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := doc.Find(testid("stat-cache-hit")).Text(); !strings.Contains(got, "1.8M of 2.5M input tokens cached") {
		t.Errorf("cache hit note: %q", got)
	}
	// What the cache saved today, net of cache writes, says how it is counted.
	if got := doc.Find(testid("stat-cache-hit")).Text(); !strings.Contains(got, "saved $1.23 today") {
		t.Errorf("cache hit card without the saving: %q", got)
	}
	if got := doc.Find(testid("stat-cache-hit")).AttrOr("title", ""); !strings.Contains(got, "less cache writes") {
		t.Errorf("cache hit card's help: %q", got)
	}
	if !strings.Contains(doc.Find(testid("stat-errors")).Text(), "1.0% of requests") {
		t.Errorf("error rate: %q", doc.Find(testid("stat-errors")).Text())
	}
	// One bar per minute and per 10 minutes; the hour's busiest minute (6 requests) fits the scale.
	for id, bars := range map[string]int{"dash-chart-hour-requests": 60, "dash-chart-hour-tokens": 60,
		"dash-chart-day-requests": 144, "dash-chart-day-tokens": 144} {
		chart := doc.Find(testid(id))
		if n := chart.Find("svg g").Length(); n != bars {
			t.Errorf("%s: %d bars, want %d", id, n, bars)
		}
	}
	hour := doc.Find(testid("dash-chart-hour-requests"))
	if got := hour.Find(".chart-summary").Text(); got != "174 requests, 30 errors" {
		t.Errorf("hour summary %q", got)
	}
	if hour.Find(`svg[role="img"] rect.series-errors`).Length() != 30 || hour.Find("title").First().Text() != "09:01 · requests 0 · errors 0" {
		t.Errorf("error segments %d, first tooltip %q", hour.Find(`svg[role="img"] rect.series-errors`).Length(), hour.Find("title").First().Text())
	}
	if !strings.Contains(doc.Find(testid("dash-chart-day-requests")).Text(), "No traffic in this period") {
		t.Error("an empty day chart does not say so")
	}
	// A model name is text, never markup.
	models := doc.Find(testid("dash-top-models") + " " + testid("top-row"))
	if models.Length() != 2 || !strings.Contains(models.Eq(1).Text(), `<script>alert("model")</script>`) {
		t.Errorf("top models: %q", models.Text())
	}
	if doc.Find("script").Length() != 0 || strings.Contains(html, "style=") {
		t.Error("fragments carry markup from a model name or inline styles")
	}
}

func TestDashboardPageHoldsEveryLiveFragment(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	resp, doc, _ := e.page(s, "/admin")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	dash := doc.Find(testid("dashboard"))
	if dash.AttrOr("hx-ext", "") != "ws" || dash.AttrOr("ws-connect", "") != "/admin/ws" {
		t.Fatalf("dashboard container: hx-ext=%q ws-connect=%q", dash.AttrOr("hx-ext", ""), dash.AttrOr("ws-connect", ""))
	}
	// Every fragment the hub pushes replaces exactly one element of the page: same id.
	frags, err := renderLive(t.Context(), dashboardLive(snapshot()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frags {
		frag, err := goquery.NewDocumentFromReader(bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		top := frag.Find("body").Children()
		id := top.AttrOr("id", "")
		if top.Length() != 1 || id == "" {
			t.Fatalf("fragment without one top element with an id: %s", f)
		}
		if n := dash.Find("#" + id).Length(); n != 1 {
			t.Errorf("page has %d elements #%s", n, id)
		}
	}
	if got := strings.TrimSpace(doc.Find(testid("stat-requests-value")).Text()); got != "0" {
		t.Errorf("requests without traffic: %q", got)
	}
}

// TestDashboardPushesTheClientCount: the line counting clients is a live fragment, fed by the
// gateway's key cache, so a client added or disabled elsewhere shows without a reload.
func TestDashboardPushesTheClientCount(t *testing.T) {
	snap := snapshot()
	snap.ClientCount, snap.ActiveClientCount = 3, 2
	frags, err := renderLive(t.Context(), dashboardLive(snap))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, f := range frags {
		if strings.Contains(string(f), `id="dash-clients"`) {
			frag, _ := goquery.NewDocumentFromReader(bytes.NewReader(f))
			line = strings.Join(strings.Fields(frag.Text()), " ")
		}
	}
	if !strings.HasPrefix(line, "3 clients, 2 active") {
		t.Errorf("client line %q, want it to start with %q", line, "3 clients, 2 active")
	}
}

// A gateway without clients says how to get to the first request; the top tables add up to
// the totals (entries past the first rows summed in one line) and explain "other".
func TestDashboardGettingStartedAndTopTablesAddUp(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	_, doc, _ := e.page(s, "/admin")
	if doc.Find(testid("getting-started")).Length() != 1 || doc.Find(`[data-testid="get-started-create"]`).AttrOr("href", "") != "/admin/clients/new" ||
		!strings.Contains(doc.Find(testid("get-started-curl")).Text(), "/v1/chat/completions") {
		t.Fatalf("no getting-started guide on an empty gateway")
	}
	e.createClient(&db.Client{Name: "bot", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	if _, doc, _ := e.page(s, "/admin"); doc.Find(testid("getting-started")).Length() != 0 {
		t.Error("the getting-started guide stays once there is a client")
	}

	var tops []gateway.Top
	var total int64
	for i := range topRows + 3 {
		n := int64(100 - i)
		tops = append(tops, gateway.Top{Name: fmt.Sprintf("m%d", i), Totals: gateway.Totals{Requests: n, Errors: 1}})
		total += n
	}
	tops[topRows+2].Name = "other"
	l := topList("x", "Top models today", "", "models", tops)
	sum := l.More.Requests
	for _, r := range l.Rows {
		sum += r.Requests
	}
	if len(l.Rows) != topRows || sum != total || l.More.Name != "3 more models" || l.More.Errors != 3 {
		t.Errorf("%d rows + %q = %d requests, want %d", len(l.Rows), l.More.Name, sum, total)
	}
	if !strings.Contains(l.Note, `"other"`) {
		t.Errorf("no note on other: %q", l.Note)
	}
}

// Writes that cost more than the reads saved are said as such, and without any saving (unpriced
// models, no cache) the card says nothing about money.
func TestCacheHitStatSaving(t *testing.T) {
	lost := cacheHitStat(gateway.Totals{InputTokens: 1000, CacheSavedMicros: -50_000})
	if !strings.Contains(lost.Note, "cache writes cost $0.05 more than they saved today") {
		t.Errorf("net loss: %q", lost.Note)
	}
	none := cacheHitStat(gateway.Totals{InputTokens: 1000, CachedTokens: 500})
	if strings.Contains(none.Note, "$") || none.Note != "500 of 1k input tokens cached" {
		t.Errorf("no saving: %q", none.Note)
	}
}
