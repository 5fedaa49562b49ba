package routes

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/static"
)

func TestRequestID(t *testing.T) {
	e := newEdge(t)
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"none sent", "", false},
		{"sane is kept", "req-123_abc.DEF:9", true},
		{"uuid is kept", "0b5f0a52-3c4e-4c1e-9f0e-3d0f5b1c2a7e", true},
		{"spaces are replaced", "a b", false},
		{"too long is replaced", strings.Repeat("a", 129), false},
		{"quotes are replaced", `x"y`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq("GET", "/healthz", "")
			if tt.sent != "" {
				req.Header.Set("X-Request-Id", tt.sent)
			}
			resp, _ := e.do(req)
			got := resp.Header.Get("X-Request-Id")
			if tt.kept && got != tt.sent {
				t.Errorf("X-Request-Id = %q, want the caller's %q", got, tt.sent)
			}
			if !tt.kept && !generated.MatchString(got) {
				t.Errorf("X-Request-Id = %q, want a generated id", got)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	plain := newEdge(t)
	tls := newEdge(t, func(d *Deps) { d.Config.Server.HTTPS.Enabled = true })
	tests := []struct {
		name    string
		e       *edge
		path    string
		hsts    bool
		csp     bool
		wantSts int
	}{
		{"public over http", plain, "/healthz", false, false, 200},
		{"admin page over http", plain, "/admin/login", false, true, 200},
		{"admin api", plain, "/admin/api/v1/clients", false, true, 401},
		{"public over https", tls, "/healthz", true, false, 200},
		{"admin over https", tls, "/admin/login", true, true, 200},
		{"not found", plain, "/nope", false, false, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := tt.e.do(newReq("GET", tt.path, ""))
			if resp.StatusCode != tt.wantSts {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantSts)
			}
			h := resp.Header
			if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
				t.Errorf("missing base headers: %v", h)
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != tt.hsts {
				t.Errorf("HSTS present = %v, want %v", got, tt.hsts)
			}
			csp := h.Get("Content-Security-Policy")
			if got := csp != ""; got != tt.csp {
				t.Errorf("CSP present = %v, want %v", got, tt.csp)
			}
			if tt.csp && (!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'")) {
				t.Errorf("CSP = %q", csp)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEdge(t)
	tests := []struct {
		path  string
		check func(t *testing.T, body map[string]any)
	}{
		{"/v1/chat/completions", func(t *testing.T, b map[string]any) {
			if b["error"].(map[string]any)["type"] != "invalid_request_error" {
				t.Errorf("openai shape: %v", b)
			}
		}},
		{"/v1/messages", func(t *testing.T, b map[string]any) {
			if b["type"] != "error" || b["error"].(map[string]any)["type"] != "request_too_large" {
				t.Errorf("anthropic shape: %v", b)
			}
		}},
		{"/v1beta/models/gemini-2.5-flash:generateContent", func(t *testing.T, b map[string]any) {
			if b["error"].(map[string]any)["code"] != float64(413) {
				t.Errorf("gemini shape: %v", b)
			}
		}},
		{"/admin/api/v1/clients", func(t *testing.T, b map[string]any) {
			if b["error"].(map[string]any)["code"] != "too_large" {
				t.Errorf("admin shape: %v", b)
			}
		}},
	}
	// fasthttp rejects the body from its Content-Length before reading it and closes the
	// connection, so this needs a real connection that sends only the headers (app.Test reports
	// the rejection as an error instead of returning the response, and a client still writing
	// the body sees a reset).
	addr := strings.TrimPrefix(e.listen(), "http://")
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", tt.path, MaxBodySize+1)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			body := string(raw)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
			if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("413 lacks request id or security headers: %v", resp.Header)
			}
			if !strings.Contains(body, "10 MB") {
				t.Errorf("body %q does not say the limit", body)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
	// Just under the limit is accepted by the edge (the route then answers 404: it does not exist here).
	resp, _ := e.do(newReq("POST", "/v1/nothing-here", strings.Repeat("a", MaxBodySize)))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("body under the limit: status %d, want 404", resp.StatusCode)
	}
}

func TestErrorShapesByCaller(t *testing.T) {
	e := newEdge(t)
	tests := []struct {
		path, want string
	}{
		{"/v1/unknown", `{"error":{"message":"no route for GET /v1/unknown","type":"invalid_request_error","param":null,"code":null}}`},
		{"/v1/messages/nope", `{"type":"error","error":{"type":"not_found_error","message":"no route for GET /v1/messages/nope"}}`},
		{"/v1beta/nope", `{"error":{"code":404,"message":"no route for GET /v1beta/nope","status":"NOT_FOUND"}}`},
		{"/admin/api/v1/nope", `{"error":{"code":"not_found","message":"no route for GET /admin/api/v1/nope"}}`},
	}
	for _, tt := range tests {
		resp, body := e.do(newReq("GET", tt.path, ""))
		if resp.StatusCode != 404 || body != tt.want {
			t.Errorf("GET %s = %d %s\nwant 404 %s", tt.path, resp.StatusCode, body, tt.want)
		}
	}
	resp, body := e.do(newReq("PUT", "/healthz", ""))
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, `"type":"invalid_request_error"`) {
		t.Errorf("PUT /healthz = %d %s, want 405 invalid_request_error", resp.StatusCode, body)
	}
	resp, body = e.do(newReq("PUT", "/admin/api/v1/clients", ""))
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, `"code":"method_not_allowed"`) {
		t.Errorf("PUT /admin/api/v1/clients = %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(newReq("GET", "/admin/nope", ""))
	if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "no route for GET /admin/nope") {
		t.Errorf("admin page 404: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestErrorKindsMapToStatus(t *testing.T) {
	e := newEdge(t)
	kinds := []struct {
		err    error
		status int
		body   string
	}{
		{providers.Errorf(providers.KindBadRequest, "bad"), 400, `"type":"invalid_request_error"`},
		{providers.Errorf(providers.KindAuth, "no key"), 401, `"type":"authentication_error"`},
		{providers.Errorf(providers.KindPermission, "model not allowed"), 403, `"type":"permission_error"`},
		{providers.Errorf(providers.KindRateLimited, "slow down"), 429, `"type":"rate_limit_error"`},
		{providers.Errorf(providers.KindUnavailable, "upstream unreachable"), 502, `"message":"upstream unreachable"`},
		{providers.Errorf(providers.KindTimeout, "upstream timed out"), 504, `"message":"upstream timed out"`},
		{providers.UpstreamError("openai", 503, "overloaded", "", "", "7"), 503, `"message":"overloaded"`},
		{providers.Errorf(providers.KindInternal, "db exploded with secret detail"), 500, `"message":"internal error"`},
		{fieldErrors{"name": "is required"}, 400, `"message":"invalid request: name: is required"`},
	}
	for i, k := range kinds {
		path := "/v1/test-kind-" + string(rune('a'+i))
		e.app.Get(path, func(*fiber.Ctx) error { return k.err })
		resp, body := e.do(newReq("GET", path, ""))
		if resp.StatusCode != k.status || !strings.Contains(body, k.body) {
			t.Errorf("%v: %d %s, want %d with %s", k.err, resp.StatusCode, body, k.status, k.body)
		}
		if k.status == 503 && resp.Header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After not passed on: %q", resp.Header.Get("Retry-After"))
		}
	}
	if strings.Contains(e.logs.String(), "db exploded") == false {
		t.Error("internal error message was not logged")
	}
}

func TestRecoverPanic(t *testing.T) {
	e := newEdge(t)
	e.app.Get("/v1/boom", func(*fiber.Ctx) error { panic("kaboom") })
	resp, body := e.do(newReq("GET", "/v1/boom", ""))
	if resp.StatusCode != 500 || !strings.Contains(body, `"message":"internal error"`) || strings.Contains(body, "kaboom") {
		t.Fatalf("panic answer: %d %s", resp.StatusCode, body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "kaboom") || !strings.Contains(logs, "goroutine") {
		t.Error("panic and stack not logged")
	}
	// The server keeps serving.
	if resp, _ := e.do(newReq("GET", "/healthz", "")); resp.StatusCode != 200 {
		t.Fatalf("after panic: %d", resp.StatusCode)
	}
}

func TestAccessLogNeverHasKeys(t *testing.T) {
	e := newEdge(t)
	e.app.Get("/v1beta/test-log", func(c *fiber.Ctx) error {
		c.Locals(localKeyHint, "WXYZ")
		return c.SendString("ok")
	})
	secret := "AIzaSyTHISISASECRETKEY"
	e.do(newReq("GET", "/v1beta/test-log?key="+secret, "", "Authorization", "Bearer sk-"+secret, "X-Request-Id", "rid-log-1"))
	logs := e.logs.String()
	if strings.Contains(logs, secret) {
		t.Fatalf("a key reached the log: %s", logs)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if strings.Contains(l, "rid-log-1") {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line["path"] != "/v1beta/test-log" || line["status"] != float64(200) || line["key_hint"] != "WXYZ" || line["method"] != "GET" {
		t.Errorf("access log line = %v", line)
	}
}

func TestHealth(t *testing.T) {
	e := newEdge(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, body := e.do(newReq("GET", p, ""))
		if resp.StatusCode != 200 || body != `{"status":"ok"}` {
			t.Errorf("%s = %d %s", p, resp.StatusCode, body)
		}
	}
	e.deps.DB.Close()
	resp, body := e.do(newReq("GET", "/readyz", ""))
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "database unreachable") {
		t.Errorf("readyz with the DB closed = %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(newReq("GET", "/healthz", "")); resp.StatusCode != 200 {
		t.Errorf("healthz with the DB closed = %d, want 200 (liveness is not readiness)", resp.StatusCode)
	}
}

func TestStaticFiles(t *testing.T) {
	e := newEdge(t)
	url := e.deps.Assets.URL(static.HTMX)
	resp, body := e.do(newReq("GET", url, ""))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") ||
		resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(body, "htmx") {
		t.Errorf("GET %s = %d %v", url, resp.StatusCode, resp.Header)
	}
	if resp, _ := e.do(newReq("GET", "/static/htmx.min.js", "")); resp.StatusCode != 404 {
		t.Errorf("unhashed asset: %d, want 404", resp.StatusCode)
	}
}

func TestRenderFragment(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	cookie := sessionCookie + "=" + s.cookie
	tests := []struct {
		name    string
		headers []string
		full    bool
	}{
		{"plain", nil, true},
		{"htmx swap", []string{"HX-Request", "true"}, false},
		{"boosted link", []string{"HX-Request", "true", "HX-Boosted", "true"}, true},
		{"history restore", []string{"HX-Request", "true", "HX-History-Restore-Request", "true"}, true},
	}
	for _, tt := range tests {
		resp, body := e.do(newReq("GET", "/admin/clients", "", append([]string{"Cookie", cookie}, tt.headers...)...))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", tt.name, resp.StatusCode)
		}
		if got := strings.Contains(body, "<html"); got != tt.full {
			t.Errorf("%s: full page = %v, want %v", tt.name, got, tt.full)
		}
		if !strings.Contains(body, `data-testid="page-title"`) {
			t.Errorf("%s: content missing", tt.name)
		}
		if !strings.Contains(resp.Header.Get("Vary"), "HX-Request") {
			t.Errorf("%s: Vary = %q", tt.name, resp.Header.Get("Vary"))
		}
	}
}
