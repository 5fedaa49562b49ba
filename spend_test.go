package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// The usage every backend reports in the spend tests: 1000 prompt tokens of which 400 were read
// from the cache (and, for Anthropic, 100 written to it), 300 output tokens of which 100 were
// reasoning (Anthropic reports no reasoning count).
const (
	spendIn, spendCacheRead, spendCacheWrite, spendOut, spendReasoning = 1000, 400, 100, 300, 100
)

// spendUpstream answers every protocol, whole or streamed, with the usage above in that
// protocol's own fields.
func spendUpstream(t *testing.T) *upstreamtest.Server {
	return newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if u.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			switch u.Proto {
			case beOpenAI:
				upstreamtest.WriteEvent(w, u.Proto, "", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}`)
				upstreamtest.WriteEvent(w, u.Proto, "", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)
				upstreamtest.WriteEvent(w, u.Proto, "", fmt.Sprintf(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d},"completion_tokens_details":{"reasoning_tokens":%d}}}`,
					spendIn, spendOut, spendIn+spendOut, spendCacheRead, spendReasoning))
				upstreamtest.WriteEvent(w, u.Proto, "", "[DONE]")
			case beAnthropic:
				upstreamtest.WriteEvent(w, u.Proto, "message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":1}}}`,
					spendIn-spendCacheRead-spendCacheWrite, spendCacheWrite, spendCacheRead))
				upstreamtest.WriteEvent(w, u.Proto, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
				upstreamtest.WriteEvent(w, u.Proto, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`)
				upstreamtest.WriteEvent(w, u.Proto, "content_block_stop", `{"type":"content_block_stop","index":0}`)
				upstreamtest.WriteEvent(w, u.Proto, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, spendOut))
				upstreamtest.WriteEvent(w, u.Proto, "message_stop", `{"type":"message_stop"}`)
			default:
				upstreamtest.WriteEvent(w, u.Proto, "", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"cachedContentTokenCount":%d,"candidatesTokenCount":%d,"thoughtsTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
					spendIn, spendCacheRead, spendOut-spendReasoning, spendReasoning, spendIn+spendOut))
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch u.Proto {
		case beOpenAI:
			fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d},"completion_tokens_details":{"reasoning_tokens":%d}}}`,
				spendIn, spendOut, spendIn+spendOut, spendCacheRead, spendReasoning)
		case beAnthropic:
			fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}}`,
				spendIn-spendCacheRead-spendCacheWrite, spendCacheWrite, spendCacheRead, spendOut)
		default:
			fmt.Fprintf(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"cachedContentTokenCount":%d,"candidatesTokenCount":%d,"thoughtsTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
				spendIn, spendCacheRead, spendOut-spendReasoning, spendReasoning, spendIn+spendOut)
		}
	})
}

// The price of "m" in these tests, US dollars per million tokens = micro-dollars per token.
var spendPrice = map[string]any{"model": "m", "input_usd_per_mtok": 2, "output_usd_per_mtok": 10,
	"cache_read_usd_per_mtok": 0.5, "cache_write_usd_per_mtok": 4}

// wantSpend is what one request to backend costs at spendPrice, and the tokens it records.
func wantSpend(backend string) (cost, cached, cacheWrite, reasoning int64) {
	switch backend {
	case beAnthropic: // 500 plain × 2 + 400 read × 0.5 + 100 written × 4 + 300 out × 10
		return 500*2 + 400/2 + 100*4 + 300*10, spendCacheRead, spendCacheWrite, 0
	}
	// 600 plain × 2 + 400 read × 0.5 + 300 out (reasoning included) × 10
	return 600*2 + 400/2 + 300*10, spendCacheRead, 0, spendReasoning
}

// wantSaved is what the cache saved on one request to backend at spendPrice, net of writes:
// 400 reads × (2 − 0.5), less, on Anthropic, 100 writes × (4 − 2).
func wantSaved(backend string) int64 {
	if backend == beAnthropic {
		return 400*3/2 - 100*2
	}
	return 400 * 3 / 2
}

// statsSaved is today's cache saving in /admin/api/v1/stats, in micro-dollars.
func statsSaved(t *testing.T, g *relGateway) int64 {
	t.Helper()
	status, body := g.admin(http.MethodGet, "/admin/api/v1/stats", nil)
	var snap struct {
		Today struct {
			Saved *int64 `json:"cache_saved_micros"`
		} `json:"today"`
	}
	if err := json.Unmarshal([]byte(body), &snap); status != http.StatusOK || err != nil || snap.Today.Saved == nil {
		t.Fatalf("stats: %d %v %s", status, err, body)
	}
	return *snap.Today.Saved
}

// doorUsageFields are the usage fields a front door's caller must see for the spend mock's usage.
func doorUsageFields(door string, reasoning int64) []string {
	switch door {
	case "openai":
		f := []string{`"cached_tokens":400`}
		if reasoning > 0 {
			f = append(f, `"reasoning_tokens":100`)
		}
		return f
	case "anthropic":
		return []string{`"cache_read_input_tokens":400`}
	}
	f := []string{`"cachedContentTokenCount":400`}
	if reasoning > 0 {
		f = append(f, `"thoughtsTokenCount":100`)
	}
	return f
}

// Every front door × backend pair, whole and streamed, records the cache reads, cache writes
// and reasoning tokens the backend reported and the exact cost at the model's price; the
// rollups sum it; an override changes the next request's cost; the CSV export matches.
func TestSpendCostExactForEveryDoorAndBackend(t *testing.T) {
	mock := spendUpstream(t)
	g := startRelGateway(t, nil, mock.URL)
	if status, body := g.admin(http.MethodPut, "/admin/api/v1/prices", spendPrice); status != http.StatusOK {
		t.Fatalf("set price: %d %s", status, body)
	}
	type pair struct {
		door    relDoor
		backend string
		stream  bool
	}
	var pairs []pair
	for _, d := range relDoors {
		for _, b := range relBackends {
			for _, stream := range []bool{false, true} {
				pairs = append(pairs, pair{d, b, stream})
				req := ""
				if d.name == "openai" && stream { // an OpenAI stream carries usage only when asked
					req = `{"model":"m","messages":[{"role":"user","content":"hello there"}],"stream":true,"stream_options":{"include_usage":true}}`
				}
				resp, body := g.call(d, b, stream, req)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s → %s stream=%v: %d %s", d.name, b, stream, resp.StatusCode, body)
				}
				// The caller sees the cache reads (and reasoning, where its protocol has a
				// field and the backend reported it) in its own protocol's usage fields.
				_, _, _, reasoning := wantSpend(b)
				for _, want := range doorUsageFields(d.name, reasoning) {
					if !strings.Contains(body, want) {
						t.Errorf("%s → %s stream=%v: the answer lacks %s: %s", d.name, b, stream, want, body)
					}
				}
			}
		}
	}
	h := g.openDB()
	var rows = h.requestLogs()
	relWaitFor(t, "the request log", 10*time.Second, func() bool { rows = h.requestLogs(); return len(rows) == len(pairs) })
	var total, saved int64
	for i, p := range pairs {
		r := rows[i]
		cost, cached, cw, reasoning := wantSpend(p.backend)
		name := fmt.Sprintf("%s → %s stream=%v", p.door.name, p.backend, p.stream)
		if r.CostMicros == nil || *r.CostMicros != cost {
			t.Errorf("%s: cost %v µ$, want %d", name, r.CostMicros, cost)
		}
		if r.InputTokens != spendIn || r.OutputTokens != spendOut || r.CachedTokens != cached || r.CacheWriteTokens != cw || r.ReasoningTokens != reasoning {
			t.Errorf("%s: tokens in %d out %d cached %d cache-write %d reasoning %d, want %d %d %d %d %d", name,
				r.InputTokens, r.OutputTokens, r.CachedTokens, r.CacheWriteTokens, r.ReasoningTokens, spendIn, spendOut, cached, cw, reasoning)
		}
		total += cost
		saved += wantSaved(p.backend)
	}
	// The dashboard's numbers say what the cache saved, net of the writes.
	if got := statsSaved(t, g); got != saved {
		t.Errorf("cache saved today = %d µ$, want %d", got, saved)
	}

	// An override changes the very next request's cost.
	cheaper := map[string]any{"model": "m", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}
	if status, body := g.admin(http.MethodPut, "/admin/api/v1/prices", cheaper); status != http.StatusOK {
		t.Fatalf("set price: %d %s", status, body)
	}
	if resp, body := g.call(relOpenAI, beOpenAI, false, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the override: %d %s", resp.StatusCode, body)
	}
	relWaitFor(t, "the request log", 10*time.Second, func() bool { rows = h.requestLogs(); return len(rows) == len(pairs)+1 })
	if c := rows[len(pairs)].CostMicros; c == nil || *c != 1000+300 { // cache reads at the input price
		t.Errorf("cost after the override = %v, want 1300", c)
	}
	total += 1300
	if status, body := g.admin(http.MethodGet, "/admin/api/v1/requests?limit=1", nil); status != http.StatusOK ||
		!strings.Contains(body, `"cost_usd":0.0013`) {
		t.Errorf("the request history API lacks the cost: %d %s", status, body)
	}

	// The CSV export's cost column sums to the same total.
	csvTotal := spendCSVTotal(t, g, "day,client,model")
	if csvTotal != total {
		t.Errorf("CSV total %d µ$, want %d", csvTotal, total)
	}
	// Cache reads priced as input save nothing; a restart keeps today's saving.
	g.restart()
	if got := statsSaved(t, g); got != saved {
		t.Errorf("after a restart cache saved today = %d µ$, want %d", got, saved)
	}
}

// spendCSVTotal reads the usage CSV export and sums its cost_usd column, in micro-dollars.
func spendCSVTotal(t *testing.T, g *relGateway, groupBy string) int64 {
	t.Helper()
	today := time.Now().UTC().Format("2006-01-02")
	var recs [][]string
	relWaitFor(t, "the usage rollup", 10*time.Second, func() bool {
		status, body := g.admin(http.MethodGet, "/admin/api/v1/usage?from="+today+"&to="+today+"&group_by="+groupBy+"&format=csv", nil)
		if status != http.StatusOK {
			t.Fatalf("usage csv: %d %s", status, body)
		}
		var err error
		recs, err = csv.NewReader(strings.NewReader(body)).ReadAll()
		return err == nil && len(recs) > 1
	})
	col := -1
	for i, h := range recs[0] {
		if h == "cost_usd" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no cost_usd column in %v", recs[0])
	}
	var sum int64
	for _, r := range recs[1:] {
		f, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("cost %q: %v", r[col], err)
		}
		sum += int64(f*1e6 + 0.5)
	}
	return sum
}

// A client's dollar budget refuses, in each front door's own error shape, the request that would
// pass it: 429, code budget_exceeded, Retry-After to midnight UTC. The spend survives a restart,
// and /v1/usage reports it with what is left.
func TestSpendBudgetRefusesInEachDoorsShape(t *testing.T) {
	mock := spendUpstream(t)
	g := startRelGateway(t, nil, mock.URL)
	if status, body := g.admin(http.MethodPut, "/admin/api/v1/prices", spendPrice); status != http.StatusOK {
		t.Fatalf("set price: %d %s", status, body)
	}
	// $0.01 a day; a request reserves its input estimate plus 256 output tokens × $10/M ≈ 2,600 µ$
	// and spends 4,400 µ$.
	budget := map[string]any{"budget": map[string]float64{"usd_per_day": 0.01}}
	for _, b := range relBackends {
		status, body := g.admin(http.MethodPatch, fmt.Sprintf("/admin/api/v1/clients/%d", g.ids[b]), budget)
		if status != http.StatusOK || !strings.Contains(body, `"usd_per_day":0.01`) {
			t.Fatalf("set budget: %d %s", status, body)
		}
	}
	// Spend the OpenAI-compatible client's day through the OpenAI door (2 × 4,400 µ$), then ask
	// through every door with the same key: 1,200 µ$ left, less than a request's worst case.
	reqs := map[string]string{
		"openai":    `{"model":"m","max_tokens":256,"messages":[{"role":"user","content":"hi"}]}`,
		"anthropic": `{"model":"m","max_tokens":256,"messages":[{"role":"user","content":"hi"}]}`,
		"gemini":    `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":256}}`,
	}
	for i := range 2 {
		if resp, got := g.call(relOpenAI, beOpenAI, false, reqs["openai"]); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, got)
		}
	}
	for _, d := range relDoors {
		resp, got := g.call(d, beOpenAI, false, reqs[d.name])
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: %d %s, want 429", d.name, resp.StatusCode, got)
		}
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		now := time.Now().UTC()
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		if err != nil || ra < 1 || ra > int(midnight.Sub(now).Seconds())+2 {
			t.Errorf("%s: Retry-After %q, want the seconds to midnight UTC", d.name, resp.Header.Get("Retry-After"))
		}
		var shape map[string]any
		if err := json.Unmarshal([]byte(got), &shape); err != nil {
			t.Fatalf("%s: %v: %s", d.name, err, got)
		}
		switch d.name {
		case "openai":
			if e, _ := shape["error"].(map[string]any); e == nil || e["code"] != "budget_exceeded" {
				t.Errorf("openai shape: %s", got)
			}
		case "anthropic":
			if e, _ := shape["error"].(map[string]any); shape["type"] != "error" || e == nil || e["type"] != "rate_limit_error" || !strings.Contains(fmt.Sprint(e["message"]), "budget exceeded") {
				t.Errorf("anthropic shape: %s", got)
			}
		case "gemini":
			if e, _ := shape["error"].(map[string]any); e == nil || e["status"] != "RESOURCE_EXHAUSTED" || !strings.Contains(fmt.Sprint(e["message"]), "budget exceeded") {
				t.Errorf("gemini shape: %s", got)
			}
		}
	}

	checkUsage := func(when string) {
		req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/usage", nil)
		req.Header.Set("Authorization", "Bearer "+g.keys[beOpenAI])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var u struct {
			Spend struct {
				TodayUSD float64 `json:"today_usd"`
			} `json:"spend"`
			Budget struct {
				USDPerDay float64 `json:"usd_per_day"`
			} `json:"budget"`
			Remaining struct {
				USDToday *float64 `json:"usd_today"`
				USDMonth *float64 `json:"usd_month"`
			} `json:"remaining"`
		}
		json.Unmarshal(b, &u)
		if u.Spend.TodayUSD != 0.0088 || u.Budget.USDPerDay != 0.01 || u.Remaining.USDToday == nil || *u.Remaining.USDToday != 0.0012 || u.Remaining.USDMonth != nil {
			t.Errorf("%s: /v1/usage = %s", when, b)
		}
	}
	checkUsage("before the restart")
	g.restart()
	checkUsage("after the restart")
	if resp, got := g.call(relOpenAI, beOpenAI, false, reqs["openai"]); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after the restart the spent budget admits: %d %s", resp.StatusCode, got)
	}
}
