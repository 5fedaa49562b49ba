package routes

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
)

const connUpstreamKey = "sk-up-connection-test-0123456789"

// connectionEdge is an edge with a gateway and one client on the mock upstream.
func connectionEdge(t *testing.T) (*edge, *upstreamMock, edgeSession, *db.Client) {
	up := newUpstreamMock(t)
	e := newEdge(t, withGateway(t))
	s := e.login()
	cl, _ := e.createClient(&db.Client{Name: "bot", Backend: "openai", BaseURL: up.srv.URL + "/v1", ToolMode: "passthrough",
		Active: true, ModelWhitelist: db.Strings{"gpt-4o", "custom-model"}}, connUpstreamKey)
	return e, up, s, cl
}

func TestTestConnection(t *testing.T) {
	e, up, s, cl := connectionEdge(t)
	path := "/admin/clients/" + edgeID(cl.ID) + "/test"

	// htmx gets the result alone, to swap into #test-result.
	resp, doc, body := e.post(s, path, nil, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") {
		t.Fatalf("htmx test: %d %s", resp.StatusCode, body)
	}
	ok := doc.Find(testid("test-ok"))
	if !strings.Contains(ok.Text(), "openai answered in") || !strings.Contains(ok.Text(), "2 models") ||
		doc.Find(testid("test-models")+" li").Length() != 2 {
		t.Errorf("success text %q", ok.Text())
	}
	// Only the model list was asked for: never a (paid) completion.
	if calls := up.called(); !slices.Equal(calls, []string{"GET /v1/models"}) {
		t.Errorf("upstream calls %q", calls)
	}

	// A failure says what the backend said, as text, without the upstream key it echoed.
	up.set(func(m *upstreamMock) {
		m.fail, m.failMessage = true, `Incorrect API key <script>alert("x")</script>`
	})
	resp, doc, body = e.post(s, path, nil, "HX-Request", "true")
	failed := doc.Find(testid("test-error")).Text()
	if resp.StatusCode != http.StatusOK || doc.Find(testid("test-failed")).Length() != 1 ||
		!strings.Contains(failed, `Incorrect API key <script>alert("x")</script>`) {
		t.Fatalf("failure: %d %q", resp.StatusCode, failed)
	}
	if doc.Find("script").Length() != 0 || strings.Contains(body, "<script>alert") {
		t.Error("the upstream's error message was rendered as markup")
	}
	if strings.Contains(body, connUpstreamKey) || !strings.Contains(strings.ToUpper(failed), "[REDACTED]") {
		t.Errorf("the upstream key leaked into the page: %q", failed)
	}

	// Without htmx (a plain form post) the whole page comes back with the result and what was typed.
	up.set(func(m *upstreamMock) { m.fail = false })
	form := clientFormValues("typed but not saved", "openai", up.srv.URL+"/v1")
	resp, doc, _ = e.post(s, path, form)
	if resp.StatusCode != http.StatusOK || doc.Find(testid("test-ok")).Length() != 1 ||
		doc.Find(testid("field-name")).AttrOr("value", "") != "typed but not saved" {
		t.Errorf("full page: %d, name field %q", resp.StatusCode, doc.Find(testid("field-name")).AttrOr("value", ""))
	}
	if e.client(cl.ID).Name != "bot" {
		t.Error("Test Connection saved the form")
	}
}

func TestFetchModelsBuildsThePicker(t *testing.T) {
	e, up, s, cl := connectionEdge(t)
	up.set(func(m *upstreamMock) { m.models = []string{"o3-mini", "gpt-4o", `<script>alert("m")</script>`} })
	path := "/admin/clients/" + edgeID(cl.ID) + "/fetch-models"

	// The form comes along (htmx includes it): what is ticked or typed now stays ticked.
	form := clientFormValues("bot", "openai", up.srv.URL+"/v1")
	form["model_whitelist"] = []string{"gpt-4o"}
	form.Set("model_whitelist_extra", "o3-mini\nmy-finetune")
	resp, doc, body := e.post(s, path, form, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") || doc.Find(testid("model-picker")).Length() != 1 {
		t.Fatalf("fetch: %d %s", resp.StatusCode, body)
	}
	if got := doc.Find(testid("fetch-message")).Text(); !strings.Contains(got, "Fetched 3 models from openai") {
		t.Errorf("message %q", got)
	}
	checked := map[string]bool{}
	doc.Find(`#model-options-list input[type="checkbox"]`).Each(func(_ int, in *goquery.Selection) {
		_, on := in.Attr("checked")
		checked[in.AttrOr("value", "")] = on
	})
	want := map[string]bool{"gpt-4o": true, "o3-mini": true, `<script>alert("m")</script>`: false}
	if !maps.Equal(checked, want) {
		t.Errorf("picker %v, want %v", checked, want)
	}
	if got := doc.Find(testid("field-model-whitelist-extra")).Text(); got != "my-finetune" {
		t.Errorf("free-text entries %q, want only the model the backend did not list", got)
	}
	if doc.Find("script").Length() != 0 {
		t.Error("a model name was rendered as markup")
	}
	// The list is stored as the client's model cache; the whitelist is not touched until saved.
	got := e.client(cl.ID)
	if !slices.Equal(got.ModelsCache, []string{`<script>alert("m")</script>`, "gpt-4o", "o3-mini"}) ||
		!slices.Equal(got.ModelWhitelist, []string{"gpt-4o", "custom-model"}) {
		t.Errorf("models_cache %q, whitelist %q", got.ModelsCache, got.ModelWhitelist)
	}
	if a := e.auditActions()[0]; !strings.HasPrefix(a, "client.fetch_models client:1 3 models") {
		t.Errorf("audit %q", a)
	}

	// The edit page now offers the cached models, the stored whitelist ticked.
	_, doc, _ = e.page(s, "/admin/clients/"+edgeID(cl.ID))
	if doc.Find(`#model-options-list input[value="gpt-4o"][checked]`).Length() != 1 ||
		doc.Find(testid("field-model-whitelist-extra")).Text() != "custom-model" {
		t.Error("edit page does not build the picker from the cache")
	}

	// A failing backend is reported in the picker.
	up.set(func(m *upstreamMock) { m.fail, m.failMessage = true, "bad key <b>" })
	_, doc, _ = e.post(s, path, nil, "HX-Request", "true")
	if got := doc.Find(testid("fetch-error")).Text(); !strings.Contains(got, "Could not fetch models: ") || !strings.Contains(got, "bad key <b>") {
		t.Errorf("fetch failure %q", got)
	}
}

func TestAdminAPITestAndFetchModels(t *testing.T) {
	e, up, _, cl := connectionEdge(t)
	tok := e.adminToken()
	id := edgeID(cl.ID)

	var res struct {
		OK     bool     `json:"ok"`
		Models []string `json:"models"`
		Error  *struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if resp := e.api(tok, "POST", "/admin/api/v1/clients/"+id+"/test", "", &res); resp.StatusCode != 200 || !res.OK ||
		!slices.Equal(res.Models, []string{"gpt-4o", "gpt-4o-mini"}) {
		t.Fatalf("test: %d %+v", resp.StatusCode, res)
	}
	var fetched struct {
		Models    []string `json:"models"`
		FetchedAt string   `json:"fetched_at"`
	}
	if resp := e.api(tok, "POST", "/admin/api/v1/clients/"+id+"/fetch-models", "", &fetched); resp.StatusCode != 200 ||
		!slices.Equal(fetched.Models, []string{"gpt-4o", "gpt-4o-mini"}) || fetched.FetchedAt == "" {
		t.Fatalf("fetch-models: %d %+v", resp.StatusCode, fetched)
	}
	var c clientJSON
	e.api(tok, "GET", "/admin/api/v1/clients/"+id, "", &c)
	if !slices.Equal(c.ModelsCache, []string{"gpt-4o", "gpt-4o-mini"}) || c.ModelsFetchedAt == nil {
		t.Errorf("models_cache after fetch %q", c.ModelsCache)
	}

	up.set(func(m *upstreamMock) { m.fail, m.failMessage = true, "Incorrect API key" })
	res.OK, res.Models = true, nil
	if resp := e.api(tok, "POST", "/admin/api/v1/clients/"+id+"/test", "", &res); resp.StatusCode != 200 || res.OK ||
		res.Error == nil || !strings.Contains(res.Error.Message, "Incorrect API key") || strings.Contains(res.Error.Message, connUpstreamKey) {
		t.Fatalf("failed test: %d %+v", resp.StatusCode, res)
	}
	var apiErr edgeAPIError
	resp := e.api(tok, "POST", "/admin/api/v1/clients/"+id+"/fetch-models", "", &apiErr)
	if resp.StatusCode != http.StatusBadGateway || apiErr.Error.Code != "upstream_error" ||
		!strings.HasPrefix(apiErr.Error.Message, "could not fetch models: ") {
		t.Errorf("failed fetch: %d %+v (the backend's 401 must not look like the caller's)", resp.StatusCode, apiErr)
	}
	if resp := e.api(tok, "POST", "/admin/api/v1/clients/999/test", "", &apiErr); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown client: %d", resp.StatusCode)
	}
	// Session callers need the CSRF token for these POSTs like for every change.
	s := e.login()
	if resp, _ := e.do(newReq("POST", "/admin/api/v1/clients/"+id+"/test", "", "Cookie", sessionCookie+"="+s.cookie)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("session without CSRF: %d", resp.StatusCode)
	}
}
