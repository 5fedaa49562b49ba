package routes

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The history says how many requests match on every page, finds a model by any part of its
// name, exports exactly the filtered rows as CSV, and gives the rows newer than the top one.
func TestRequestHistoryTotalSearchCSVAndLiveRows(t *testing.T) {
	e, s, rows := historyEdge(t)

	_, doc, _ := e.page(s, "/admin/requests?model=4O-2024&status=4xx")
	if got := strings.Join(strings.Fields(doc.Find(testid("requests-total")).Text()), " "); got != "9 requests match" {
		t.Errorf("total %q, want 9 requests match (alpha's 429s: gpt-4o-2024-08-06)", got)
	}
	_, doc, _ = e.page(s, "/admin/requests?before="+edgeID(rows[70].ID))
	if got := doc.Find("#requests-total").Text(); got != "120" {
		t.Errorf("total on an older page %q, want 120", got)
	}
	if doc.Find("[data-live-rows]").Length() != 0 {
		t.Error("an older page must not take new rows on top")
	}

	_, doc, _ = e.page(s, "/admin/requests?model=4o&status=4xx")
	href := doc.Find(testid("export-csv")).AttrOr("href", "")
	if href != "/admin/requests.csv?model=4o&status=4xx" {
		t.Fatalf("export link %q", href)
	}
	resp, _, body := e.page(s, href)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("export content type %q", ct)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	if len(records) != 10 || records[0][0] != "id" || records[1][3] != "alpha" || records[1][9] != "429" {
		t.Fatalf("export: %d lines, first %v, second %v; want the header and 9 rows", len(records), records[0], records[1])
	}

	// The first page takes rows newer than its top one, with its filters.
	live := doc.Find("[data-live-rows]").AttrOr("data-live-rows", "")
	if live != "/admin/requests/live?model=4o&status=4xx" {
		t.Fatalf("live rows URL %q", live)
	}
	_, _, fragBody := e.page(s, live+"&after="+url.QueryEscape(edgeID(rows[80].ID)))
	frag, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + fragBody + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	got := rowIDs(frag)
	if len(got) != 2 || got[0] != edgeID(rows[110].ID) || got[1] != edgeID(rows[90].ID) {
		t.Fatalf("rows after %s: %v, want the 429s of minutes 110 and 90\n%s", edgeID(rows[80].ID), got, fragBody)
	}
}
