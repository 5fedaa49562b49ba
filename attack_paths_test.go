package main

// Attacks through model ids: a model id is put into upstream URL paths (Gemini's
// models/{id}:action, Azure's deployments/{id}/…), so one that climbs out of its segment would
// send the operator's key to another upstream endpoint. And answers: an upstream that echoes
// the headers it got must not hand the operator's key to the client.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// pathRecorder is a mock upstream that records the raw request target of everything it gets.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) record(r *http.Request) {
	p.mu.Lock()
	p.paths = append(p.paths, r.Method+" "+r.RequestURI)
	p.mu.Unlock()
}

func (p *pathRecorder) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.paths
	p.paths = nil
	return out
}

// rawCall sends method target (the request target exactly as written) with the headers set by
// auth and returns the status and body.
func (g *relGateway) rawCall(method, target string, auth func(http.Header), body string) (int, string) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.url+target, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	auth(req.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAttackGeminiPathTraversal: a Gemini-door model id that holds "..", raw or percent-encoded,
// is refused with a Gemini-shaped 400 for every action and backend, and nothing reaches the
// upstream; a plain model id still does.
func TestAttackGeminiPathTraversal(t *testing.T) {
	rec := &pathRecorder{}
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		u := upstreamtest.ReadRequest(r)
		if strings.HasSuffix(r.URL.Path, ":countTokens") {
			io.WriteString(w, `{"totalTokens":3}`)
			return
		}
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"hi"}, Input: 3, Output: 1})
	})
	g := startRelGateway(t, nil, mock.URL)

	models := []string{
		"../../../v1/files/abc",
		"..%2f..%2f..%2fv1%2ffiles%2fabc",
		"..%2F..%2Fv1%2Ffiles%2Fabc",
		"%2e%2e/%2e%2e/%2e%2e/v1/files/abc",
		"%2E%2E%2F%2E%2E%2Fv1%2Ffiles%2Fabc",
		"..",
		"models/..",
		"a/../../x",
		"m%3FgenerateContent",
		`..\..\v1\files\abc`,
	}
	actions := []string{"generateContent", "streamGenerateContent?alt=sse", "countTokens"}
	body := relGemini.body(false)
	for _, backend := range []string{beGemini, beOpenAI} { // forwarded, translated
		auth := func(h http.Header) { relGemini.auth(h, g.keys[backend]) }
		for _, m := range models {
			for _, a := range actions {
				target := "/v1beta/models/" + m + ":" + a
				status, got := g.rawCall(http.MethodPost, target, auth, body)
				if status != http.StatusBadRequest {
					t.Errorf("%s → %s: status %d, want 400; body %s", target, backend, status, got)
					continue
				}
				var e struct {
					Error struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
						Status  string `json:"status"`
					} `json:"error"`
				}
				if err := json.Unmarshal([]byte(got), &e); err != nil || e.Error.Code != 400 ||
					e.Error.Status != "INVALID_ARGUMENT" || !strings.Contains(e.Error.Message, "model") {
					t.Errorf("%s → %s: not a Gemini 400 naming the model: %s", target, backend, got)
				}
			}
		}
		// GET /v1beta/models/{id} takes the same ids.
		if status, got := g.rawCall(http.MethodGet, "/v1beta/models/..%2f..%2fv1%2ffiles", auth, ""); status != http.StatusBadRequest {
			t.Errorf("GET model ..%%2f → %s: status %d, want 400; body %s", backend, status, got)
		}
	}
	if seen := rec.take(); len(seen) > 0 {
		t.Fatalf("the upstream received requests for traversing model ids:\n%s", strings.Join(seen, "\n"))
	}

	// A plain id still goes through, to the path it names.
	for _, a := range actions {
		auth := func(h http.Header) { relGemini.auth(h, g.keys[beGemini]) }
		if status, got := g.rawCall(http.MethodPost, "/v1beta/models/gemini-2.5-flash:"+a, auth, body); status != http.StatusOK {
			t.Errorf("%s: status %d, want 200; body %s", a, status, got)
		}
	}
	for _, p := range rec.take() {
		if !strings.Contains(p, "/v1beta/models/gemini-2.5-flash:") {
			t.Errorf("upstream path %q, want /v1beta/models/gemini-2.5-flash:…", p)
		}
	}
}

// TestAttackAzureModelTraversal: the model of an Azure client names the deployment in the URL
// path; ".." and friends are refused at every door before anything is sent, and an admin cannot
// store them as a default model or whitelist entry either.
func TestAttackAzureModelTraversal(t *testing.T) {
	rec := &pathRecorder{}
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		u := upstreamtest.ReadRequest(r)
		if strings.HasSuffix(r.URL.Path, "/embeddings") {
			io.WriteString(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`)
			return
		}
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"hi"}, Input: 3, Output: 1})
	})
	g := startRelGateway(t, nil, "")
	g.createClient("azure", mock.URL, map[string]any{"azure_api_version": "2024-10-21"})
	key := g.keys["azure"]
	bearer := func(h http.Header) { h.Set("Authorization", "Bearer "+key) }
	anthropicAuth := func(h http.Header) { relAnthropic.auth(h, key) }

	for _, m := range []string{"..", "../chat/completions", "a/../..", ".", "m/../../x", "..%2fx", "m?x=1", "m#x", "m x", "m\\.."} {
		mj := jsonStr(m)
		cases := []struct {
			name, target string
			auth         func(http.Header)
			body, shape  string
		}{
			{"openai chat", "/v1/chat/completions", bearer, `{"model":` + mj + `,"messages":[{"role":"user","content":"hi"}]}`, "openai"},
			{"openai chat stream", "/v1/chat/completions", bearer, `{"model":` + mj + `,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, "openai"},
			{"embeddings", "/v1/embeddings", bearer, `{"model":` + mj + `,"input":"hi"}`, "openai"},
			{"anthropic messages", "/v1/messages", anthropicAuth, `{"model":` + mj + `,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`, "anthropic"},
			{"anthropic count_tokens", "/v1/messages/count_tokens", anthropicAuth, `{"model":` + mj + `,"messages":[{"role":"user","content":"hi"}]}`, "anthropic"},
		}
		for _, c := range cases {
			status, got := g.rawCall(http.MethodPost, c.target, c.auth, c.body)
			if status != http.StatusBadRequest {
				t.Errorf("%s, model %q: status %d, want 400; body %s", c.name, m, status, got)
				continue
			}
			want := `"invalid_request_error"`
			if !strings.Contains(got, want) || !strings.Contains(got, "model") {
				t.Errorf("%s, model %q: not a %s-shaped 400 naming the model: %s", c.name, m, c.shape, got)
			}
		}
	}
	if status, got := g.rawCall(http.MethodGet, "/v1/models/..", bearer, ""); status != http.StatusBadRequest {
		t.Errorf("GET /v1/models/..: status %d, want 400; body %s", status, got)
	}
	if seen := rec.take(); len(seen) > 0 {
		t.Fatalf("the Azure upstream received requests for traversing model ids:\n%s", strings.Join(seen, "\n"))
	}

	// What an admin enters is held to the same rule.
	for _, field := range []map[string]any{{"default_model": ".."}, {"model_whitelist": []string{"m", "../x"}}, {"default_model": "a b"}} {
		body := map[string]any{"name": "bad", "backend": "azure", "base_url": mock.URL, "azure_api_version": "2024-10-21"}
		for k, v := range field {
			body[k] = v
		}
		if status, got := g.admin(http.MethodPost, "/admin/api/v1/clients", body); status != http.StatusBadRequest {
			t.Errorf("create client with %v: status %d, want 400; body %s", field, status, got)
		}
	}

	// A real deployment name still reaches its deployment.
	if status, got := g.rawCall(http.MethodPost, "/v1/chat/completions", bearer, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`); status != http.StatusOK {
		t.Fatalf("model gpt-4o: status %d, want 200; body %s", status, got)
	}
	seen := rec.take()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "POST /openai/deployments/gpt-4o/chat/completions?") {
		t.Fatalf("upstream saw %q, want one POST to /openai/deployments/gpt-4o/chat/completions", seen)
	}
}

// echoMock answers every endpoint of the three protocols well, with the upstream auth headers it
// received written into the answer (text, model ids, extra fields), as some upstreams do.
func echoMock(w http.ResponseWriter, r *http.Request) {
	echo := "you sent: " + strings.Join([]string{r.Header.Get("Authorization"), r.Header.Get("x-api-key"),
		r.Header.Get("x-goog-api-key"), r.Header.Get("api-key")}, " ")
	e := jsonStr(echo)
	p := r.URL.Path
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1beta/models"):
		fmt.Fprintf(w, `{"models":[{"name":"models/m","displayName":%s,"supportedGenerationMethods":["generateContent"]},{"name":%s,"supportedGenerationMethods":["generateContent"]}]}`, e, e)
	case r.Method == http.MethodGet && r.Header.Get("x-api-key") != "":
		fmt.Fprintf(w, `{"data":[{"type":"model","id":"m","display_name":%s},{"type":"model","id":%s}],"has_more":false}`, e, e)
	case r.Method == http.MethodGet:
		fmt.Fprintf(w, `{"object":"list","data":[{"id":"m","object":"model","owned_by":%s},{"id":%s,"object":"model"}]}`, e, e)
	case strings.HasSuffix(p, "/embeddings"):
		fmt.Fprintf(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":%s,"usage":{"prompt_tokens":1,"total_tokens":1}}`, e)
	case strings.HasSuffix(p, ":batchEmbedContents"):
		io.WriteString(w, `{"embeddings":[{"values":[0.5]}]}`)
	case strings.HasSuffix(p, ":countTokens"):
		fmt.Fprintf(w, `{"totalTokens":3,"echo":%s}`, e)
	case strings.HasSuffix(p, "/messages/count_tokens"):
		fmt.Fprintf(w, `{"input_tokens":3,"echo":%s}`, e)
	default:
		upstreamtest.WriteAnswer(w, upstreamtest.ReadRequest(r), upstreamtest.Reply{Texts: []string{echo}, Input: 3, Output: 5})
	}
}

// TestAttackUpstreamKeyEchoedInAnswer: whatever door, backend and path (forwarded or translated,
// streamed or not, chat, embeddings, token counts, model lists), an upstream that echoes the key
// it was sent does not give it to the client.
func TestAttackUpstreamKeyEchoedInAnswer(t *testing.T) {
	mock := newRelMock(t, echoMock)
	g := startRelGateway(t, nil, mock.URL)

	type door struct {
		name, method, target string
		auth                 func(h http.Header, key string)
		body                 string
		// echoed: the answer carries the upstream's echo (so "[REDACTED]" must show where it was).
		echoed func(backend string) bool
	}
	bearer := relOpenAI.auth
	always := func(string) bool { return true }
	only := func(b string) func(string) bool { return func(x string) bool { return x == b } }
	doors := []door{
		{"openai chat", "POST", "/v1/chat/completions", bearer, relOpenAI.body(false), always},
		{"openai chat stream", "POST", "/v1/chat/completions", bearer, relOpenAI.body(true), always},
		{"anthropic messages", "POST", "/v1/messages", relAnthropic.auth, relAnthropic.body(false), always},
		{"anthropic messages stream", "POST", "/v1/messages", relAnthropic.auth, relAnthropic.body(true), always},
		{"gemini generate", "POST", relGemini.path(false), relGemini.auth, relGemini.body(false), always},
		{"gemini stream", "POST", relGemini.path(true), relGemini.auth, relGemini.body(true), always},
		{"openai embeddings", "POST", "/v1/embeddings", bearer, `{"model":"m","input":"hello"}`, only(beOpenAI)},
		{"anthropic count_tokens", "POST", "/v1/messages/count_tokens", relAnthropic.auth,
			`{"model":"m","messages":[{"role":"user","content":"hello"}]}`, only(beAnthropic)},
		{"gemini countTokens", "POST", "/v1beta/models/m:countTokens", relGemini.auth, relGemini.body(false), only(beGemini)},
		{"openai models", "GET", "/v1/models", bearer, "", always},
		{"openai model", "GET", "/v1/models/m", bearer, "", nil},
		{"gemini models", "GET", "/v1beta/models", relGemini.auth, "", always},
	}
	for _, d := range doors {
		for _, backend := range relBackends {
			if d.name == "openai embeddings" && backend == beAnthropic {
				continue // no embeddings endpoint: a 400 of the gateway's own
			}
			auth := func(h http.Header) { d.auth(h, g.keys[backend]) }
			status, got := g.rawCall(d.method, d.target, auth, d.body)
			secret := upstreamSecretOf(backend)
			if strings.Contains(got, secret) {
				t.Errorf("%s → %s: the upstream key reached the client (status %d):\n%s", d.name, backend, status, got)
				continue
			}
			if status != http.StatusOK {
				t.Errorf("%s → %s: status %d, want 200; body %s", d.name, backend, status, got)
				continue
			}
			if d.echoed != nil && d.echoed(backend) && !strings.Contains(got, "you sent: ") {
				t.Errorf("%s → %s: the upstream's echo is not in the answer, so this proves nothing: %s", d.name, backend, got)
			}
		}
	}
}
