package gateway

import (
	"slices"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/pricing"
)

// A fallback answers at its own price. Admission reserves the dearest target's worst case, so an
// uncapped request's output cap is what the budget leaves at the fallback's output price (the
// own backend's cheaper price would let the fallback's answer pass the budget), and the answer
// is priced once, at the target that answered.
func TestBudgetHoldsTheDearestTarget(t *testing.T) {
	row := clientRow(1, "app")
	row.BudgetDayMicros = 1000
	row.Fallbacks = db.Targets{{Backend: "mistral", Model: "dear-model",
		Keys: []db.SealedKey{{Ciphertext: []byte("enc:mistral-key-0000"), Hint: "0000"}}}}
	e, ups := routeEnv(t, row, Routing{Retries: 0})
	e.setPrice(t, "gpt-4o-mini", pricing.Price{Input: 1, Output: 10})  // 1 µ$ in, 10 µ$ out a token
	e.setPrice(t, "dear-model", pricing.Price{Input: 10, Output: 100}) // 10 µ$ in, 100 µ$ out a token
	ups["openai"].script = []error{unavailable503()}
	a, err := e.chat("app")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.Body), "hi from mistral") {
		t.Fatalf("answer %s: want the fallback's", a.Body)
	}
	// The body's few input tokens are estimated: the cap is below 1000/100 = 10 either way, and
	// far below the 100 tokens the own backend's price would allow.
	caps := append(slices.Clone(ups["openai"].caps), ups["mistral"].caps...)
	for i, c := range caps {
		if c <= 0 || c > 10 {
			t.Errorf("attempt %d asked for up to %d output tokens; the fallback's price allows at most 10", i, c)
		}
	}
	e.flush()
	rows := e.logRows()
	const cost = 5*10 + 2*100 // the scripted answer's 5 input and 2 output tokens at dear-model's price
	if len(rows) != 1 || rows[0].Provider != "mistral" || rows[0].CostMicros == nil || *rows[0].CostMicros != cost {
		t.Fatalf("log rows %+v: want one row, served by mistral, costing %d µ$", rows, cost)
	}
	if s := e.gw.Spend(e.auth("app")); s.DayMicros != cost || s.Reserved != 0 {
		t.Errorf("spend %+v: want %d µ$ settled once, nothing still reserved", s, cost)
	}
	var rolled int64
	for _, u := range e.usageRows() {
		rolled += u.CostMicros
	}
	if rolled != cost {
		t.Errorf("rollup cost %d, want %d", rolled, cost)
	}
}
