package routes

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The Prices page sets and removes an override, which the gateway applies at once; a bad price
// is shown back with its error; an unknown model looks up as unpriced.
func TestPricesPageOverrides(t *testing.T) {
	e := newEdge(t, withGateway(t))
	s := e.login()
	_, doc, _ := e.page(s, "/admin/prices?model=my-local-model&backend=openai-compatible")
	if got := doc.Find(testid("lookup-result")).Text(); !strings.Contains(got, "unpriced") {
		t.Errorf("lookup of an unknown model: %q", got)
	}
	form := url.Values{"model": {"my-local-model"}, "input_usd_per_mtok": {"0.5"}, "output_usd_per_mtok": {"1.5"}}
	resp, _, body := e.post(s, "/admin/prices", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	if p := e.deps.Gateway.PriceOf("openai-compatible", "my-local-model"); !p.OK || p.Source != "override" || p.Rates.Base().Output != 1.5 {
		t.Errorf("gateway price after save: %+v", p)
	}
	_, doc, _ = e.page(s, "/admin/prices?model=my-local-model&backend=openai-compatible")
	if n := doc.Find(testid("price-row")).Length(); n != 1 {
		t.Errorf("%d override rows, want 1", n)
	}
	if got := doc.Find(testid("lookup-result")).Text(); !strings.Contains(got, "override") || !strings.Contains(got, "$1.5") {
		t.Errorf("lookup after save: %q", got)
	}
	resp, doc, _ = e.post(s, "/admin/prices", url.Values{"model": {"x"}, "input_usd_per_mtok": {"-1"}, "output_usd_per_mtok": {"abc"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(testid("error-input_usd_per_mtok")).Length() == 0 ||
		doc.Find(testid("error-output_usd_per_mtok")).Length() == 0 {
		t.Errorf("bad prices: %d", resp.StatusCode)
	}
	resp, _, _ = e.post(s, "/admin/prices/delete", url.Values{"model": {"my-local-model"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if p := e.deps.Gateway.PriceOf("openai-compatible", "my-local-model"); p.OK {
		t.Errorf("still priced after the override was removed: %+v", p)
	}
}
