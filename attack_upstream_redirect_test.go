package main

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// An upstream that answers with a redirect must not make the gateway replay the request, with
// the operator's upstream key, to wherever the Location points: not a chat (307, which would
// resend the POST and its key) and not a model listing (302, which would fetch and return another
// URL's JSON). The client gets a 502 that says so, without the Location's query.
func TestAttackUpstreamRedirect(t *testing.T) {
	var contacted atomic.Int64
	elsewhere := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		contacted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"stolen-model","object":"model"}],"models":[{"name":"models/stolen-model"}]}`)
	})
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, elsewhere.URL+"/v1/models?sig=redirect-secret", http.StatusFound)
			return
		}
		http.Redirect(w, r, elsewhere.URL+"/collect?sig=redirect-secret", http.StatusTemporaryRedirect)
	})
	g := startRelGateway(t, nil, mock.URL)
	const want = "redirect to " // then the host, then "; the gateway does not follow upstream redirects"
	check := func(what string, status int, body, msg string) {
		t.Helper()
		if status != http.StatusBadGateway {
			t.Errorf("%s: status %d, want 502: %.300s", what, status, body)
		}
		if !strings.Contains(msg, want) || !strings.Contains(msg, "the gateway does not follow upstream redirects") {
			t.Errorf("%s: message %q does not say the redirect was refused", what, msg)
		}
		if strings.Contains(body, "redirect-secret") || strings.Contains(body, "stolen-model") {
			t.Errorf("%s: the answer carries the redirect target's query or content: %.300s", what, body)
		}
	}
	for i, d := range relDoors {
		backend := relBackends[i]
		for _, stream := range []bool{false, true} {
			resp, body := g.call(d, backend, stream, "")
			check(d.name+" chat → "+backend, resp.StatusCode, body, relErrorMessage(t, d, body))
		}
	}
	for _, backend := range relBackends {
		req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/models", nil)
		relOpenAI.auth(req.Header, g.keys[backend])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		check("models → "+backend, resp.StatusCode, string(b), relErrorMessage(t, relOpenAI, string(b)))
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("the redirect target was contacted %d times with the gateway's request", n)
	}
}
