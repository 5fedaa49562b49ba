package gateway

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// contrib/grafana-dashboard.json must import into Grafana and chart only metrics that exist.
func TestGrafanaDashboardUsesTheGatewayMetrics(t *testing.T) {
	b, err := os.ReadFile("../contrib/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct {
				H, W, X, Y int
			} `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || dash.SchemaVersion == 0 {
		t.Fatalf("title %q uid %q schemaVersion %d", dash.Title, dash.UID, dash.SchemaVersion)
	}

	// The metric names the gateway exposes, from a registry with every series present.
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	call, _ := e.gw.Begin(e.auth("app"), Admission{})
	call.Upstream()
	call.FirstByte()
	call.End(Outcome{Status: 502, Usage: providers.Usage{InputTokens: 1, OutputTokens: 1, CachedTokens: 1, ReasoningTokens: 1}})
	e.gw.metrics.rateLimited.WithLabelValues("app", "requests_per_minute").Inc()
	e.gw.routing.attempts.WithLabelValues("openai", outcomeServerError).Inc()
	e.gw.routing.fallbacks.WithLabelValues("app").Inc()
	e.gw.routing.breakerOpen.WithLabelValues("openai default …abcd").Set(1)
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]bool{}
	for _, f := range families {
		exposed[f.GetName()] = true
	}

	used := map[string]bool{}
	ids := map[int]bool{}
	name := regexp.MustCompile(`ai_gateway_[a-z_]+`)
	type cell struct{ x, y int }
	taken := map[cell]string{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("duplicate panel id %d", p.ID)
		}
		ids[p.ID] = true
		for dx := range p.GridPos.W {
			for dy := range p.GridPos.H {
				c := cell{p.GridPos.X + dx, p.GridPos.Y + dy}
				if other, ok := taken[c]; ok {
					t.Fatalf("panels %q and %q overlap", other, p.Title)
				}
				taken[c] = p.Title
			}
		}
		if p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q is wider than the grid", p.Title)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !exposed[base] {
					t.Errorf("panel %q queries %s, which the gateway does not expose", p.Title, m)
				}
				used[base] = true
			}
		}
	}
	for _, m := range []string{"ai_gateway_requests_total", "ai_gateway_requests_in_progress", "ai_gateway_input_tokens_total",
		"ai_gateway_output_tokens_total", "ai_gateway_request_duration_seconds", "ai_gateway_active_clients",
		"ai_gateway_upstream_errors_total", "ai_gateway_time_to_first_token_seconds", "ai_gateway_overhead_seconds",
		"ai_gateway_rate_limited_total", "ai_gateway_log_queue_dropped_total", "ai_gateway_upstream_attempts_total",
		"ai_gateway_fallbacks_total", "ai_gateway_breaker_open"} {
		if !used[m] {
			t.Errorf("no panel charts %s", m)
		}
	}
}
