package gateway

import (
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
)

// Front doors hand the gateway strings that point into fasthttp's request buffers (path
// parameters, zero-copy JSON fields), which the server reuses for the next request while the
// call is still being accounted. The gateway keeps its own copies: found by the soak as
// metrics that failed to gather ("collected before with the same name and label values") and
// log rows whose model had changed under them.
func TestCallKeepsItsOwnCopiesOfTheRequestStrings(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	buf := []byte("gpt-4o-mini|req-123|10.0.0.1")
	alias := func(from, to int) string { return unsafe.String(&buf[from], to-from) }
	call, err := e.gw.Begin(e.auth("app"), Admission{Endpoint: "/v1/chat/completions",
		Model: alias(0, 11), RequestID: alias(12, 19), ClientIP: alias(20, 28)})
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXXXXXXXXXXXXXXXXXXXX") // the server reuses its buffer
	out := ok200(3, 2)
	used := []byte("gpt-4o-mini-2024")
	out.ModelUsed, out.FinishReason = unsafe.String(&used[0], len(used)), unsafe.String(&used[0], 4)
	call.End(out)
	copy(used, "YYYYYYYYYYYYYYYY")
	e.flush()

	rows := e.logRows()
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.ModelRequested != "gpt-4o-mini" || r.RequestID != "req-123" || r.ClientIP != "10.0.0.1" ||
		r.ModelUsed != "gpt-4o-mini-2024" || r.FinishReason != "gpt-" {
		t.Errorf("the log row changed with the server's buffers: %+v", r)
	}
	if u := e.usageRows(); len(u) != 1 || u[0].Model != "gpt-4o-mini" {
		t.Errorf("usage rows %+v", u)
	}
	if v := testutil.ToFloat64(e.gw.metrics.requests.WithLabelValues("app", "gpt-4o-mini", "200")); v != 1 {
		t.Errorf("requests{model=gpt-4o-mini} = %v", v)
	}
	if _, err := e.reg.Gather(); err != nil {
		t.Errorf("metrics do not gather: %v", err)
	}
}
