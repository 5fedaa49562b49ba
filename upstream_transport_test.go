package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// An upstream that refuses a large request answers 413 and closes the connection before it read
// the body. The client gets that 413 and the upstream's message through every front door, not a
// 502 for the broken write.
func TestEarly413ReachesClient(t *testing.T) {
	const message = "request too large for this upstream (9 MiB)"
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		upstreamtest.WriteError(w, upstreamtest.Proto(r), http.StatusRequestEntityTooLarge, "", message)
	})
	g := startRelGateway(t, nil, mock.URL)
	big := strings.Repeat("x", 9<<20)
	bodies := map[string]string{
		"openai":    fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":%q}]}`, big),
		"anthropic": fmt.Sprintf(`{"model":"m","max_tokens":256,"messages":[{"role":"user","content":%q}]}`, big),
		"gemini":    fmt.Sprintf(`{"contents":[{"role":"user","parts":[{"text":%q}]}]}`, big),
	}
	for i, d := range relDoors {
		backend := relBackends[i]
		resp, body := g.call(d, backend, false, bodies[d.name])
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s → %s: status %d, want the upstream's 413: %.300s", d.name, backend, resp.StatusCode, body)
			continue
		}
		if msg := relErrorMessage(t, d, body); !strings.Contains(msg, message) {
			t.Errorf("%s → %s: message %q, want the upstream's %q", d.name, backend, msg, message)
		}
	}
}
