package pricing

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func snapshotTable(t *testing.T) *Table {
	t.Helper()
	tb, err := Parse(Snapshot(), time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// The documented order: exact id, provider-qualified id, the list's own rules, dates normalised;
// an id nothing claims is unpriced.
func TestLookupMatchesTheDocumentedWay(t *testing.T) {
	tb := snapshotTable(t)
	tests := []struct {
		backend, model, entry string
	}{
		{"openai", "gpt-4o", "openai/gpt-4o"},
		{"openai", "GPT-4o", "openai/gpt-4o"},
		{"openai-compatible", "gpt-4o-mini", "openai/gpt-4o-mini"},
		{"openai-compatible", "anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5"},
		{"anthropic", "claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5"},
		{"gemini", "gemini-2.5-flash", "google/gemini-2.5-flash"},
		{"openai", "gpt-4o-2024-08-06", "openai/gpt-4o"},
	}
	for _, tt := range tests {
		m := tb.Lookup(tt.backend, tt.model)
		if !m.OK || m.Entry != tt.entry {
			t.Errorf("Lookup(%s, %s) = %q ok=%v, want %q", tt.backend, tt.model, m.Entry, m.OK, tt.entry)
		}
	}
	for _, model := range []string{"my-local-llama", "m", ""} {
		if m := tb.Lookup("openai-compatible", model); m.OK {
			t.Errorf("Lookup(%q) = %q, want unpriced", model, m.Entry)
		}
	}
}

func TestNormalisations(t *testing.T) {
	got := normalisations("claude-3-5-sonnet-20241022")
	want := []string{"claude-3-5-sonnet-2024-10-22", "claude-3-5-sonnet"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("normalisations = %q, want %q", got, want)
	}
	if got := normalisations("gpt-4o-2024-08-06"); len(got) != 1 || got[0] != "gpt-4o" {
		t.Errorf("normalisations(dashed) = %q", got)
	}
	if got := normalisations("gpt-4o"); len(got) != 0 {
		t.Errorf("normalisations(undated) = %q", got)
	}
}

// A dollar per million tokens is a micro-dollar per token; cache reads and writes are priced on
// their own and taken out of the plain input; reasoning is inside output.
func TestCost(t *testing.T) {
	r := Flat(Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75})
	got := Cost(r, Tokens{Input: 1000, CacheRead: 400, CacheWrite: 100, Output: 200})
	// 500×3 + 400×0.3 + 100×3.75 + 200×15 = 1500 + 120 + 375 + 3000
	if got != 4995 {
		t.Errorf("Cost = %d µ$, want 4995", got)
	}
	if got := Cost(Flat(Price{Input: 2, Output: 8}), Tokens{Input: 10, CacheRead: 4, Output: 1}); got != 2*6+2*4+8 {
		t.Errorf("cache reads without their own price cost input: %d", got)
	}
}

// The cache's saving is the cost of the same tokens billed as plain input less the real cost: net
// of the write premium, negative when writes outweigh reads, nothing without cache prices.
func TestCacheSaved(t *testing.T) {
	r := Flat(Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75})
	tok := Tokens{Input: 1000, CacheRead: 400, CacheWrite: 100, Output: 200}
	// 400×(3−0.3) − 100×(3.75−3) = 1080 − 75
	if got := CacheSaved(r, tok); got != 1005 {
		t.Errorf("CacheSaved = %d µ$, want 1005", got)
	}
	plain := Cost(r, Tokens{Input: tok.Input, Output: tok.Output})
	if got := CacheSaved(r, tok); got != plain-Cost(r, tok) {
		t.Errorf("CacheSaved = %d µ$, want the uncached cost less the cost, %d", got, plain-Cost(r, tok))
	}
	if got := CacheSaved(r, Tokens{Input: 1000, CacheWrite: 1000}); got != -750 {
		t.Errorf("writes only: CacheSaved = %d µ$, want -750", got)
	}
	if got := CacheSaved(Flat(Price{Input: 2, Output: 8}), Tokens{Input: 10, CacheRead: 4, CacheWrite: 3}); got != 0 {
		t.Errorf("without cache prices nothing is saved: %d", got)
	}
}

func TestTiersRepriceTheWholeRequest(t *testing.T) {
	r, err := parsePrices([]byte(`{"input_mtok":{"base":1.25,"tiers":[{"start":200000,"price":2.5}]},"output_mtok":{"base":10,"tiers":[{"start":200000,"price":15}]}}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := Cost(r, Tokens{Input: 200000, Output: 1}); got != 250000+10 {
		t.Errorf("at the threshold: %d", got)
	}
	if got := Cost(r, Tokens{Input: 200001, Output: 1}); got != 500018 /* 200001×2.5 + 15, rounded */ {
		t.Errorf("past the threshold: %d", got)
	}
}

func TestConditionalPricesPickTheOneInForce(t *testing.T) {
	raw := []byte(`[{"prices":{"input_mtok":1,"output_mtok":2}},{"constraint":{"type":"start_date","start_date":"2026-06-01"},"prices":{"input_mtok":3,"output_mtok":4}}]`)
	before, _ := parsePrices(raw, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	after, _ := parsePrices(raw, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	if before.Base().Input != 1 || after.Base().Input != 3 {
		t.Errorf("before %+v after %+v", before.Base(), after.Base())
	}
}

func TestParseAcceptsTheBareProviderList(t *testing.T) {
	tb, err := Parse([]byte(`[{"id":"acme","models":[{"id":"rocket","match":{"equals":"rocket"},"prices":{"input_mtok":1,"output_mtok":2}}]}]`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if m := tb.Lookup("openai-compatible", "rocket"); !m.OK || m.Rates.Base().Output != 2 {
		t.Errorf("lookup = %+v", m)
	}
	if _, err := Parse([]byte(`{}`), time.Now()); err == nil {
		t.Error("empty data parsed")
	}
}

func TestLoadFallsBackToTheSnapshot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/good.json" {
			io.WriteString(w, `[{"id":"acme","models":[{"id":"rocket","match":{"equals":"rocket"},"prices":{"input_mtok":1,"output_mtok":2}}]}]`)
			return
		}
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer srv.Close()
	tb, err := Load(t.Context(), srv.Client(), srv.URL+"/good.json", time.Now())
	if err != nil || !tb.Lookup("openai-compatible", "rocket").OK || tb.Source() != srv.URL+"/good.json" {
		t.Fatalf("good url: %v, source %q", err, tb.Source())
	}
	tb, err = Load(t.Context(), srv.Client(), srv.URL+"/missing.json", time.Now())
	if err == nil || tb == nil || !tb.Lookup("openai", "gpt-4o").OK {
		t.Fatalf("bad url: err %v, table %v", err, tb)
	}
}

// Made-up model ids cannot grow the lookup cache without bound.
func TestLookupCacheIsBounded(t *testing.T) {
	tb := snapshotTable(t)
	for i := range cacheLimit + 100 {
		tb.Lookup("openai-compatible", "made-up-"+strconv.Itoa(i))
	}
	n := 0
	tb.cache.Range(func(any, any) bool { n++; return true })
	if n > cacheLimit {
		t.Errorf("%d cached lookups, limit %d", n, cacheLimit)
	}
	if !tb.Lookup("openai", "gpt-4o").OK {
		t.Error("lookups past the cache limit still work")
	}
}

func BenchmarkLookupUnknownModel(b *testing.B) {
	tb, err := Parse(Snapshot(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		tb.lookup("openai-compatible", "made-up-"+strconv.Itoa(i))
	}
}
