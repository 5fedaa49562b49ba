package routes

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
)

// historyEdge has two clients and 120 logged requests, one a minute from 08:00 UTC: alpha on
// even minutes, beta (whose model name is markup) on odd ones; every 25th a 502 whose message is
// markup, every other tenth a 429. So alpha has 9 × 429 and 3 × 502, beta 2 × 502.
func historyEdge(t *testing.T) (*edge, edgeSession, []db.RequestLog) {
	e := newEdge(t)
	s := e.login()
	a, _ := e.createClient(&db.Client{Name: "alpha", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	b, _ := e.createClient(&db.Client{Name: "beta", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var rows []db.RequestLog
	for i := range 120 {
		r := db.RequestLog{Time: t0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("req-%03d", i), ClientID: a.ID,
			Endpoint: "/v1/chat/completions", ModelRequested: "gpt-4o", ModelUsed: "gpt-4o-2024-08-06", Provider: "openai",
			Status: 200, InputTokens: int64(i), OutputTokens: 2, LatencyMS: 300, TTFTMS: 40}
		if i%2 == 1 {
			r.ClientID, r.ModelRequested, r.ModelUsed = b.ID, `<script>alert("model")</script>`, ""
		}
		if i == 119 {
			r.InputTokens, r.CachedTokens = 12_000, 9_500 // a prompt-cache hit
		}
		if i%10 == 0 {
			r.Status, r.ErrorClass, r.ErrorMessage = 429, "rate_limited", "requests per minute exceeded"
		}
		if i%25 == 0 {
			r.Status, r.ErrorClass, r.ErrorMessage = 502, "upstream", `upstream said <img src=x onerror=alert(1)>`
		}
		rows = append(rows, r)
	}
	if _, err := e.deps.DB.NewInsert().Model(&rows).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, s, rows
}

func rowIDs(doc *goquery.Document) []string {
	var ids []string
	doc.Find(testid("request-row")).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("data-request-id", "")) })
	return ids
}

func TestRequestHistoryFiltersAndPages(t *testing.T) {
	e, s, rows := historyEdge(t)

	// Newest first, 50 a page; "Older" pages back with the id cursor and keeps the filters.
	_, doc, _ := e.page(s, "/admin/requests")
	ids := rowIDs(doc)
	if len(ids) != 50 || ids[0] != edgeID(rows[119].ID) || ids[49] != edgeID(rows[70].ID) {
		t.Fatalf("first page: %d rows, %s … %s", len(ids), ids[0], ids[len(ids)-1])
	}
	// A cache hit shows its cached input tokens; rows without one show nothing extra.
	if got := doc.Find(testid("request-cached")); got.Length() != 1 || got.Text() != "9500 cached" {
		t.Errorf("cache hits shown: %d, %q", got.Length(), got.Text())
	}
	older := doc.Find(testid("page-older")).AttrOr("href", "")
	if older != "/admin/requests?before="+edgeID(rows[70].ID) {
		t.Fatalf("older link %q", older)
	}
	_, doc, _ = e.page(s, older)
	_, doc, _ = e.page(s, doc.Find(testid("page-older")).AttrOr("href", ""))
	if ids := rowIDs(doc); len(ids) != 20 || doc.Find(testid("page-older")).Length() != 0 ||
		doc.Find(testid("page-newest")).AttrOr("href", "") != "/admin/requests" {
		t.Errorf("last page: %d rows, older link %d", len(ids), doc.Find(testid("page-older")).Length())
	}

	tests := []struct {
		query string
		want  int
	}{
		{"client_id=1", 60},
		{"client_id=1&status=4xx", 9},
		{"client_id=2&status=4xx", 0},
		{"status=429", 9},
		{"status=5xx", 5},
		{"status=2xx&client_id=1", 60 - 9 - 3},
		{"model=gpt-4o-2024-08-06", 60},
		{"model=" + url.QueryEscape(`<script>alert("model")</script>`), 60},
		{"from=2026-03-01T09:00&to=2026-03-01T09:30", 30},
		{"from=2026-03-01T09:50:00Z", 10},
	}
	for _, tt := range tests {
		resp, doc, _ := e.page(s, "/admin/requests?"+tt.query+"&limit=500")
		if resp.StatusCode != http.StatusOK || len(rowIDs(doc)) != tt.want {
			t.Errorf("?%s: %d, %d rows, want %d", tt.query, resp.StatusCode, len(rowIDs(doc)), tt.want)
		}
	}

	// The filter form shows the filter, and paging keeps it.
	_, doc, _ = e.page(s, "/admin/requests?client_id=1&status=2xx&limit=10")
	if doc.Find(testid("filter-client")+` option[selected]`).Text() != "alpha" ||
		doc.Find(testid("filter-status")+` option[selected]`).AttrOr("value", "") != "2xx" {
		t.Error("filter form does not show the filter")
	}
	if got := doc.Find(testid("page-title")).Text(); got != "Requests · alpha" {
		t.Errorf("per-client title %q", got)
	}
	if older := doc.Find(testid("page-older")).AttrOr("href", ""); !strings.Contains(older, "client_id=1") || !strings.Contains(older, "status=2xx") ||
		!strings.Contains(older, "limit=10") {
		t.Errorf("older link drops the filter: %q", older)
	}

	// Filters that make no sense are shown next to their field.
	resp, doc, _ := e.page(s, "/admin/requests?status=teapot&from=yesterday")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(testid("error-status")).Text(), "4xx") ||
		doc.Find(testid("error-from")).Length() != 1 {
		t.Errorf("bad filter: %d %q", resp.StatusCode, doc.Find(testid("error-status")).Text())
	}
}

func TestRequestHistoryEscapes(t *testing.T) {
	e, s, rows := historyEdge(t)
	_, doc, body := e.page(s, "/admin/requests?limit=500")
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || doc.Find("img, script:not([src])").Length() != 0 {
		t.Fatal("a model name or an upstream error was rendered as markup")
	}
	text := doc.Find(testid("requests-table")).Text()
	for _, want := range []string{`<script>alert("model")</script>`, `upstream said <img src=x onerror=alert(1)>`} {
		if !strings.Contains(text, want) {
			t.Errorf("history lacks %q as text", want)
		}
	}

	// The detail page shows the error message in full, as text.
	failed := rows[25] // client b, 502
	resp, doc, body := e.page(s, "/admin/requests/"+edgeID(failed.ID))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("detail: %d", resp.StatusCode)
	}
	if got := doc.Find(testid("detail-error")).Text(); got != `upstream said <img src=x onerror=alert(1)>` {
		t.Errorf("detail error %q", got)
	}
	if got := doc.Find(testid("detail-model-requested")).Text(); got != `<script>alert("model")</script>` {
		t.Errorf("detail model %q", got)
	}
	if strings.Contains(body, "<img src=x") || strings.Contains(body, "<script>alert") {
		t.Error("detail page renders markup from the log")
	}
	for _, want := range []string{"beta", "req-025", "502", "upstream"} {
		if !strings.Contains(doc.Find("main").Text(), want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if resp, _, _ := e.page(s, "/admin/requests/99999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown request: %d", resp.StatusCode)
	}
}

func TestRequestDetailShowsStoredBodies(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	row := db.RequestLog{Time: time.Now(), ClientID: 42, Status: 200, RequestBody: `{"messages":"<b>hi</b>"}`, ResponseBody: `{"ok":true}`}
	if _, err := e.deps.DB.NewInsert().Model(&row).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, doc, _ := e.page(s, "/admin/requests/"+edgeID(row.ID))
	if doc.Find(testid("detail-request-body")).Text() != `{"messages":"<b>hi</b>"}` || doc.Find("b").Length() != 0 {
		t.Errorf("request body %q", doc.Find(testid("detail-request-body")).Text())
	}
	if doc.Find(testid("detail-client")).Text() != "deleted client 42" {
		t.Errorf("client of a deleted client: %q", doc.Find(testid("detail-client")).Text())
	}
}

func TestAdminAPIRequests(t *testing.T) {
	e, _, rows := historyEdge(t)
	tok := e.adminToken()
	var page struct {
		Requests   []requestJSON `json:"requests"`
		NextBefore *int64        `json:"next_before"`
	}
	var got []requestJSON
	path := "/admin/api/v1/requests?client_id=1&status=4xx&limit=4"
	for pages := 1; ; pages++ {
		page.NextBefore = nil
		if resp := e.api(tok, "GET", path, "", &page); resp.StatusCode != 200 || len(page.Requests) > 4 || pages > 3 {
			t.Fatalf("page %d: %d, %d rows", pages, resp.StatusCode, len(page.Requests))
		}
		got = append(got, page.Requests...)
		if page.NextBefore == nil {
			break
		}
		path = fmt.Sprintf("/admin/api/v1/requests?client_id=1&status=4xx&limit=4&before=%d", *page.NextBefore)
	}
	if len(got) != 9 || got[0].RequestID != "req-110" || got[8].RequestID != "req-010" || got[8].ID != rows[10].ID {
		t.Fatalf("%d rows, %q … %q", len(got), got[0].RequestID, got[len(got)-1].RequestID)
	}
	for _, r := range got {
		if r.ClientID != 1 || r.Status != 429 || r.ErrorMessage != "requests per minute exceeded" || r.Endpoint != "/v1/chat/completions" {
			t.Errorf("row %+v", r)
		}
	}
	var apiErr edgeAPIError
	if resp := e.api(tok, "GET", "/admin/api/v1/requests?limit=9999", "", &apiErr); resp.StatusCode != 400 || apiErr.Error.Fields["limit"] == "" {
		t.Errorf("bad limit: %d %+v", resp.StatusCode, apiErr)
	}
	if resp := e.api("wrong", "GET", "/admin/api/v1/requests", "", nil); resp.StatusCode != 401 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
}

// The detail page and the admin API show a traced request's trace id (SPEC §19), a dash when
// the request was not traced.
func TestRequestDetailShowsTraceID(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	traced := db.RequestLog{Time: time.Now(), ClientID: 42, Status: 200, TraceID: id}
	plain := db.RequestLog{Time: time.Now(), ClientID: 42, Status: 200}
	for _, r := range []*db.RequestLog{&traced, &plain} {
		if _, err := e.deps.DB.NewInsert().Model(r).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, doc, _ := e.page(s, "/admin/requests/"+edgeID(traced.ID)); doc.Find(testid("detail-trace-id")).Text() != id {
		t.Errorf("trace id shown as %q, want %q", doc.Find(testid("detail-trace-id")).Text(), id)
	}
	if _, doc, _ := e.page(s, "/admin/requests/"+edgeID(plain.ID)); strings.TrimSpace(doc.Find(testid("detail-trace-id")).Text()) != "—" {
		t.Errorf("untraced request's trace id shown as %q", doc.Find(testid("detail-trace-id")).Text())
	}
	var page struct {
		Requests []struct {
			ID      int64  `json:"id"`
			TraceID string `json:"trace_id"`
		} `json:"requests"`
	}
	if resp := e.api(e.adminToken(), "GET", "/admin/api/v1/requests?client_id=42", "", &page); resp.StatusCode != 200 {
		t.Fatalf("admin API requests: %d", resp.StatusCode)
	}
	if len(page.Requests) != 2 || page.Requests[0].TraceID != "" || page.Requests[1].TraceID != id {
		t.Errorf("admin API requests %+v, want the newest untraced and the older with trace id %s", page.Requests, id)
	}
}

// The detail page and the admin API note the tools an attempt's backend could not be offered
// (built-in and namespaced Responses tools on a translated backend).
func TestRequestDetailShowsOmittedTools(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	row := db.RequestLog{Time: time.Now(), ClientID: 42, Status: 200, Endpoint: "/v1/responses",
		Attempts: db.Attempts{{Provider: "anthropic", Status: 200, OmittedTools: []string{"web_search", "namespace multi_agent_v1"}}}}
	if _, err := e.deps.DB.NewInsert().Model(&row).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, doc, _ := e.page(s, "/admin/requests/"+edgeID(row.ID))
	got := strings.Join(strings.Fields(doc.Find(testid("attempt-omitted")).Text()), " ")
	if want := "Tools left out (this backend cannot be offered them): web_search, namespace multi_agent_v1"; got != want {
		t.Errorf("omitted tools shown as %q, want %q", got, want)
	}
	var page struct {
		Requests []requestJSON `json:"requests"`
	}
	if resp := e.api(e.adminToken(), "GET", "/admin/api/v1/requests", "", &page); resp.StatusCode != 200 || len(page.Requests) != 1 {
		t.Fatalf("admin API: %d, %d rows", resp.StatusCode, len(page.Requests))
	}
	if got := page.Requests[0].Attempts[0].OmittedTools; strings.Join(got, "|") != "web_search|namespace multi_agent_v1" {
		t.Errorf("admin API omitted_tools %q", got)
	}
}
