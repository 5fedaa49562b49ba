package routes

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/gateway"
)

// With several instances on one Redis the dashboard lists each, the one serving the page marked;
// a lone instance shows no such table.
func TestDashboardInstances(t *testing.T) {
	render := func(s gateway.Snapshot) *goquery.Selection {
		t.Helper()
		frags, err := renderLive(t.Context(), dashboardLive(s))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(bytes.Join(frags, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return doc.Find(`[data-testid="dash-instances"]`)
	}
	alone := render(snapshot())
	if alone.Length() != 1 || alone.Find(`[data-testid="instance-row"]`).Length() != 0 || strings.TrimSpace(alone.Text()) != "" {
		t.Fatalf("a lone instance shows an instances table: %q", alone.Text())
	}

	s := snapshot()
	started := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Instances = []gateway.InstanceStats{
		{ID: "a", Host: "gw-1:8090", Started: started, InFlight: 2, RequestsPerSecond: 1.5, Today: gateway.Totals{Requests: 1200, Errors: 3}},
		{ID: "b", Host: "<b>gw-2</b>:8090", Started: started.Add(time.Hour), InFlight: 1, Today: gateway.Totals{Requests: 34}, Self: true},
	}
	rows := render(s).Find(`[data-testid="instance-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("%d instance rows, want 2", rows.Length())
	}
	first, second := rows.Eq(0), rows.Eq(1)
	if got := first.Find(`[data-testid="instance-requests"]`).Text(); got != "1,200" {
		t.Errorf("first instance's requests = %q", got)
	}
	if got := first.Find(`[data-testid="instance-in-flight"]`).Text(); got != "2" {
		t.Errorf("first instance's in flight = %q", got)
	}
	if name := second.Find(`[data-testid="instance-name"]`).Text(); !strings.Contains(name, "<b>gw-2</b>:8090") || !strings.Contains(name, "this page") {
		t.Errorf("second instance's name cell = %q, want the host escaped and marked as this page", name)
	}
	if strings.Contains(first.Find(`[data-testid="instance-name"]`).Text(), "this page") {
		t.Error("the other instance is marked as this page")
	}
}
