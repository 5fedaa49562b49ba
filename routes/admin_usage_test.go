package routes

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// usageEdge has two clients and a month of rollups: alpha on two models, beta on one with
// requests to an unpriced model; the edge's clock is 2026-03-01.
func usageEdge(t *testing.T) (*edge, edgeSession, *db.Client) {
	e := newEdge(t)
	s := e.login()
	a, _ := e.createClient(&db.Client{Name: "alpha", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	b, _ := e.createClient(&db.Client{Name: "beta", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	var rows []db.UsageDaily
	for i, day := range []string{"2026-01-20", "2026-02-10", "2026-02-25", "2026-02-28", "2026-03-01"} {
		n := int64(i + 1)
		rows = append(rows,
			db.UsageDaily{ClientID: a.ID, Day: day, Model: "gpt-4o", Requests: 10 * n, Errors: n, InputTokens: 1000 * n,
				OutputTokens: 200 * n, CachedTokens: 100 * n, ReasoningTokens: 10 * n, CostMicros: 123_457 * n},
			db.UsageDaily{ClientID: a.ID, Day: day, Model: "gpt-4o-mini", Requests: 5 * n, InputTokens: 500 * n,
				OutputTokens: 50 * n, CostMicros: 1_001 * n},
			db.UsageDaily{ClientID: b.ID, Day: day, Model: "local-llama", Requests: 3 * n, InputTokens: 300 * n,
				OutputTokens: 30 * n, Unpriced: 3 * n})
	}
	if err := db.NewUsageStore(e.deps.DB).Add(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	return e, s, a
}

// The page's totals are the CSV export's: the export behind the page's own link sums to what
// the page shows, for every client and for one.
func TestUsagePageTotalsMatchTheCSV(t *testing.T) {
	e, s, a := usageEdge(t)
	for _, path := range []string{"/admin/usage?days=30", "/admin/usage?days=7", "/admin/usage?days=90&client=" + edgeID(a.ID)} {
		resp, doc, body := e.page(s, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		spend := strings.TrimSpace(doc.Find(testid("usage-spend-value")).Text())
		requests := strings.TrimSpace(doc.Find(testid("usage-requests-value")).Text())
		link, _ := doc.Find(testid("usage-csv")).Attr("href")
		cresp, _, csvBody := e.page(s, link)
		if cresp.StatusCode != http.StatusOK || !strings.HasPrefix(cresp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: CSV %d %s", link, cresp.StatusCode, csvBody)
		}
		recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		var cost float64
		var reqs int64
		for _, r := range recs[1:] {
			c, _ := strconv.ParseFloat(r[col["cost_usd"]], 64)
			n, _ := strconv.ParseInt(r[col["requests"]], 10, 64)
			cost += c
			reqs += n
		}
		if got := "$" + strconv.FormatFloat(cost, 'f', 2, 64); got != spend {
			t.Errorf("%s: page shows spend %s, CSV sums to %s", path, spend, got)
		}
		if got := strconv.FormatInt(reqs, 10); got != strings.ReplaceAll(requests, ",", "") {
			t.Errorf("%s: page shows %s requests, CSV sums to %s", path, requests, got)
		}
	}
	// 30 days to 2026-03-01: 2026-02-10 onwards, i = 1..4 → n = 2+3+4+5 = 14.
	_, doc, _ := e.page(s, "/admin/usage?days=30")
	if got := strings.TrimSpace(doc.Find(testid("usage-spend-value")).Text()); got != "$1.74" { // 14 × 124,458 µ$
		t.Errorf("30-day spend = %s, want $1.74", got)
	}
	if n := doc.Find(testid("usage-by-model") + " " + testid("usage-row")).Length(); n != 3 {
		t.Errorf("%d model rows, want 3", n)
	}
	if !strings.Contains(doc.Find(testid("usage-by-model")).Text(), "unpriced") {
		t.Error("the unpriced model's requests are not marked unpriced")
	}
	if doc.Find(`svg[role="img"]`).Length() != 3 {
		t.Error("the page lacks its three charts")
	}
}

func TestUsageAPIRefusesBadQueries(t *testing.T) {
	e, s, _ := usageEdge(t)
	for _, q := range []string{"from=yesterday", "from=2026-03-02&to=2026-03-01", "group_by=week", "format=xml", "from=2020-01-01&to=2026-01-01"} {
		resp, _, body := e.page(s, "/admin/api/v1/usage?"+q)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
}

// A client name that starts like a spreadsheet formula is exported as text.
func TestUsageCSVDefusesFormulas(t *testing.T) {
	if got := csvText("=HYPERLINK(\"x\")"); got != "'=HYPERLINK(\"x\")" {
		t.Errorf("csvText = %q", got)
	}
	if got := csvText("alpha"); got != "alpha" {
		t.Errorf("csvText = %q", got)
	}
}

// The client form sets the dollar budgets, the API shows them, a bad amount is refused.
func TestClientFormBudget(t *testing.T) {
	e := newEdge(t, withGateway(t))
	s := e.login()
	form := clientFormValues("payer", "openai", "")
	form.Set("budget.usd_per_day", "2.5")
	form.Set("budget.usd_per_month", "40")
	resp, _, body := e.post(s, "/admin/clients", form)
	if resp.StatusCode >= 400 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	list, _ := e.deps.Clients.List(context.Background())
	if len(list) != 1 || list[0].BudgetDayMicros != 2_500_000 || list[0].BudgetMonthMicros != 40_000_000 {
		t.Fatalf("stored budgets: %+v", list)
	}
	_, doc, _ := e.page(s, "/admin/clients/"+edgeID(list[0].ID))
	if v, _ := doc.Find(testid("field-budget.usd_per_day")).Attr("value"); v != "2.5" {
		t.Errorf("form shows day budget %q", v)
	}
	_, doc, _ = e.page(s, "/admin/clients")
	if got := doc.Find(testid("meter-spend-month")).Text(); !strings.Contains(got, "$0.00 / $40.00") {
		t.Errorf("clients list month meter = %q", got)
	}
	form.Set("budget.usd_per_day", "-1")
	resp, doc, _ = e.post(s, "/admin/clients/"+edgeID(list[0].ID), form)
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-budget.usd_per_day"], .field-error`).Length() == 0 {
		t.Errorf("negative budget: %d", resp.StatusCode)
	}
}

// From 80% of a budget the clients list flags the client; past it, says the budget is used up.
func TestClientsListWarnsAtEightyPercentOfBudget(t *testing.T) {
	e := newEdge(t, withGateway(t))
	s := e.login()
	cl, _ := e.createClient(&db.Client{Name: "spender", Backend: "openai", ToolMode: "passthrough", Active: true,
		DefaultModel: "gpt-4o-mini", BudgetMonthMicros: 1000}, "sk-test")
	gc := e.deps.Gateway.ClientByID(cl.ID)
	spend := func(out int) {
		call, err := e.deps.Gateway.Begin(gc, gateway.Admission{MaxOutputTokens: int64(out)})
		if err != nil {
			t.Fatal(err)
		}
		call.End(gateway.Outcome{Status: 200, Usage: providers.Usage{OutputTokens: out}}) // $0.60 per million
	}
	_, doc, _ := e.page(s, "/admin/clients")
	if doc.Find(testid("budget-warning")).Length() != 0 {
		t.Fatal("a warning before any spend")
	}
	spend(1400) // 840 µ$ of 1000
	_, doc, _ = e.page(s, "/admin/clients")
	if got := doc.Find(testid("budget-warning")).Text(); !strings.Contains(got, "80%") {
		t.Errorf("at 84%% of the budget: warning %q", got)
	}
	if got := doc.Find(testid("meter-spend-month")).Text(); !strings.Contains(got, "$0.0008 / $0.0010") {
		t.Errorf("month meter %q", got)
	}
}
