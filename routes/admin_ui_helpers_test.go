package routes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// upstreamMock is an OpenAI-compatible backend for the admin pages' tests: GET /v1/models lists
// models, POST /v1/chat/completions answers. fail makes every call a 401 whose message is
// failMessage (markup, and the key the caller sent, as a careless backend might echo it).
type upstreamMock struct {
	srv *httptest.Server

	mu          sync.Mutex
	models      []string
	fail        bool
	failMessage string
	calls       []string
}

func newUpstreamMock(t testing.TB) *upstreamMock {
	m := &upstreamMock{models: []string{"gpt-4o", "gpt-4o-mini"}}
	m.srv = httptest.NewServer(m)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *upstreamMock) set(f func(m *upstreamMock)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *upstreamMock) called() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

func (m *upstreamMock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.calls = append(m.calls, r.Method+" "+r.URL.Path)
	models, fail, msg := append([]string(nil), m.models...), m.fail, m.failMessage
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if fail {
		w.WriteHeader(http.StatusUnauthorized)
		b, _ := json.Marshal(msg + " (key " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + ")")
		fmt.Fprintf(w, `{"error":{"message":%s,"type":"invalid_request_error","code":"invalid_api_key"}}`, b)
		return
	}
	switch r.URL.Path {
	case "/v1/models":
		var data []string
		for _, id := range models {
			b, _ := json.Marshal(id)
			data = append(data, `{"id":`+string(b)+`,"object":"model","created":1700000000,"owned_by":"mock"}`)
		}
		fmt.Fprintf(w, `{"object":"list","data":[%s]}`, strings.Join(data, ","))
	case "/v1/chat/completions":
		var req struct {
			Model string `json:"model"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		b, _ := json.Marshal(req.Model)
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":%s,`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}`, b)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"no route"}}`)
	}
}

// withGateway gives the edge a running gateway (key cache, limits, accounting, log writer)
// whose openai backends reach the mock; tweak changes its options before it starts.
func withGateway(t testing.TB, tweak ...func(*gateway.Options)) func(*Deps) {
	return func(d *Deps) {
		reg := prometheus.NewRegistry()
		o := gateway.Options{
			Clients: d.Clients,
			Secrets: d.Keyring,
			Providers: map[string]gateway.ProviderFactory{
				"openai":            func(c providers.Config) (providers.Provider, error) { return openai.New(c) },
				"openai-compatible": func(c providers.Config) (providers.Provider, error) { return openai.New(c) },
			},
			HTTPClient:    http.DefaultClient,
			HeaderTimeout: 10 * time.Second,
			Logs:          d.RequestLogs,
			Usage:         db.NewUsageStore(d.DB),
			Prices:        db.NewModelPrices(d.DB),
			Registry:      reg,
			FlushInterval: 20 * time.Millisecond,
		}
		for _, f := range tweak {
			f(&o)
		}
		gw, err := gateway.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := gw.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			gw.Close(ctx)
		})
		d.Gateway, d.Registry = gw, reg
		counted := d.ClientsChanged
		d.ClientsChanged = func(ctx context.Context) error {
			if counted != nil {
				counted(ctx)
			}
			return gw.ReloadClients(ctx)
		}
	}
}

// page GETs an admin page with the session and parses it.
func (e *edge) page(s edgeSession, path string, headers ...string) (*http.Response, *goquery.Document, string) {
	e.t.Helper()
	resp, body := e.do(newReq("GET", path, "", append([]string{"Cookie", sessionCookie + "=" + s.cookie}, headers...)...))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, doc, body
}

// postRedirect submits a form that must answer 303 (post, redirect, get) and opens where it
// points, as a browser does.
func (e *edge) postRedirect(s edgeSession, path string, form url.Values) (*http.Response, *goquery.Document, string) {
	e.t.Helper()
	resp, _, body := e.post(s, path, form)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("POST %s: %d, want 303 to a page\n%s", path, resp.StatusCode, body)
	}
	return e.page(s, resp.Header.Get("Location"))
}

// post submits a form as the logged-in browser, with its CSRF token.
func (e *edge) post(s edgeSession, path string, form url.Values, headers ...string) (*http.Response, *goquery.Document, string) {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(formCSRF, s.csrf)
	h := append([]string{"Cookie", sessionCookie + "=" + s.cookie, "Content-Type", "application/x-www-form-urlencoded"}, headers...)
	resp, body := e.do(newReq("POST", path, form.Encode(), h...))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, doc, body
}

// clientForm is a complete client form as the browser sends it.
func clientFormValues(name, backend, baseURL string) url.Values {
	return url.Values{
		"name": {name}, "description": {""}, "active": {"true"}, "backend": {backend}, "base_url": {baseURL},
		"upstream_key": {""}, "azure_api_version": {""}, "default_model": {""}, "system_prompt": {""},
		"tool_mode": {"passthrough"}, "key_prefix": {"gm_"}, "model_whitelist_extra": {""},
		"rate_limit.requests_per_minute": {"60"}, "rate_limit.requests_per_hour": {"1000"},
		"rate_limit.requests_per_day": {"10000"}, "quota.max_input_tokens_per_day": {"1000000"},
		"quota.max_output_tokens_per_day": {"500000"}, "quota.max_requests_per_day": {"1000"},
		"quota.max_input_tokens": {"1000000"}, "quota.max_output_tokens": {"8192"},
	}
}

// createClient stores a client directly and returns it with its key.
func (e *edge) createClient(c *db.Client, upstreamKey string) (*db.Client, string) {
	e.t.Helper()
	if upstreamKey != "" {
		ct, err := e.deps.Keyring.Encrypt(upstreamKey)
		if err != nil {
			e.t.Fatal(err)
		}
		c.UpstreamKey, c.UpstreamKeyHint = ct, db.Hint(upstreamKey)
	}
	key, err := e.deps.Clients.Create(context.Background(), c)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.deps.ClientsChanged != nil {
		if err := e.deps.ClientsChanged(context.Background()); err != nil {
			e.t.Fatal(err)
		}
	}
	return c, key
}

// auditActions lists the audit log's actions, newest first.
func (e *edge) auditActions() []string {
	e.t.Helper()
	entries, err := e.deps.Audit.List(context.Background(), 100, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range entries {
		out = append(out, a.Action+" "+a.Target+" "+a.Detail)
	}
	return out
}

func testid(id string) string { return `[data-testid="` + id + `"]` }
