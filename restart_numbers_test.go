package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// dayNumbers is every place the admin UI and the client API count today's traffic.
type dayNumbers struct {
	Requests, Errors       int64 // dashboard cards
	ClientsTop, ModelsTop  int64 // sum of the top clients / models tables
	ChartRequests          int64 // sum of the last hour's chart
	ChartErrors            int64
	UsageRequests, Refused int64 // GET /v1/usage
	LeftToday              int64 // GET /v1/usage remaining.requests_this_day
}

func readDayNumbers(t *testing.T, g *relGateway, key string) dayNumbers {
	t.Helper()
	status, body := g.admin(http.MethodGet, "/admin/api/v1/stats", nil)
	if status != http.StatusOK {
		t.Fatalf("stats: %d %s", status, body)
	}
	type totals struct{ Requests, Errors int64 }
	var snap struct {
		Today    totals
		LastHour []totals `json:"last_hour"`
		Clients  []totals
		Models   []totals
	}
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatal(err)
	}
	n := dayNumbers{Requests: snap.Today.Requests, Errors: snap.Today.Errors}
	for _, c := range snap.Clients {
		n.ClientsTop += c.Requests
	}
	for _, m := range snap.Models {
		n.ModelsTop += m.Requests
	}
	for _, p := range snap.LastHour {
		n.ChartRequests += p.Requests
		n.ChartErrors += p.Errors
	}
	req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/usage", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct {
		Usage     struct{ Requests, Refused int64 }
		Remaining struct {
			Day *int64 `json:"requests_this_day"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("usage: %d %v", resp.StatusCode, err)
	}
	n.UsageRequests, n.Refused = u.Usage.Requests, u.Usage.Refused
	if u.Remaining.Day != nil {
		n.LeftToday = *u.Remaining.Day
	}
	return n
}

// TestRestartKeepsTodaysNumbers: answered, failed and refused (403, 429) requests are counted
// alike by the dashboard's cards, charts and top tables and by /v1/usage, and a restart gives
// back the very same numbers (and the same rate-limit window).
func TestRestartKeepsTodaysNumbers(t *testing.T) {
	upstream := newRelMock(t, (&mockOpenAI{}).ServeHTTP)
	t.Cleanup(upstream.Close)
	g := startRelGateway(t, nil, "")
	g.createClient(beOpenAI, upstream.URL, map[string]any{
		"model_whitelist": []string{"gpt-4o-mini", "broken-model"}, "default_model": "gpt-4o-mini",
		"rate_limit": map[string]int{"requests_per_minute": 0, "requests_per_hour": 0, "requests_per_day": 12},
	})
	key := g.keys[beOpenAI]
	want := map[int]int{}
	send := func(model string, n int) {
		for range n {
			want[chat(t, g.url, key, model)]++
		}
	}
	send("gpt-4o-mini", 9)
	send("gpt-4o", 3)       // 403: not in the whitelist, before the rate limit
	send("broken-model", 1) // 500 from the upstream
	send("gpt-4o-mini", 4)  // 2 admitted, then 429 from the daily window of 12
	if want[200] != 11 || want[403] != 3 || want[500] != 1 || want[429] != 2 {
		t.Fatalf("statuses %v, want 11×200, 3×403, 1×500, 2×429", want)
	}

	expect := dayNumbers{Requests: 17, Errors: 6, ClientsTop: 17, ModelsTop: 17, ChartRequests: 17, ChartErrors: 6,
		UsageRequests: 17, Refused: 5, LeftToday: 0}
	if got := readDayNumbers(t, g, key); got != expect {
		t.Fatalf("before the restart:\n got %+v\nwant %+v", got, expect)
	}
	g.restart()
	// The charts' history is read back in the background: wait for it, then compare everything.
	deadline := time.Now().Add(10 * time.Second)
	got := readDayNumbers(t, g, key)
	for got.ChartRequests != expect.ChartRequests && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		got = readDayNumbers(t, g, key)
	}
	if got != expect {
		t.Fatalf("after the restart:\n got %+v\nwant %+v", got, expect)
	}
	if st := chat(t, g.url, key, "gpt-4o-mini"); st != http.StatusTooManyRequests {
		t.Fatalf("after the restart the 13th request of the day got %d, want 429", st)
	}
}
