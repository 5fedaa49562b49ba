package routes

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
)

const upstreamSecret = "sk-upstream-VERY-SECRET-a1b2c3d4"

func TestAdminAPIAuth(t *testing.T) {
	e := newEdge(t)
	token := e.adminToken()
	s := e.login()
	cookie := sessionCookie + "=" + s.cookie
	body := `{"name":"x","backend":"openai"}`

	tests := []struct {
		name    string
		method  string
		headers []string
		status  int
		code    string
	}{
		{"no credentials", "GET", nil, 401, "unauthorized"},
		{"no credentials, change", "POST", nil, 401, "unauthorized"},
		{"unknown token", "GET", []string{"Authorization", "Bearer aigw_not-a-real-token"}, 401, "unauthorized"},
		{"basic auth", "GET", []string{"Authorization", "Basic YWRtaW46cGFzcw=="}, 401, "unauthorized"},
		{"empty bearer", "GET", []string{"Authorization", "Bearer "}, 401, "unauthorized"},
		{"client hash as token", "GET", []string{"Authorization", "Bearer " + db.HashKey(token)}, 401, "unauthorized"},
		{"bad token does not fall back to the cookie", "GET", []string{"Authorization", "Bearer nope", "Cookie", cookie}, 401, "unauthorized"},
		{"token", "GET", []string{"Authorization", "Bearer " + token}, 200, ""},
		{"token, lowercase scheme", "GET", []string{"Authorization", "bearer " + token}, 200, ""},
		{"token, change without CSRF", "POST", []string{"Authorization", "Bearer " + token}, 201, ""},
		{"session read without CSRF", "GET", []string{"Cookie", cookie}, 200, ""},
		{"session change without CSRF", "POST", []string{"Cookie", cookie}, 403, "csrf"},
		{"session change with wrong CSRF", "POST", []string{"Cookie", cookie, "X-CSRF-Token", s.csrf + "x"}, 403, "csrf"},
		{"session change with CSRF", "POST", []string{"Cookie", cookie, "X-CSRF-Token", s.csrf}, 201, ""},
		{"forged session", "GET", []string{"Cookie", sessionCookie + "=" + strings.Repeat("A", 43)}, 401, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqBody := ""
			if tt.method == "POST" {
				reqBody = body
			}
			headers := append([]string{"Content-Type", "application/json"}, tt.headers...)
			resp, raw := e.do(newReq(tt.method, "/admin/api/v1/clients", reqBody, headers...))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, raw)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("content type %q", resp.Header.Get("Content-Type"))
			}
			if tt.code != "" && !strings.Contains(raw, `"code":"`+tt.code+`"`) {
				t.Errorf("body %s, want code %s", raw, tt.code)
			}
		})
	}
	// Every route is guarded, not just the list.
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/api/v1/clients/1"}, {"PATCH", "/admin/api/v1/clients/1"},
		{"DELETE", "/admin/api/v1/clients/1"}, {"POST", "/admin/api/v1/clients/1/rotate-key"},
	} {
		if resp, _ := e.do(newReq(r.method, r.path, "{}")); resp.StatusCode != 401 {
			t.Errorf("%s %s without credentials: %d", r.method, r.path, resp.StatusCode)
		}
	}
}

func TestClientLifecycleThroughAPI(t *testing.T) {
	e := newEdge(t)
	e.deps.Config.Defaults.Quota.MaxOutputTokens = 4096 // defaults come from the config
	token := e.adminToken()

	// Every response body is checked: the upstream key never comes back.
	var bodies []string
	call := func(method, path, body string, out any) *http.Response {
		t.Helper()
		req := newReq(method, path, body, "Authorization", "Bearer "+token, "Content-Type", "application/json")
		resp, raw := e.do(req)
		bodies = append(bodies, raw)
		if out != nil && raw != "" {
			if err := json.Unmarshal([]byte(raw), out); err != nil {
				t.Fatalf("%s %s: %v in %s", method, path, err, raw)
			}
		}
		return resp
	}

	var created clientJSON
	resp := call("POST", "/admin/api/v1/clients", `{"name":" app ","backend":"openai","upstream_key":"`+upstreamSecret+`",
		"model_whitelist":["gpt-4o"," gpt-4o ","gpt-4o-mini",""],"default_model":"gpt-4o","rate_limit":{"requests_per_minute":5}}`, &created)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, bodies[len(bodies)-1])
	}
	if !strings.HasPrefix(created.Key, "gm_") || len(created.Key) < 3+43 || created.KeyHint != created.Key[len(created.Key)-4:] {
		t.Fatalf("created key %q hint %q", created.Key, created.KeyHint)
	}
	if created.Name != "app" || !created.Active || created.ToolMode != "passthrough" || created.PromptCache != "auto" || created.ResponsesAPI != "translate" || created.UpstreamKeyHint != "c3d4" ||
		strings.Join(created.ModelWhitelist, ",") != "gpt-4o,gpt-4o-mini" {
		t.Fatalf("created = %+v", created)
	}
	wantLimits := gateway.DefaultConfig().Defaults
	wantLimits.RateLimit.RequestsPerMinute = 5
	wantLimits.Quota.MaxOutputTokens = 4096
	if created.RateLimit != wantLimits.RateLimit || created.Quota != wantLimits.Quota {
		t.Fatalf("limits %+v %+v, want %+v", created.RateLimit, created.Quota, wantLimits)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the response with the key may be cached")
	}

	// Stored: key hash only, upstream key encrypted.
	row, err := e.deps.Clients.Get(context.Background(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.KeyHash != db.HashKey(created.Key) || strings.Contains(string(row.UpstreamKey), "SECRET") {
		t.Fatal("client stored with a clear key")
	}
	if plain, err := e.deps.Keyring.Decrypt(row.UpstreamKey); err != nil || plain != upstreamSecret {
		t.Fatalf("stored upstream key decrypts to %q, %v", plain, err)
	}

	var got clientJSON
	if resp := call("GET", "/admin/api/v1/clients/"+edgeID(created.ID), "", &got); resp.StatusCode != 200 || got.Key != "" || got.Name != "app" {
		t.Fatalf("get: %d %+v", resp.StatusCode, got)
	}
	var list struct{ Clients []clientJSON }
	if resp := call("GET", "/admin/api/v1/clients", "", &list); resp.StatusCode != 200 || len(list.Clients) != 1 || list.Clients[0].Key != "" {
		t.Fatalf("list: %d %+v", resp.StatusCode, list)
	}

	// PATCH changes only what it names.
	var patched clientJSON
	resp = call("PATCH", "/admin/api/v1/clients/"+edgeID(created.ID), `{"name":"renamed","active":false,"prompt_cache":"off","quota":{"max_requests_per_day":0}}`, &patched)
	if resp.StatusCode != 200 || patched.Name != "renamed" || patched.Active || patched.Quota.MaxRequestsPerDay != 0 ||
		patched.PromptCache != "off" || e.client(created.ID).PromptCache != "off" ||
		patched.Quota.MaxOutputTokens != 4096 || patched.RateLimit.RequestsPerMinute != 5 || patched.UpstreamKeyHint != "c3d4" ||
		patched.DefaultModel != "gpt-4o" {
		t.Fatalf("patch: %d %+v", resp.StatusCode, patched)
	}
	if p, _ := e.deps.Keyring.Decrypt(e.client(created.ID).UpstreamKey); p != upstreamSecret {
		t.Fatal("an unrelated PATCH changed the upstream key")
	}
	// Replace, then remove the upstream key.
	call("PATCH", "/admin/api/v1/clients/"+edgeID(created.ID), `{"upstream_key":"sk-other-SECRET-zzzz9999"}`, &patched)
	if patched.UpstreamKeyHint != "9999" {
		t.Fatalf("replaced hint %q", patched.UpstreamKeyHint)
	}
	call("PATCH", "/admin/api/v1/clients/"+edgeID(created.ID), `{"upstream_key":""}`, &patched)
	if patched.UpstreamKeyHint != "" || e.client(created.ID).UpstreamKey != nil {
		t.Fatal("empty upstream_key did not remove the key")
	}

	var rotated clientJSON
	resp = call("POST", "/admin/api/v1/clients/"+edgeID(created.ID)+"/rotate-key", `{"key_prefix":"sk-ant-"}`, &rotated)
	if resp.StatusCode != 200 || !strings.HasPrefix(rotated.Key, "sk-ant-") || rotated.Key == created.Key || rotated.KeyPrefix != "sk-ant-" {
		t.Fatalf("rotate: %d %+v", resp.StatusCode, rotated)
	}
	if _, err := e.deps.Clients.GetByKeyHash(context.Background(), db.HashKey(created.Key)); !errors.Is(err, db.ErrNotFound) {
		t.Fatal("the old key still resolves after rotation")
	}
	resp = call("POST", "/admin/api/v1/clients/"+edgeID(created.ID)+"/rotate-key", "", &rotated)
	if resp.StatusCode != 200 || !strings.HasPrefix(rotated.Key, "sk-ant-") {
		t.Fatalf("rotate without body keeps the prefix: %d %+v", resp.StatusCode, rotated)
	}

	if resp := call("DELETE", "/admin/api/v1/clients/"+edgeID(created.ID), "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	var gone edgeAPIError
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/admin/api/v1/clients/" + edgeID(created.ID), ""},
		{"PATCH", "/admin/api/v1/clients/" + edgeID(created.ID), `{"name":"x"}`},
		{"DELETE", "/admin/api/v1/clients/" + edgeID(created.ID), ""},
		{"POST", "/admin/api/v1/clients/" + edgeID(created.ID) + "/rotate-key", ""},
		{"GET", "/admin/api/v1/clients/abc", ""},
	} {
		if resp := call(r.method, r.path, r.body, &gone); resp.StatusCode != 404 || gone.Error.Code != "not_found" {
			t.Errorf("%s %s after delete: %d %+v", r.method, r.path, resp.StatusCode, gone)
		}
	}

	for i, b := range bodies {
		if strings.Contains(b, "SECRET") || strings.Contains(b, `"upstream_key"`) {
			t.Errorf("response %d leaks the upstream key: %s", i, b)
		}
	}

	// Six changes: create, 3 patches, 2 rotations, delete → 7 reloads and 7 audit rows.
	if got := e.changes(); got != 7 {
		t.Errorf("ClientsChanged ran %d times, want 7", got)
	}
	audit, err := e.deps.Audit.List(context.Background(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		if strings.HasPrefix(a.Action, "client.") {
			actions = append(actions, a.Action)
			if a.Actor != "token:test" || a.Target != "client:"+edgeID(created.ID) || strings.Contains(a.Detail, "SECRET") {
				t.Errorf("audit row %+v", a)
			}
		}
	}
	want := "client.delete client.rotate_key client.rotate_key client.update client.update client.update client.create"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit actions %v\nwant %s", actions, want)
	}
}

func TestClientPatchWithoutChangeIsNotAudited(t *testing.T) {
	e := newEdge(t)
	token := e.adminToken()
	var c clientJSON
	e.api(token, "POST", "/admin/api/v1/clients", `{"name":"a","backend":"ollama"}`, &c)
	if resp := e.api(token, "PATCH", "/admin/api/v1/clients/"+edgeID(c.ID), `{"name":"a"}`, &c); resp.StatusCode != 200 {
		t.Fatalf("no-op patch: %d", resp.StatusCode)
	}
	if e.changes() != 1 {
		t.Errorf("a no-op PATCH reloaded the gateway (%d reloads)", e.changes())
	}
}

func TestClientValidation(t *testing.T) {
	e := newEdge(t)
	token := e.adminToken()
	var existing clientJSON
	e.api(token, "POST", "/admin/api/v1/clients", `{"name":"a","backend":"openai","model_whitelist":["m1"]}`, &existing)

	tests := []struct {
		name, method, body string
		field, want        string
	}{
		{"name required", "POST", `{"backend":"openai"}`, "name", "is required"},
		{"blank name", "POST", `{"name":"  ","backend":"openai"}`, "name", "is required"},
		{"backend required", "POST", `{"name":"a"}`, "backend", "is required: one of gemini, openai, anthropic"},
		{"unknown backend", "POST", `{"name":"a","backend":"bard"}`, "backend", `"bard" is not a known provider`},
		{"azure needs base_url", "POST", `{"name":"a","backend":"azure","azure_api_version":"2024-10-21"}`, "base_url", "is required for backend azure"},
		{"azure needs api version", "POST", `{"name":"a","backend":"azure","base_url":"https://r.openai.azure.com"}`, "azure_api_version", "is required for backend azure"},
		{"compatible needs base_url", "POST", `{"name":"a","backend":"openai-compatible"}`, "base_url", "is required for backend openai-compatible"},
		{"base_url scheme", "POST", `{"name":"a","backend":"openai","base_url":"ftp://x"}`, "base_url", "must start with http:// or https://"},
		{"base_url credentials", "POST", `{"name":"a","backend":"openai","base_url":"https://u:p@x.example"}`, "base_url", "must not contain credentials"},
		{"mcp_servers bad name", "POST", `{"name":"a","backend":"openai","tool_mode":"gateway","mcp_servers":["Bad__Name"]}`, "mcp_servers", `"Bad__Name" is not an MCP server name`},
		{"tool_mode unknown", "POST", `{"name":"a","backend":"openai","tool_mode":"auto"}`, "tool_mode", `"auto" is not a tool mode`},
		{"negative rate limit", "POST", `{"name":"a","backend":"openai","rate_limit":{"requests_per_hour":-1}}`, "rate_limit.requests_per_hour", "must be 0 (no limit) or more"},
		{"negative quota", "POST", `{"name":"a","backend":"openai","quota":{"max_input_tokens":-5}}`, "quota.max_input_tokens", "must be 0 (no limit) or more"},
		{"bad key prefix", "POST", `{"name":"a","backend":"openai","key_prefix":"pk_"}`, "key_prefix", "must be one of gm_, sk-, sk-ant-"},
		{"default model outside whitelist", "POST", `{"name":"a","backend":"openai","model_whitelist":["m1"],"default_model":"m2"}`, "default_model", `"m2" is not in model_whitelist`},
		{"upstream key with newline", "POST", `{"name":"a","backend":"openai","upstream_key":"sk-a\nX-Evil: 1"}`, "upstream_key", "must not contain spaces"},
		{"prompt_cache unknown", "POST", `{"name":"a","backend":"anthropic","prompt_cache":"always"}`, "prompt_cache", `"always" is not a prompt cache mode`},
		{"patch prompt_cache empty", "PATCH", `{"prompt_cache":""}`, "prompt_cache", `"" is not a prompt cache mode`},
		{"responses_api native on anthropic", "POST", `{"name":"a","backend":"anthropic","responses_api":"native"}`, "responses_api", `"native" is for backends openai-compatible, ollama, lmstudio; backend anthropic`},
		{"responses_api unknown", "POST", `{"name":"a","backend":"ollama","responses_api":"forward"}`, "responses_api", `"forward" is not a Responses API mode`},
		{"patch responses_api native on openai", "PATCH", `{"responses_api":"native"}`, "responses_api", `"native" is for backends`},
		{"patch tool_mode unknown", "PATCH", `{"tool_mode":"builtin"}`, "tool_mode", `"builtin" is not a tool mode; use "passthrough"`},
		{"patch clears name", "PATCH", `{"name":""}`, "name", "is required"},
		{"patch key prefix", "PATCH", `{"key_prefix":"sk-"}`, "key_prefix", "changes only with a new key"},
		{"patch default model outside whitelist", "PATCH", `{"default_model":"zzz"}`, "default_model", `"zzz" is not in model_whitelist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/admin/api/v1/clients"
			if tt.method == "PATCH" {
				path += "/" + edgeID(existing.ID)
			}
			var got edgeAPIError
			resp := e.api(token, tt.method, path, tt.body, &got)
			if resp.StatusCode != 400 || got.Error.Code != "invalid_request" {
				t.Fatalf("status %d code %q, want 400 invalid_request", resp.StatusCode, got.Error.Code)
			}
			if !strings.Contains(got.Error.Fields[tt.field], tt.want) {
				t.Errorf("fields = %v\nwant %s: …%s…", got.Error.Fields, tt.field, tt.want)
			}
			if !strings.Contains(got.Error.Message, tt.field+": ") {
				t.Errorf("message %q does not name %s", got.Error.Message, tt.field)
			}
		})
	}
	if after := e.client(existing.ID); after.ToolMode != "passthrough" || after.Name != "a" {
		t.Errorf("a refused PATCH changed the client: %+v", after)
	}
	if n := len(e.clientRows()); n != 1 {
		t.Errorf("refused creates stored clients: %d", n)
	}

	parse := []struct{ name, body, want string }{
		{"bad json", `{"name":`, "invalid JSON body: unexpected EOF"},
		{"unknown field", `{"name":"a","backend":"openai","modle":"x"}`, `invalid JSON body: json: unknown field "modle"`},
		{"wrong type", `{"name":1}`, "invalid JSON body: json: cannot unmarshal number"},
		{"trailing data", `{"name":"a","backend":"openai"} {}`, "unexpected data after the object"},
		{"empty body", ``, "request body must be a JSON object"},
	}
	for _, tt := range parse {
		var got edgeAPIError
		resp := e.api(token, "POST", "/admin/api/v1/clients", tt.body, &got)
		if resp.StatusCode != 400 || !strings.Contains(got.Error.Message, tt.want) {
			t.Errorf("%s: %d %q, want 400 %q", tt.name, resp.StatusCode, got.Error.Message, tt.want)
		}
	}

	// Every backend of SPEC §5 is accepted, with what it needs.
	for _, b := range backends() {
		body := `{"name":"` + b + `","backend":"` + b + `"`
		if backendNeedsBaseURL(b) {
			body += `,"base_url":"https://upstream.example/v1"`
		}
		if b == "azure" {
			body += `,"azure_api_version":"2024-10-21"`
		}
		if resp := e.api(token, "POST", "/admin/api/v1/clients", body+"}", nil); resp.StatusCode != 201 {
			t.Errorf("backend %s refused: %d", b, resp.StatusCode)
		}
	}
	// Azure's v1 API needs no api-version.
	v1 := `{"name":"azure-v1","backend":"azure","base_url":"https://r.openai.azure.com/openai/v1/"}`
	if resp := e.api(token, "POST", "/admin/api/v1/clients", v1, nil); resp.StatusCode != 201 {
		t.Errorf("azure with an /openai/v1 base_url and no api version refused: %d", resp.StatusCode)
	}
}

func TestClientsChangedFailureStillSucceeds(t *testing.T) {
	e := newEdge(t, func(d *Deps) {
		d.ClientsChanged = func(context.Context) error { return errors.New("cache reload exploded") }
	})
	token := e.adminToken()
	if resp := e.api(token, "POST", "/admin/api/v1/clients", `{"name":"a","backend":"openai"}`, nil); resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "cache reload exploded") {
		t.Error("the failed reload was not logged")
	}
	// Nil hook is fine too.
	e2 := newEdge(t, func(d *Deps) { d.ClientsChanged = nil })
	if resp := e2.api(e2.adminToken(), "POST", "/admin/api/v1/clients", `{"name":"a","backend":"openai"}`, nil); resp.StatusCode != 201 {
		t.Fatalf("create with nil hook: %d", resp.StatusCode)
	}
}

func TestClientsPageListsClients(t *testing.T) {
	e := newEdge(t)
	token := e.adminToken()
	e.api(token, "POST", "/admin/api/v1/clients", `{"name":"<b>bold</b>","backend":"mistral","upstream_key":"`+upstreamSecret+`"}`, nil)
	s := e.login()
	_, body := e.do(newReq("GET", "/admin/clients", "", "Cookie", sessionCookie+"="+s.cookie))
	if !strings.Contains(body, "&lt;b&gt;bold&lt;/b&gt;") || !strings.Contains(body, "mistral") || strings.Contains(body, "SECRET") {
		t.Errorf("clients page: %s", body)
	}
}
