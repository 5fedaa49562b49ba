package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/pricing"
	"github.com/aigateway/ai-gateway/providers"
)

// What the prompt cache saved today (#24) is priced at settlement, net of cache writes: on an
// Anthropic model at $3 input, $0.30 cache read and $3.75 cache write per million tokens, a
// request writing 8,000 tokens to the cache costs 8,000 × $0.75/M more, the next one reading
// them saves 8,000 × $2.70/M. An unpriced model's cache reads add nothing. The figure is in
// the live stats (and so /admin/api/v1/stats), in usage_daily, and survives a restart.
func TestCacheSavedNetOfWrites(t *testing.T) {
	withAnthropic := func(o *Options) { o.Providers["anthropic"] = o.Providers["openai"] }
	a := clientRow(1, "a")
	a.Backend, a.DefaultModel = "anthropic", "claude-sonnet-4-5"
	e := newEnv(t, []db.Client{a, clientRow(2, "b")}, withAnthropic)
	e.setPrice(t, "claude-sonnet-4-5", pricing.Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75})
	end := func(client, model string, u providers.Usage) {
		t.Helper()
		call, err := e.gw.Begin(e.auth(client), Admission{Model: model})
		if err != nil {
			t.Fatal(err)
		}
		call.End(Outcome{Status: 200, Usage: u})
	}
	end("a", "claude-sonnet-4-5", providers.Usage{InputTokens: 10_000, CacheCreationTokens: 8000, OutputTokens: 100})
	end("a", "claude-sonnet-4-5", providers.Usage{InputTokens: 10_000, CachedTokens: 8000, OutputTokens: 100})
	end("b", "no-such-model-anywhere", providers.Usage{InputTokens: 1000, CachedTokens: 500, OutputTokens: 10})
	const want = 8000*(3-0.3) - 8000*(3.75-3) // 21,600 − 6,000 µ$

	check := func(when string) {
		t.Helper()
		s := e.gw.Stats()
		if s.Today.CacheSavedMicros != want {
			t.Errorf("%s: saved today = %d µ$, want %d", when, s.Today.CacheSavedMicros, int64(want))
		}
		for _, c := range s.Clients {
			if w := map[string]int64{"a": want, "b": 0}[c.Name]; c.CacheSavedMicros != w {
				t.Errorf("%s: client %s saved %d µ$, want %d", when, c.Name, c.CacheSavedMicros, w)
			}
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"today":{"requests":3,`) || !strings.Contains(string(b), `"cache_saved_micros":15600}`) {
			t.Errorf("%s: stats JSON without today's saving: %.300s", when, b)
		}
	}
	check("live")
	e.flush()
	var stored int64
	for _, u := range e.usageRows() {
		stored += u.SavedMicros
	}
	if stored != want {
		t.Errorf("usage_daily saved_micros = %d, want %d", stored, int64(want))
	}
	e.start(func(o *Options) { withAnthropic(o); o.Prices = db.NewModelPrices(e.db) })
	check("after a restart")
}
