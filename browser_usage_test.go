package main

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aigateway/ai-gateway/db"
)

// browseUsage is the usage page's part of TestAdminUIInBrowser: four weeks of history are added
// to the rollups of the two clients the test made (ids 1 and 2), the page shows 30 days of it as
// charts and tables, its totals are the CSV export's, and the period links work.
func browseUsage(t *testing.T, u ui, base, dir, token string) {
	t.Helper()
	bdb, err := db.Open(context.Background(), filepath.Join(dir, "data", "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	today := time.Now().UTC()
	var rows []db.UsageDaily
	for i := 1; i < 30; i++ {
		day := today.AddDate(0, 0, -i).Format(time.DateOnly)
		n := int64(30 - i + (i*7)%11) // a rising trend with some noise
		rows = append(rows,
			db.UsageDaily{ClientID: 1, Day: day, Model: "gpt-4o-mini", Requests: 40 * n, Errors: n % 3, InputTokens: 52_000 * n,
				OutputTokens: 9_000 * n, CachedTokens: 20_000 * n, CostMicros: 52_000*n*15/100 + 9_000*n*60/100 - 20_000*n*75/1000},
			db.UsageDaily{ClientID: 2, Day: day, Model: "o3-mini", Requests: 12 * n, InputTokens: 30_000 * n,
				OutputTokens: 14_000 * n, ReasoningTokens: 8_000 * n, CostMicros: 30_000*n*110/100 + 14_000*n*440/100},
			db.UsageDaily{ClientID: 2, Day: day, Model: "gpt-4o", Requests: 5 * n, InputTokens: 8_000 * n,
				OutputTokens: 2_000 * n, CostMicros: 8_000*n*250/100 + 2_000*n*10})
	}
	if err := db.NewUsageStore(bdb).Add(context.Background(), rows); err != nil {
		t.Fatal(err)
	}

	u.do("open the usage page", press(`[data-testid="nav-usage"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="usage-totals"]`)))
	if got := u.text(`[data-testid="usage-ranges"] a[aria-current="page"]`); got != "30 days" {
		t.Errorf("default period %q, want 30 days", got)
	}
	if n := u.eval(`String(document.querySelectorAll('#usage-chart-spend g rect.series-spend').length)`); n != "30" {
		t.Errorf("the spend chart has %s bars, want one per day with traffic (30)", n)
	}
	if n := u.eval(`String(document.querySelectorAll('[data-testid="usage-by-model"] [data-testid="usage-row"]').length)`); n != "4" {
		t.Errorf("%s model rows, want 4 (three with history, and today's failing model)", n)
	}
	spend := u.text(`[data-testid="usage-spend-value"]`)
	link := u.eval(q(`[data-testid="usage-csv"]`) + `.getAttribute("href")`)
	req, _ := http.NewRequest(http.MethodGet, base+link, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("CSV export %d: %v\n%s", resp.StatusCode, err, body)
	}
	var cost float64
	for _, r := range recs[1:] {
		c, _ := strconv.ParseFloat(r[len(r)-2], 64) // cost_usd
		cost += c
	}
	if want := "$" + thousandsDollars(cost); spend != want {
		t.Errorf("page shows %s, the CSV sums to %s", spend, want)
	}
	u.screenshot("usage-30d")

	u.do("switch to 7 days", press(`[data-testid="usage-ranges"] a[href*="days=7"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="usage-totals"]`)))
	u.waitFor("the 7-day chart", `document.querySelectorAll('#usage-chart-spend g rect.series-spend').length === 7`)
}

// thousandsDollars formats dollars with cents and thousands separators, as the page does.
func thousandsDollars(v float64) string {
	cents := int64(v*100 + 0.5)
	whole := strconv.FormatInt(cents/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return whole + "." + strconv.FormatInt(cents%100/10, 10) + strconv.FormatInt(cents%10, 10)
}
