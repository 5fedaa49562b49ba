package routes

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/views"
)

// topRows is how many models and clients the dashboard lists.
const topRows = 8

// dashboardPage is the admin home: today's numbers, charts and top lists, rendered now and then
// kept current by the hub over /admin/ws.
func (s *server) dashboardPage(c *fiber.Ctx) error {
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	d := views.DashboardView{Live: dashboardLive(s.stats()), BaseURL: c.BaseURL()}
	// The page counts from the database; the pushed updates from the gateway's key cache, which
	// every admin change reloads.
	d.Live.Clients, d.Live.ActiveClients = len(clients), 0
	for _, cl := range clients {
		if cl.Active {
			d.Live.ActiveClients++
		}
	}
	p := s.page(c, "Dashboard", "dashboard")
	return render(c, fiber.StatusOK, views.Dashboard(p, d), views.DashboardContent(p, d))
}

// stats is the gateway's live snapshot; without a gateway (some tests) there is no traffic.
func (s *server) stats() gateway.Snapshot {
	if s.Gateway == nil {
		return gateway.Snapshot{Time: s.now()}
	}
	return s.Gateway.Stats()
}

// renderLive renders the live fragments, each on its own, in views.DashboardLive's order.
func renderLive(ctx context.Context, l views.DashboardLive) ([][]byte, error) {
	comps := l.Fragments()
	out := make([][]byte, len(comps))
	for i, comp := range comps {
		var b bytes.Buffer
		if err := comp.Render(ctx, &b); err != nil {
			return nil, err
		}
		out[i] = b.Bytes()
	}
	return out, nil
}

// dashboardLive builds the screen's view of a snapshot.
func dashboardLive(snap gateway.Snapshot) views.DashboardLive {
	t := snap.Today
	errNote := "none"
	if t.Requests > 0 && t.Errors > 0 {
		errNote = fmt.Sprintf("%.1f%% of requests", float64(t.Errors)*100/float64(t.Requests))
	}
	l := views.DashboardLive{
		Stats: []views.Stat{
			{Key: "requests", Label: "Requests today", Value: views.Thousands(t.Requests)},
			{Key: "input-tokens", Label: "Tokens in", Value: views.Compact(t.InputTokens), Note: exact(t.InputTokens)},
			{Key: "output-tokens", Label: "Tokens out", Value: views.Compact(t.OutputTokens), Note: exact(t.OutputTokens)},
			cacheHitStat(t),
			{Key: "errors", Label: "Errors", Value: views.Thousands(t.Errors), Note: errNote, Alert: t.Errors > 0},
			{Key: "in-flight", Label: "In flight", Value: views.Thousands(snap.InFlight)},
			{Key: "rps", Label: "Requests / s", Value: fmt.Sprintf("%.1f", snap.RequestsPerSecond), Note: "last 10 s"},
			{Key: "spend-today", Label: "Spend today", Value: views.USD(micros(snap.SpendToday)), Note: "priced models, UTC"},
			{Key: "spend-month", Label: "Spend this month", Value: views.USD(micros(snap.SpendMonth)), Note: "month to date"},
		},
		TopModels:     topList("dash-top-models", "Top models today", "No requests today yet.", "models", snap.Models),
		TopClients:    topList("dash-top-clients", "Top clients today", "No requests today yet.", "clients", snap.Clients),
		Clients:       snap.ClientCount,
		ActiveClients: snap.ActiveClientCount,
	}
	l.Health = healthRows(snap.Targets)
	for _, in := range snap.Instances {
		l.Instances = append(l.Instances, views.InstanceRow{Name: in.Host, Started: in.Started.UTC().Format("2006-01-02 15:04:05"),
			InFlight: views.Thousands(in.InFlight), Rate: fmt.Sprintf("%.1f", in.RequestsPerSecond),
			Requests: views.Thousands(in.Today.Requests), Errors: views.Thousands(in.Today.Errors), Self: in.Self})
	}
	l.HourRequests, l.HourTokens = charts("hour", "last hour", snap.LastHour, 15, "15:04")
	l.DayRequests, l.DayTokens = charts("day", "last 24 hours", snap.LastDay, 36, "15:04")
	return l
}

// healthRows is the screen's view of the upstream targets' health.
func healthRows(hs []gateway.HealthStatus) []views.TargetHealthRow {
	const at = "2006-01-02 15:04:05"
	out := make([]views.TargetHealthRow, 0, len(hs))
	for _, h := range hs {
		r := views.TargetHealthRow{Target: h.Target, Breaker: h.Breaker, BenchError: h.BenchError}
		if !h.OpenUntil.IsZero() {
			r.OpenUntil = h.OpenUntil.UTC().Format(at)
		}
		if !h.BenchedAt.IsZero() {
			r.Benched = h.BenchedAt.UTC().Format(at)
		}
		if !h.RestUntil.IsZero() {
			r.RestUntil = h.RestUntil.UTC().Format(at)
		}
		out = append(out, r)
	}
	return out
}

// charts draws the requests and tokens charts of one period. Errors are stacked on the
// successful requests, so a bar's height is all requests.
func charts(key, period string, points []gateway.Point, labelEvery int, layout string) (req, tok views.BarChart) {
	rp := make([]views.ChartPoint, len(points))
	tp := make([]views.ChartPoint, len(points))
	var sum gateway.Totals
	for i, p := range points {
		label := p.Time.UTC().Format(layout)
		ok := max(p.Requests-p.Errors, 0)
		rp[i] = views.ChartPoint{Label: label, Values: []int64{ok, p.Errors}}
		tp[i] = views.ChartPoint{Label: label, Values: []int64{p.InputTokens, p.OutputTokens}}
		sum.Requests += p.Requests
		sum.Errors += p.Errors
		sum.InputTokens += p.InputTokens
		sum.OutputTokens += p.OutputTokens
	}
	req = views.NewBarChart("dash-chart-"+key+"-requests", "Requests, "+period,
		count(sum.Requests, "request", "requests")+", "+count(sum.Errors, "error", "errors"),
		[]views.ChartSeries{{Label: "requests", Class: "series-requests"}, {Label: "errors", Class: "series-errors"}},
		rp, labelEvery)
	tok = views.NewBarChart("dash-chart-"+key+"-tokens", "Tokens, "+period,
		fmt.Sprintf("%s in, %s out", views.Thousands(sum.InputTokens), views.Thousands(sum.OutputTokens)),
		[]views.ChartSeries{{Label: "input", Class: "series-input"}, {Label: "output", Class: "series-output"}},
		tp, labelEvery)
	return req, tok
}

// cacheHitStat is today's cache hit ratio: the input tokens read from a provider's prompt cache
// over all input tokens (which include them), and what the cache saved on priced models, net of
// the premium cache writes cost (gateway.Totals.CacheSavedMicros).
func cacheHitStat(t gateway.Totals) views.Stat {
	s := views.Stat{Key: "cache-hit", Label: "Cache hits", Value: "–", Note: "no input tokens yet",
		Help: "Saved is net, on priced models only: cache reads at (input − cache read price) less cache writes " +
			"at (cache write − input price). Unpriced models add nothing."}
	if t.InputTokens > 0 {
		s.Value = fmt.Sprintf("%.1f%%", float64(t.CachedTokens)*100/float64(t.InputTokens))
		s.Note = views.Compact(t.CachedTokens) + " of " + views.Compact(t.InputTokens) + " input tokens cached"
	}
	switch {
	case t.CacheSavedMicros > 0:
		s.Note += " · saved " + views.USD(t.CacheSavedMicros) + " today"
	case t.CacheSavedMicros < 0:
		s.Note += " · cache writes cost " + views.USD(-t.CacheSavedMicros) + " more than they saved today"
	}
	return s
}

// exact is the full number under a compact one, when the compact one rounded it.
func exact(n int64) string {
	if views.Compact(n) == views.Thousands(n) {
		return ""
	}
	return views.Thousands(n)
}

// count is "1 request", "1,204 requests".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return views.Thousands(n) + " " + many
}

// topList lists the first topRows entries and sums the rest in one "N more" row, so the
// table adds up to today's totals.
func topList(id, title, empty, what string, tops []gateway.Top) views.TopList {
	l := views.TopList{ID: id, Title: title, Empty: empty}
	for _, t := range tops {
		if t.Name == "other" && what == "models" {
			l.Note = `"other" is every model outside its client's whitelist, fetched model list and default model ` +
				`(such as a refused or mistyped one): they share one line, so callers cannot add names without end.`
		}
	}
	if len(tops) > topRows {
		rest := views.TopRow{Name: fmt.Sprintf("%d more %s", len(tops)-topRows, what), Rest: true}
		for _, t := range tops[topRows:] {
			rest.Requests += t.Requests
			rest.Errors += t.Errors
			rest.InputTokens += t.InputTokens
			rest.OutputTokens += t.OutputTokens
		}
		l.More = &rest
		tops = tops[:topRows]
	}
	var most int64
	for _, t := range tops {
		most = max(most, t.Requests)
	}
	for _, t := range tops {
		share := 0
		if most > 0 {
			share = int(t.Requests * 100 / most)
		}
		l.Rows = append(l.Rows, views.TopRow{Name: t.Name, Requests: t.Requests, Errors: t.Errors,
			InputTokens: t.InputTokens, OutputTokens: t.OutputTokens, Share: share})
	}
	return l
}
