package main

// Security (SPEC §11; issue 10), against the whole program: sessions that are forged, expired or
// logged out get nowhere; state changes need the CSRF token; the dashboard's WebSocket refuses
// other origins; password guessing is throttled; text from clients and upstreams is escaped on
// admin pages; upstream keys never leave the gateway and client keys are never logged in full.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/fasthttp/websocket"
)

// adminBrowser is a logged-in browser: its cookie jar and the session's CSRF token.
type adminBrowser struct {
	t       *testing.T
	base    string
	client  *http.Client
	session string
	csrf    string
}

func adminPassword(t *testing.T, out string) string {
	t.Helper()
	m := passwordLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no admin password in the output:\n%s", out)
	}
	return m[1]
}

func loginBrowser(t *testing.T, g *relGateway) *adminBrowser {
	t.Helper()
	client := noRedirects()
	if resp := login(t, client, g.url, "admin", adminPassword(t, g.out.String())); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	b := &adminBrowser{t: t, base: g.url, client: client}
	u, _ := url.Parse(g.url)
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == "aigw_session" {
			b.session = c.Value
		}
	}
	status, body := b.get("/admin")
	if status != http.StatusOK {
		t.Fatalf("dashboard: %d", status)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	b.csrf, _ = doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if b.session == "" || b.csrf == "" {
		t.Fatal("no session cookie or CSRF token after login")
	}
	return b
}

func (b *adminBrowser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// withCookie sends a request carrying only the given session cookie (no jar).
func withCookie(t *testing.T, method, target, session string, body io.Reader, headers ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, target, body)
	if session != "" {
		req.Header.Set("Cookie", "aigw_session="+session)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirects().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestSecurityForgedExpiredAndLoggedOutSessionsRejected(t *testing.T) {
	g := startRelGateway(t, nil, "")
	b := loginBrowser(t, g)

	rejected := func(t *testing.T, session string) {
		t.Helper()
		resp, _ := withCookie(t, http.MethodGet, g.url+"/admin", session, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login") {
			t.Errorf("GET /admin: %d → %q, want a redirect to the login page", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := withCookie(t, http.MethodGet, g.url+"/admin/api/v1/clients", session, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /admin/api/v1/clients: %d, want 401: %.200s", resp.StatusCode, body)
		}
		resp, _ = withCookie(t, http.MethodPost, g.url+"/admin/clients", session,
			strings.NewReader(url.Values{"name": {"x"}, "csrf_token": {b.csrf}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /admin/clients: %d, want it refused", resp.StatusCode)
		}
	}

	random := make([]byte, 32)
	rand.Read(random)
	flipped := []byte(b.session)
	flipped[len(flipped)/2] ^= 1
	for name, forged := range map[string]string{
		"random":         hex.EncodeToString(random),
		"one bit off":    string(flipped),
		"prefix":         b.session[:len(b.session)/2],
		"sql":            "' OR '1'='1",
		"huge":           strings.Repeat("A", 4000),
		"the csrf token": b.csrf,
	} {
		t.Run("forged "+name, func(t *testing.T) { rejected(t, forged) })
	}
	if resp, _ := withCookie(t, http.MethodGet, g.url+"/admin", b.session, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the real session stopped working: %d", resp.StatusCode)
	}

	t.Run("expired", func(t *testing.T) {
		other := loginBrowser(t, g)
		h := g.openDB()
		if _, err := h.NewUpdate().Table("admin_session").Set("expires_at = ?", time.Now().Add(-time.Minute).UTC()).
			Where("1 = 1").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		rejected(t, other.session)
		rejected(t, b.session)
	})

	t.Run("logged out", func(t *testing.T) {
		c := loginBrowser(t, g)
		resp, _ := withCookie(t, http.MethodPost, g.url+"/admin/logout", c.session,
			strings.NewReader(url.Values{"csrf_token": {c.csrf}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		rejected(t, c.session)
	})
}

func TestSecurityStateChangesNeedTheCSRFToken(t *testing.T) {
	g := startRelGateway(t, nil, "http://127.0.0.1:9")
	b := loginBrowser(t, g)
	id := strconv.FormatInt(g.ids[beOpenAI], 10)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		method, path, contentType, body string
	}{
		{"POST", "/admin/clients", form, "name=evil&backend=openai"},
		{"POST", "/admin/clients/" + id, form, "name=evil"},
		{"POST", "/admin/clients/" + id + "/active", form, "active=false"},
		{"POST", "/admin/clients/" + id + "/rotate-key", form, ""},
		{"POST", "/admin/clients/" + id + "/delete", form, ""},
		{"POST", "/admin/settings/password", form, "current_password=x&new_password=yyyyyyyyyyyyyyyyyyyyyyyy"},
		{"POST", "/admin/settings/tokens", form, "name=evil"},
		{"POST", "/admin/settings/logs", form, "retention_days=1"},
		{"POST", "/admin/logout", form, ""},
		{"POST", "/admin/api/v1/clients", "application/json", `{"name":"evil","backend":"openai"}`},
		{"PATCH", "/admin/api/v1/clients/" + id, "application/json", `{"name":"evil"}`},
		{"DELETE", "/admin/api/v1/clients/" + id, "application/json", ""},
		{"POST", "/admin/api/v1/clients/" + id + "/rotate-key", "application/json", ""},
	}
	for _, tt := range tests {
		for _, token := range []string{"", "forged-" + b.csrf[7:]} {
			name := tt.method + " " + tt.path + " without a token"
			if token != "" {
				name = tt.method + " " + tt.path + " with a wrong token"
			}
			t.Run(name, func(t *testing.T) {
				body := tt.body
				headers := []string{"Content-Type", tt.contentType}
				if token != "" {
					if tt.contentType == form {
						body = strings.TrimPrefix(body+"&csrf_token="+url.QueryEscape(token), "&")
					} else {
						headers = append(headers, "X-CSRF-Token", token)
					}
				}
				resp, out := withCookie(t, tt.method, g.url+tt.path, b.session, strings.NewReader(body), headers...)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("status %d, want 403: %.200s", resp.StatusCode, out)
				}
			})
		}
	}
	// Nothing changed: the client is as it was and the session still works.
	status, body := g.admin(http.MethodGet, "/admin/api/v1/clients/"+id, nil)
	if status != http.StatusOK || strings.Contains(body, "evil") {
		t.Errorf("the client changed: %d %s", status, body)
	}
	if status, _ := b.get("/admin"); status != http.StatusOK {
		t.Errorf("the session was logged out without a token: %d", status)
	}
	// The same change with the token goes through (the 403s above were about the token).
	resp, _ := withCookie(t, http.MethodPatch, g.url+"/admin/api/v1/clients/"+id, b.session,
		strings.NewReader(`{"description":"changed with the token"}`), "Content-Type", "application/json", "X-CSRF-Token", b.csrf)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("PATCH with the token: %d", resp.StatusCode)
	}
}

func TestSecurityWebSocketRefusesForeignOrigins(t *testing.T) {
	g := startRelGateway(t, nil, "")
	b := loginBrowser(t, g)
	wsURL := "ws" + strings.TrimPrefix(g.url, "http") + "/admin/ws"
	dial := func(origin, session string) (*websocket.Conn, int, error) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if session != "" {
			h.Set("Cookie", "aigw_session="+session)
		}
		conn, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
		status := 0
		if resp != nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		return conn, status, err
	}
	for _, tt := range []struct {
		name, origin, session string
		want                  int
	}{
		{"foreign origin with a session", "http://evil.example", b.session, http.StatusForbidden},
		{"look-alike origin", g.url + ".evil.example", b.session, http.StatusForbidden},
		{"null origin", "null", b.session, http.StatusForbidden},
		{"no origin", "", b.session, http.StatusForbidden},
		{"own origin without a session", g.url, "", http.StatusUnauthorized},
		{"own origin with a forged session", g.url, "forged", http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, status, err := dial(tt.origin, tt.session)
			if err == nil {
				conn.Close()
				t.Fatal("the WebSocket upgrade was accepted")
			}
			if status != tt.want {
				t.Errorf("status %d, want %d", status, tt.want)
			}
		})
	}
	// The dashboard itself connects (the refusals above were about origin and session).
	conn, status, err := dial(g.url, b.session)
	if err != nil {
		t.Fatalf("own origin with a session: %v (status %d)", err, status)
	}
	conn.Close()
}

func TestSecurityLoginThrottling(t *testing.T) {
	g := startRelGateway(t, nil, "")
	password := adminPassword(t, g.out.String())
	for i := range 5 {
		if resp := login(t, noRedirects(), g.url, "admin", "wrong-"+strconv.Itoa(i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := login(t, noRedirects(), g.url, "admin", password)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures even the right password: %d, want 429 (throttled)", resp.StatusCode)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra <= 0 {
		t.Errorf("Retry-After %q, want the seconds to wait", resp.Header.Get("Retry-After"))
	}
	// Another username from the same address is throttled too (the lock is per address as well).
	if resp := login(t, noRedirects(), g.url, "root", "x"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("another username from the same address: %d, want 429", resp.StatusCode)
	}
}

func TestSecurityAdminPagesEscapeClientAndUpstreamText(t *testing.T) {
	const (
		evilModel = `<script>alert("model")</script>`
		evilError = `<img src=x onerror=alert("upstream")>`
		evilUsed  = `"><svg onload=alert("used")>`
	)
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if strings.Contains(string(u.Body), "please fail") {
			upstreamtest.WriteError(w, u.Proto, http.StatusInternalServerError, "", evilError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":%s,"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, jsonStr(evilUsed))
	})
	g := startRelGateway(t, nil, mock.URL)
	g.createClient(beOpenAI, mock.URL, map[string]any{"name": `<b onmouseover=alert("name")>app</b>`,
		"description": `</textarea><script>alert("d")</script>`, "system_prompt": `</textarea><script>alert("sp")</script>`,
		"model_whitelist": []string{"m"}})
	// A model id cannot hold markup (providers.CheckModelID): neither an admin nor a caller gets one in.
	if status, body := g.admin(http.MethodPatch, "/admin/api/v1/clients/"+strconv.FormatInt(g.ids[beOpenAI], 10),
		map[string]any{"model_whitelist": []string{evilModel, "m"}}); status != http.StatusBadRequest {
		t.Errorf("whitelisting %q: %d %s, want 400", evilModel, status, body)
	}
	key := g.keys[beOpenAI]
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"user","content":"please fail"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
	} {
		req, _ := http.NewRequest(http.MethodPost, g.url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var ids []int64
	relWaitFor(t, "the request log rows", 10*time.Second, func() bool {
		_, body := g.admin(http.MethodGet, "/admin/api/v1/requests?client_id="+strconv.FormatInt(g.ids[beOpenAI], 10), nil)
		var out struct {
			Requests []struct {
				ID int64 `json:"id"`
			} `json:"requests"`
		}
		json.Unmarshal([]byte(body), &out)
		ids = ids[:0]
		for _, r := range out.Requests {
			ids = append(ids, r.ID)
		}
		return len(ids) == 2
	})

	b := loginBrowser(t, g)
	id := strconv.FormatInt(g.ids[beOpenAI], 10)
	pages := []string{"/admin", "/admin/clients", "/admin/clients/" + id, "/admin/clients/" + id + "/delete",
		"/admin/requests", "/admin/requests?client_id=" + id, "/admin/settings"}
	for _, rid := range ids {
		pages = append(pages, "/admin/requests/"+strconv.FormatInt(rid, 10))
	}
	escapedSeen := 0
	for _, p := range pages {
		status, body := b.get(p)
		if status != http.StatusOK {
			t.Errorf("%s: %d", p, status)
			continue
		}
		for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload", "<b onmouseover", "</textarea><script>"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s renders %q unescaped", p, raw)
			}
		}
		if strings.Contains(body, "&lt;script&gt;alert") || strings.Contains(body, "&lt;img src=x") {
			escapedSeen++
		}
	}
	if escapedSeen == 0 {
		t.Error("no page showed the hostile text at all (escaped): the test checked nothing")
	}
}

// secretLeakTarget collects everything the gateway says: response bodies and headers, its log,
// and the admin pages; the test greps it all for the secrets.
type secretLeakTarget struct {
	mu  sync.Mutex
	out []string
}

func (s *secretLeakTarget) add(where, text string) {
	s.mu.Lock()
	s.out = append(s.out, where+"\n"+text)
	s.mu.Unlock()
}

func (s *secretLeakTarget) find(needle string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []string
	for _, o := range s.out {
		if strings.Contains(o, needle) {
			where, _, _ := strings.Cut(o, "\n")
			hits = append(hits, where)
		}
	}
	return hits
}

func TestSecurityUpstreamKeysNeverLeak(t *testing.T) {
	// An upstream that echoes the key it was sent, the way some providers do in their errors:
	// in a 401, in a mid-stream error event, and in the model list.
	echoKey := func(r *http.Request) string {
		for _, h := range []string{"Authorization", "x-api-key", "x-goog-api-key", "api-key"} {
			if v := r.Header.Get(h); v != "" {
				return strings.TrimPrefix(v, "Bearer ")
			}
		}
		return ""
	}
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		key := echoKey(r)
		if strings.HasSuffix(r.URL.Path, "/models") {
			upstreamtest.WriteError(w, mockProtoOfModels(r), http.StatusUnauthorized, "", "Incorrect API key provided: "+key)
			return
		}
		u := upstreamtest.ReadRequest(r)
		if strings.Contains(string(u.Body), "echo in stream") && u.Stream {
			upstreamtest.WriteStreamHead(w, u.Proto, 2)
			upstreamtest.WriteStreamText(w, u.Proto, "partial ", 2, 1)
			msg := jsonStr("invalid key " + key)
			switch u.Proto {
			case beAnthropic:
				upstreamtest.WriteEvent(w, u.Proto, "error", `{"type":"error","error":{"type":"authentication_error","message":`+msg+`}}`)
			default:
				upstreamtest.WriteEvent(w, u.Proto, "", `{"error":{"message":`+msg+`,"type":"invalid_request_error","code":401,"status":"UNAUTHENTICATED"}}`)
			}
			return
		}
		upstreamtest.WriteError(w, u.Proto, http.StatusUnauthorized, "", "Incorrect API key provided: "+key+". You can find your API key at https://example.invalid/keys.")
	})
	g := startRelGateway(t, map[string]string{"AIGW_LOGS_STORE_BODIES": "true"}, mock.URL)
	seen := &secretLeakTarget{}
	record := func(where string, resp *http.Response, body string) {
		var hs strings.Builder
		resp.Header.Write(&hs)
		seen.add(where, hs.String()+"\n"+body)
	}

	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		for _, stream := range []bool{false, true} {
			resp, body := g.call(d, backend, stream, "")
			record(fmt.Sprintf("%s→%s stream=%v", d.name, backend, stream), resp, body)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("stream=%v: status %d, want the upstream's 401 passed on", stream, resp.StatusCode)
			}
		}
		body := strings.Replace(d.body(true), "hello there", "echo in stream", 1)
		resp, out := g.call(d, backend, true, body)
		record(fmt.Sprintf("%s→%s mid-stream error", d.name, backend), resp, out)
	})
	for _, b := range relBackends {
		id := strconv.FormatInt(g.ids[b], 10)
		for _, p := range []string{"/test", "/fetch-models"} {
			status, body := g.admin(http.MethodPost, "/admin/api/v1/clients/"+id+p, nil)
			seen.add("POST "+p+" "+b+" "+strconv.Itoa(status), body)
		}
		for _, m := range []string{"/v1/models", "/v1beta/models"} {
			req, _ := http.NewRequest(http.MethodGet, g.url+m, nil)
			req.Header.Set("Authorization", "Bearer "+g.keys[b])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			record("GET "+m+" "+b, resp, string(out))
		}
		status, body := g.admin(http.MethodPatch, "/admin/api/v1/clients/"+id, map[string]any{"upstream_key": upstreamSecretOf(b)})
		seen.add("PATCH client "+b+" "+strconv.Itoa(status), body)
		status, body = g.admin(http.MethodGet, "/admin/api/v1/clients/"+id, nil)
		seen.add("GET client "+b+" "+strconv.Itoa(status), body)
	}
	_, body := g.admin(http.MethodGet, "/admin/api/v1/clients", nil)
	seen.add("GET clients", body)
	relWaitFor(t, "the request log", 10*time.Second, func() bool {
		_, body := g.admin(http.MethodGet, "/admin/api/v1/requests?limit=100", nil)
		return strings.Count(body, `"request_id"`) >= 27
	})
	_, body = g.admin(http.MethodGet, "/admin/api/v1/requests?limit=100", nil)
	seen.add("GET requests", body)
	_, body = g.admin(http.MethodGet, "/admin/api/v1/stats", nil)
	seen.add("GET stats", body)

	br := loginBrowser(t, g)
	pages := []string{"/admin", "/admin/clients", "/admin/requests", "/admin/settings"}
	for _, b := range relBackends {
		pages = append(pages, "/admin/clients/"+strconv.FormatInt(g.ids[b], 10))
	}
	var out struct {
		Requests []struct {
			ID int64 `json:"id"`
		} `json:"requests"`
	}
	_, reqs := g.admin(http.MethodGet, "/admin/api/v1/requests?limit=100", nil)
	json.Unmarshal([]byte(reqs), &out)
	for _, r := range out.Requests {
		pages = append(pages, "/admin/requests/"+strconv.FormatInt(r.ID, 10))
	}
	for _, p := range pages {
		status, body := br.get(p)
		seen.add("page "+p+" "+strconv.Itoa(status), body)
	}
	// The stored log itself (bodies are kept in this test): what the request detail pages show.
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	for _, r := range g.openDB().requestLogs() {
		seen.add("request_log row "+strconv.FormatInt(r.ID, 10), r.ErrorMessage+"\n"+string(r.RequestBody)+"\n"+string(r.ResponseBody))
	}
	seen.add("server log", g.out.String())

	for _, b := range relBackends {
		secret := upstreamSecretOf(b)
		for _, needle := range []string{secret, strings.TrimPrefix(secret, "sk-")[:24]} {
			if hits := seen.find(needle); len(hits) > 0 {
				t.Errorf("the %s upstream key (%q) appears in: %s", b, needle, strings.Join(hits, "; "))
			}
		}
	}
}

// mockProtoOfModels names the protocol of a model-list request.
func mockProtoOfModels(r *http.Request) string {
	switch {
	case strings.Contains(r.URL.Path, "/v1beta/"):
		return beGemini
	case r.Header.Get("x-api-key") != "":
		return beAnthropic
	}
	return beOpenAI
}

func TestSecurityClientKeysNeverLoggedInFull(t *testing.T) {
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if u.Proto == "" {
			upstreamtest.WriteError(w, beOpenAI, http.StatusNotFound, "", "no such thing")
			return
		}
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"ok"}, Input: 1, Output: 1})
	})
	g := startRelGateway(t, nil, mock.URL)
	unknown := "gm_" + strings.Repeat("Z", 40)
	keys := []string{unknown}
	for _, k := range g.keys {
		keys = append(keys, k)
	}
	send := func(method, path, body string, header ...string) {
		req, _ := http.NewRequest(method, g.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, key := range keys {
		for _, d := range relDoors {
			for _, stream := range []bool{false, true} {
				send(http.MethodPost, d.path(stream), d.body(stream), "Authorization", "Bearer "+key)
				send(http.MethodPost, d.path(stream), d.body(stream), "x-api-key", key)
				send(http.MethodPost, d.path(stream), d.body(stream), "x-goog-api-key", key)
				send(http.MethodPost, d.path(stream), d.body(stream), "api-key", key)
				sep := "?"
				if strings.Contains(d.path(stream), "?") {
					sep = "&"
				}
				send(http.MethodPost, d.path(stream)+sep+"key="+key, d.body(stream))
			}
		}
		send(http.MethodGet, "/v1/models?key="+key, "")
		send(http.MethodGet, "/v1beta/models?key="+key, "")
		send(http.MethodGet, "/v1/usage", "", "Authorization", "Bearer "+key)
		send(http.MethodGet, "/v1/nowhere?key="+key, "", "Authorization", "Bearer "+key)
		send(http.MethodPost, "/v1/chat/completions", "{broken", "Authorization", "Bearer "+key)
		send(http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"`+key+`"}]}`, "Authorization", "Bearer "+key)
	}
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	logged := g.out.String()
	if !strings.Contains(logged, "key_hint") {
		t.Errorf("the access log has no key hints; did the requests run?\n%.1000s", logged)
	}
	for _, key := range keys {
		if strings.Contains(logged, key) {
			t.Errorf("a client key was logged in full: %s…", key[:6])
		}
		if strings.Contains(logged, key[:len(key)-4]) {
			t.Errorf("more than the last four characters of a client key were logged: %s…", key[:6])
		}
	}
	for _, r := range g.openDB().requestLogs() {
		for _, key := range keys {
			row := fmt.Sprintf("%+v", r)
			if strings.Contains(row, key[:len(key)-4]) {
				t.Errorf("request_log row %d holds a client key", r.ID)
			}
		}
	}
}
