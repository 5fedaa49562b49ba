package gateway

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

func TestUsageReportJSON(t *testing.T) {
	row := clientRow(1, "app")
	row.RequestsPerMinute = 10
	row.RequestsPerDay = 100
	row.MaxRequestsPerDay = 50
	row.MaxInputTokensPerDay = 1000
	row.MaxOutputTokens = 256
	e := newEnv(t, []db.Client{row}, nil)
	c := e.auth("app")
	runCalls(t, e, "app", 3, ok200(100, 40))
	inFlight, err := e.gw.Begin(c, Admission{InputTokens: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.End(ok200(0, 0))
	e.clock.Add(90 * time.Second) // the minute window has moved on; the day has not

	b, err := json.Marshal(e.gw.Usage(c))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"client":"app","day":"2026-03-14","resets_at":"2026-03-15T00:00:00Z",` +
		`"rate_limit":{"requests_per_minute":10,"requests_per_hour":0,"requests_per_day":100},` +
		`"quota":{"max_input_tokens_per_day":1000,"max_output_tokens_per_day":0,"max_requests_per_day":50,"max_input_tokens":0,"max_output_tokens":256},` +
		`"usage":{"requests":4,"refused":0,"input_tokens":300,"output_tokens":120,"cached_tokens":0,"reasoning_tokens":0,"in_flight":1},` +
		// gpt-4o-mini at the snapshot's $0.15 / $0.60 per million: 300 × 0.15 + 120 × 0.6 µ$
		`"spend":{"today_usd":0.000117,"month_usd":0.000117},"budget":{"usd_per_day":0,"usd_per_month":0},` +
		`"remaining":{"requests":46,"input_tokens":650,"output_tokens":null,` +
		`"requests_this_minute":10,"requests_this_hour":null,"requests_this_day":96,"usd_today":null,"usd_month":null}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
