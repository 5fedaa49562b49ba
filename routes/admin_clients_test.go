package routes

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
)

func TestClientCreateForm(t *testing.T) {
	e := newEdge(t)
	s := e.login()

	// The empty form carries the config's defaults.
	_, doc, _ := e.page(s, "/admin/clients/new")
	if got := doc.Find(testid("field-rate_limit.requests_per_minute")).AttrOr("value", ""); got != "60" {
		t.Errorf("default requests per minute %q", got)
	}
	if got := doc.Find(testid("field-quota.max_output_tokens")).AttrOr("value", ""); got != "8192" {
		t.Errorf("default max output tokens %q", got)
	}

	form := clientFormValues("billing-bot", "openai", "")
	form.Set("description", "Invoices <and> reminders")
	form.Set("upstream_key", "sk-live-upstream-secret-0123456789")
	form.Set("key_prefix", "sk-")
	form.Set("rate_limit.requests_per_minute", "5")
	form["model_whitelist"] = []string{"gpt-4o"}
	form.Set("model_whitelist_extra", "gpt-4o-mini\no3-mini, gpt-4o")
	form.Set("default_model", "gpt-4o-mini")
	form.Set("prompt_cache", "off")
	resp, _, body := e.post(s, "/admin/clients", form)
	keyPage := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(keyPage, "/admin/clients/") {
		t.Fatalf("create: %d → %q %s", resp.StatusCode, keyPage, body)
	}
	resp, doc, body = e.page(s, keyPage)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("key page: %d %s", resp.StatusCode, body)
	}
	key := doc.Find(testid("new-key")).AttrOr("value", "")
	if !strings.HasPrefix(key, "sk-") || len(key) < 40 || doc.Find(testid("copy-new-key")).AttrOr("data-copy", "") != "new-key" {
		t.Fatalf("key page: key %q, copy button %q", key, doc.Find(testid("copy-new-key")).AttrOr("data-copy", ""))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the key page may be cached: %q", cc)
	}
	// Shown once: a reload says it is gone, and nothing is created twice.
	if _, again, body := e.page(s, keyPage); again.Find(testid("key-gone")).Length() != 1 || strings.Contains(body, key) {
		t.Errorf("the key page opened again shows %q", again.Find(testid("key-card")).Text())
	}
	rows := e.clientRows()
	if len(rows) != 1 {
		t.Fatalf("%d clients", len(rows))
	}
	cl := rows[0]
	if cl.KeyHash != db.HashKey(key) || cl.Description != "Invoices <and> reminders" || cl.RequestsPerMinute != 5 ||
		cl.UpstreamKeyHint != "6789" || !slices.Equal(cl.ModelWhitelist, []string{"gpt-4o", "gpt-4o-mini", "o3-mini"}) ||
		cl.DefaultModel != "gpt-4o-mini" || !cl.Active || cl.MaxInputTokensPerDay != 1_000_000 || cl.PromptCache != "off" {
		t.Errorf("stored client %+v", cl)
	}
	if strings.Contains(body, "sk-live-upstream-secret") {
		t.Error("the upstream key was rendered")
	}
	if e.changes() != 1 || !strings.HasPrefix(e.auditActions()[0], "client.create client:1 name=billing-bot") {
		t.Errorf("changes %d, audit %q", e.changes(), e.auditActions())
	}
}

func TestClientCreateShowsFieldErrorsInline(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	form := clientFormValues("", "openai", "ftp://example.com")
	form.Set("description", "kept as typed")
	form.Set("rate_limit.requests_per_hour", "lots")
	form.Set("quota.max_output_tokens", "-1")
	form.Set("tool_mode", "builtin")
	form.Set("prompt_cache", "sometimes")
	form.Set("key_prefix", "xx_")
	resp, doc, _ := e.post(s, "/admin/clients", form, "HX-Request", "true", "HX-Boosted", "true")
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422 (htmx swaps it in)", resp.StatusCode)
	}
	for field, want := range map[string]string{
		"name":                           "is required",
		"base_url":                       "must start with http:// or https://",
		"rate_limit.requests_per_hour":   "must be a whole number",
		"quota.max_output_tokens":        "must be 0 (no limit) or more",
		"tool_mode":                      `"builtin" is not a tool mode`,
		"prompt_cache":                   `"sometimes" is not a prompt cache mode`,
		"key_prefix":                     "must be one of gm_, sk-, sk-ant-",
		"rate_limit.requests_per_minute": "",
	} {
		got := doc.Find(testid("error-" + field)).Text()
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("error of %s = %q, want %q", field, got, want)
		}
	}
	if got := doc.Find(testid("field-description")).AttrOr("value", ""); got != "kept as typed" {
		t.Errorf("typed description lost: %q", got)
	}
	if got := doc.Find(testid("field-rate_limit.requests_per_hour")).AttrOr("value", ""); got != "lots" {
		t.Errorf("typed limit lost: %q", got)
	}
	if doc.Find(testid("form-errors")).Length() != 1 || len(e.clientRows()) != 0 || e.changes() != 0 {
		t.Error("an invalid client was saved")
	}
}

func TestClientEditNeverRendersTheUpstreamKey(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	const secret = "sk-live-upstream-secret-0123456789"
	cl, _ := e.createClient(&db.Client{Name: "bot", Backend: "openai", ToolMode: "passthrough", PromptCache: "off", Active: true}, secret)
	resp, doc, body := e.page(s, "/admin/clients/"+edgeID(cl.ID))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if v := doc.Find(testid("field-prompt-cache")+" option[selected]").AttrOr("value", ""); v != "off" {
		t.Errorf("prompt cache shown as %q, want off", v)
	}
	if strings.Contains(body, secret) || strings.Contains(body, "upstream-secret") {
		t.Fatal("the upstream key is in the page")
	}
	if v := doc.Find(testid("field-upstream-key")).AttrOr("value", "?"); v != "" {
		t.Errorf("upstream key field value %q", v)
	}
	if !strings.Contains(doc.Find(testid("upstream-key-hint")).Text(), "6789") {
		t.Errorf("hint %q", doc.Find(testid("upstream-key-hint")).Text())
	}
	if resp, _, _ := e.page(s, "/admin/clients/999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown client: %d", resp.StatusCode)
	}
}

func TestClientUpdateForm(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	const secret = "sk-live-upstream-secret-0123456789"
	cl, _ := e.createClient(&db.Client{Name: "bot", Backend: "openai", ToolMode: "passthrough", Active: true,
		ModelsCache: db.Strings{"gpt-4o", "gpt-4o-mini"}}, secret)
	path := "/admin/clients/" + edgeID(cl.ID)
	before := e.changes()

	form := clientFormValues("bot 2", "openai-compatible", "https://llm.internal.example/v1")
	form.Set("system_prompt", "Be brief.")
	form["model_whitelist"] = []string{"gpt-4o-mini"}
	form.Set("default_model", "gpt-4o-mini")
	form.Set("quota.max_requests_per_day", "0")
	resp, _, body := e.post(s, path, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"?notice=saved" {
		t.Fatalf("save: %d → %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	got := e.client(cl.ID)
	if got.Name != "bot 2" || got.Backend != "openai-compatible" || got.BaseURL != "https://llm.internal.example/v1" ||
		got.SystemPrompt != "Be brief." || got.MaxRequestsPerDay != 0 || !slices.Equal(got.ModelWhitelist, []string{"gpt-4o-mini"}) {
		t.Errorf("stored %+v", got)
	}
	if k, _ := e.deps.Keyring.Decrypt(got.UpstreamKey); k != secret {
		t.Error("an empty upstream key field changed the stored key")
	}
	if e.changes() != before+1 {
		t.Errorf("ClientsChanged ran %d times", e.changes()-before)
	}
	if a := e.auditActions()[0]; !strings.HasPrefix(a, "client.update client:1 changed name, backend, base_url, default_model, system_prompt, model_whitelist") {
		t.Errorf("audit %q", a)
	}
	_, doc, _ := e.page(s, path+"?notice=saved")
	if !strings.Contains(doc.Find(testid("notice")).Text(), "Changes saved") {
		t.Error("no confirmation after saving")
	}
	if doc.Find(`#model-options-list input[value="gpt-4o-mini"]`).AttrOr("checked", "no") == "no" ||
		doc.Find(`#model-options-list input[value="gpt-4o"]`).AttrOr("checked", "no") != "no" {
		t.Error("the picker does not show the saved whitelist")
	}

	// Replace, then remove, the upstream key.
	form.Set("upstream_key", "sk-new-upstream-key-9999")
	e.post(s, path, form)
	if got := e.client(cl.ID); got.UpstreamKeyHint != "9999" {
		t.Errorf("replaced key hint %q", got.UpstreamKeyHint)
	}
	form.Set("upstream_key", "")
	form.Set("remove_upstream_key", "true")
	e.post(s, path, form)
	if got := e.client(cl.ID); len(got.UpstreamKey) != 0 || got.UpstreamKeyHint != "" {
		t.Error("remove did not remove the key")
	}

	// The JSON API's rules apply: a default model outside the whitelist is refused, nothing saved.
	bad := clientFormValues("bot 3", "openai", "")
	bad["model_whitelist"] = []string{"gpt-4o"}
	bad.Set("default_model", "o3-mini")
	resp, doc, _ = e.post(s, path, bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(testid("error-default_model")).Text(), "not in model_whitelist") {
		t.Fatalf("invalid update: %d %q", resp.StatusCode, doc.Find(testid("error-default_model")).Text())
	}
	if e.client(cl.ID).Name != "bot 2" {
		t.Error("an invalid update was saved")
	}
	if doc.Find(testid("field-name")).AttrOr("value", "") != "bot 3" {
		t.Error("the form did not keep what was typed")
	}
}

func TestClientFormNeedsCSRF(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	cl, _ := e.createClient(&db.Client{Name: "bot", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	for _, path := range []string{"/admin/clients", "/admin/clients/1", "/admin/clients/1/active", "/admin/clients/1/rotate-key",
		"/admin/clients/1/delete", "/admin/clients/1/test", "/admin/clients/1/fetch-models"} {
		form := clientFormValues("x", "openai", "")
		form.Set("active", "false")
		resp, _ := e.do(newReq("POST", path, form.Encode(), "Cookie", sessionCookie+"="+s.cookie,
			"Content-Type", "application/x-www-form-urlencoded"))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without CSRF token: %d", path, resp.StatusCode)
		}
	}
	if got := e.client(cl.ID); got.Name != "bot" || !got.Active || len(e.clientRows()) != 1 {
		t.Error("a request without CSRF token changed something")
	}
}

func TestClientEnableDisableRotateDelete(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	cl, oldKey := e.createClient(&db.Client{Name: "bot <b>", Backend: "openai", ToolMode: "passthrough", Active: true}, "")
	id := edgeID(cl.ID)

	resp, _, _ := e.post(s, "/admin/clients/"+id+"/active", url.Values{"active": {"false"}, "back": {"/admin/clients"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/clients?notice=disabled" || e.client(cl.ID).Active {
		t.Fatalf("disable: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc, _ := e.page(s, "/admin/clients?notice=disabled")
	if doc.Find(testid("client-status")).Text() != "disabled" || doc.Find(testid("client-enable")).Length() != 1 {
		t.Error("list does not show the client as disabled")
	}
	// back must be an admin page of this site.
	resp, _, _ = e.post(s, "/admin/clients/"+id+"/active", url.Values{"active": {"true"}, "back": {"https://evil.example/"}})
	if resp.Header.Get("Location") != "/admin/clients/"+id+"?notice=enabled" || !e.client(cl.ID).Active {
		t.Errorf("enable: → %q", resp.Header.Get("Location"))
	}
	if a := e.auditActions(); !strings.HasPrefix(a[0], "client.enable") || !strings.HasPrefix(a[1], "client.disable") {
		t.Errorf("audit %q", a[:2])
	}

	resp, doc, _ = e.postRedirect(s, "/admin/clients/"+id+"/rotate-key", url.Values{"key_prefix": {"sk-ant-"}})
	newKey := doc.Find(testid("new-key")).AttrOr("value", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(newKey, "sk-ant-") || newKey == oldKey {
		t.Fatalf("rotate: %d key %q", resp.StatusCode, newKey)
	}
	if got := e.client(cl.ID); got.KeyHash != db.HashKey(newKey) {
		t.Error("the shown key is not the stored one")
	}
	if !strings.Contains(doc.Find(testid("key-card")).Text(), "The old key no longer works") {
		t.Error("rotation page does not say the old key stopped working")
	}

	_, doc, _ = e.page(s, "/admin/clients/"+id+"/delete")
	if doc.Find(testid("delete-name")).Text() != "bot <b>" || doc.Find("b").Length() != 0 {
		t.Errorf("confirmation names %q", doc.Find(testid("delete-name")).Text())
	}
	if len(e.clientRows()) != 1 {
		t.Fatal("the confirmation page deleted the client")
	}
	resp, _, _ = e.post(s, "/admin/clients/"+id+"/delete", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/clients?notice=deleted" || len(e.clientRows()) != 0 {
		t.Fatalf("delete: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.HasPrefix(e.auditActions()[0], "client.delete client:"+id+" name=bot <b>") {
		t.Errorf("audit %q", e.auditActions()[0])
	}
	if resp, _, _ := e.post(s, "/admin/clients/"+id+"/delete", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete twice: %d", resp.StatusCode)
	}
}

func TestClientsListShowsUsageAgainstQuota(t *testing.T) {
	up := newUpstreamMock(t)
	e := newEdge(t, withGateway(t))
	s := e.login()
	_, key := e.createClient(&db.Client{Name: "bot", Backend: "openai", BaseURL: up.srv.URL + "/v1", ToolMode: "passthrough",
		Active: true, DefaultModel: "gpt-4o", MaxRequestsPerDay: 3, MaxInputTokensPerDay: 0, MaxOutputTokensPerDay: 1000}, "sk-up-0123456789")
	for range 3 {
		resp, body := e.do(newReq("POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`,
			"Authorization", "Bearer "+key, "Content-Type", "application/json"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("chat: %d %s", resp.StatusCode, body)
		}
	}
	_, doc, _ := e.page(s, "/admin/clients")
	row := doc.Find(testid("client-row"))
	for meter, want := range map[string]string{"requests": "3 / 3", "input": "33 · no limit", "output": "9 / 1,000"} {
		if got := row.Find(testid("meter-" + meter)).Text(); !strings.Contains(got, want) {
			t.Errorf("meter %s = %q, want %q", meter, got, want)
		}
	}
	if !strings.Contains(row.Find(testid("meter-requests")).AttrOr("class", ""), "level-full") ||
		!strings.Contains(row.Find(testid("meter-output")).AttrOr("class", ""), "level-ok") {
		t.Errorf("meter levels: requests %q, output %q", row.Find(testid("meter-requests")).AttrOr("class", ""),
			row.Find(testid("meter-output")).AttrOr("class", ""))
	}
}

// The client form shows each backend's own fields: its base URL default or that it needs one,
// and the Azure API version only for azure (also after a failed submission without JavaScript).
func TestClientFormFieldsPerBackend(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	_, doc, _ := e.page(s, "/admin/clients/new")
	if _, hidden := doc.Find(testid("azure-api-version-field")).Attr("hidden"); !hidden {
		t.Error("the Azure API version shows for a new client of another backend")
	}
	if note := doc.Find(testid("base-url-note")).Text(); strings.Contains(note, "required") {
		t.Errorf("base URL note for the default backend %q", note)
	}
	if got := doc.Find(`option[value="openai-compatible"]`).AttrOr("data-note", ""); got != "(required for this backend)" {
		t.Errorf("openai-compatible's base URL note %q", got)
	}
	_, doc, _ = e.post(s, "/admin/clients", clientFormValues("az", "azure", ""))
	if _, hidden := doc.Find(testid("azure-api-version-field")).Attr("hidden"); hidden {
		t.Error("the Azure API version is hidden on an azure client's form")
	}
	if note := doc.Find(testid("base-url-note")).Text(); note != "(required for this backend)" {
		t.Errorf("azure's base URL note %q", note)
	}
}

// The Responses API mode shows only for openai-compatible, ollama and lmstudio; a native left in
// the hidden select after switching to another backend is stored as translate.
func TestClientFormResponsesAPI(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	_, doc, _ := e.page(s, "/admin/clients/new")
	field := doc.Find(testid("responses-api-field"))
	if _, hidden := field.Attr("hidden"); !hidden || field.AttrOr("data-only-backend", "") != "openai-compatible ollama lmstudio" {
		t.Errorf("Responses API field for the default backend: hidden=%v only=%q", hidden, field.AttrOr("data-only-backend", ""))
	}
	form := clientFormValues("local", "ollama", "")
	form.Set("responses_api", "native")
	if resp, _, body := e.post(s, "/admin/clients", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create ollama: %d %s", resp.StatusCode, body)
	}
	form = clientFormValues("claude", "anthropic", "")
	form.Set("responses_api", "native")
	if resp, _, body := e.post(s, "/admin/clients", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create anthropic: %d %s", resp.StatusCode, body)
	}
	rows := e.clientRows()
	if len(rows) != 2 || rows[0].ResponsesAPI != "native" || rows[1].ResponsesAPI != "translate" {
		t.Fatalf("stored %+v", rows)
	}
	_, doc, _ = e.page(s, "/admin/clients/"+edgeID(rows[0].ID))
	if _, hidden := doc.Find(testid("responses-api-field")).Attr("hidden"); hidden ||
		doc.Find(testid("field-responses-api")).Find("option[selected]").AttrOr("value", "") != "native" {
		t.Errorf("the ollama client's form does not show native: %s", doc.Find(testid("responses-api-field")).Text())
	}
}
