package routes

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
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

// The admin API takes upstream_keys and fallbacks (SPEC §8): keys are write-only, answers show
// their hints; a fallback sent again without keys keeps its keys; bad targets are field errors.
func TestAdminAPIFallbacksAndKeys(t *testing.T) {
	e := newEdge(t)
	token := e.adminToken()
	var bodies []string
	call := func(method, path, body string, out any) int {
		t.Helper()
		resp, raw := e.do(newReq(method, path, body, "Authorization", "Bearer "+token, "Content-Type", "application/json"))
		bodies = append(bodies, raw)
		if out != nil {
			json.Unmarshal([]byte(raw), out)
		}
		return resp.StatusCode
	}
	var c clientJSON
	if st := call("POST", "/admin/api/v1/clients", `{"name":"app","backend":"anthropic",
		"upstream_keys":["sk-ant-first-key-0001","sk-ant-second-key-0002"],
		"fallbacks":[{"backend":"gemini","upstream_keys":["gem-one-key-0003","gem-two-key-0004"],"model":"gemini-2.5-flash"},
			{"backend":"openai-compatible","base_url":"https://llm.example.test/v1","upstream_key":"sk-compat-key-0005"}]}`, &c); st != 201 {
		t.Fatalf("create: %d %s", st, bodies[0])
	}
	if strings.Join(c.UpstreamKeyHints, ",") != "0001,0002" || len(c.Fallbacks) != 2 ||
		strings.Join(c.Fallbacks[0].UpstreamKeyHints, ",") != "0003,0004" || c.Fallbacks[0].Model != "gemini-2.5-flash" ||
		strings.Join(c.Fallbacks[1].UpstreamKeyHints, ",") != "0005" {
		t.Fatalf("created %+v", c)
	}
	id := strconv.FormatInt(c.ID, 10)
	// Reordered without keys: each fallback keeps its own.
	if st := call("PATCH", "/admin/api/v1/clients/"+id, `{"fallbacks":[{"backend":"openai-compatible","base_url":"https://llm.example.test/v1"},
		{"backend":"gemini","model":"gemini-2.5-pro"}]}`, &c); st != 200 {
		t.Fatalf("patch: %d %s", st, bodies[len(bodies)-1])
	}
	if len(c.Fallbacks) != 2 || strings.Join(c.Fallbacks[0].UpstreamKeyHints, ",") != "0005" ||
		strings.Join(c.Fallbacks[1].UpstreamKeyHints, ",") != "0003,0004" || c.Fallbacks[1].Model != "gemini-2.5-pro" {
		t.Fatalf("after reorder %+v", c.Fallbacks)
	}
	for _, bad := range []string{
		`{"fallbacks":[{"backend":"nope"}]}`,
		`{"fallbacks":[{"backend":"openai-compatible"}]}`,
		`{"fallbacks":[{"backend":"gemini","base_url":"ftp://x"}]}`,
		`{"fallbacks":[{"backend":"gemini","model":"a b"}]}`,
		`{"upstream_key":"k","upstream_keys":["k2"]}`,
		`{"upstream_keys":["has space"]}`,
	} {
		if st := call("PATCH", "/admin/api/v1/clients/"+id, bad, nil); st != 400 || !strings.Contains(bodies[len(bodies)-1], `"fields"`) {
			t.Errorf("%s: %d %s, want 400 naming the field", bad, st, bodies[len(bodies)-1])
		}
	}
	call("GET", "/admin/api/v1/clients/"+id, "", nil)
	for _, b := range bodies {
		for _, k := range []string{"first-key", "second-key", "gem-one", "gem-two", "compat-key"} {
			if strings.Contains(b, k) {
				t.Fatalf("an answer holds an upstream key: %s", b)
			}
		}
	}
}
