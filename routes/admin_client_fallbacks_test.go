package routes

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
)

func fallbackForm(base url.Values, rows ...map[string][]string) url.Values {
	f := url.Values{}
	for k, v := range base {
		f[k] = v
	}
	f.Set("fallback_count", strconv.Itoa(len(rows)))
	for i, r := range rows {
		for k, v := range r {
			f["fallback_"+strconv.Itoa(i)+"_"+k] = v
		}
	}
	return f
}

func fallbackBackends(doc *goquery.Document) []string {
	var out []string
	doc.Find(testid("fallback-row")).Each(func(_ int, r *goquery.Selection) {
		out = append(out, r.Find(testid("fallback-backend")+" option[selected]").AttrOr("value", "")+
			"@"+r.Find(`input[type=hidden][name$="_origin"]`).AttrOr("value", ""))
	})
	return out
}

// The client form edits the ordered fallbacks (add, reorder, remove), each target's keys (add,
// keep by hint, drop) and tests a fallback's connection on its own.
func TestClientFormEditsFallbacksAndKeys(t *testing.T) {
	m := newUpstreamMock(t)
	e := newEdge(t, withGateway(t))
	s := e.login()
	cl, _ := e.createClient(&db.Client{Name: "app", Backend: "openai-compatible", BaseURL: m.srv.URL + "/v1", Active: true}, "sk-primary-0123456789")
	path := "/admin/clients/" + strconv.FormatInt(cl.ID, 10)
	base := clientFormValues("app", "openai-compatible", m.srv.URL+"/v1")
	stored := func() *db.Client {
		c, err := e.deps.Clients.Get(context.Background(), cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	_, doc, _ := e.page(s, path)
	if doc.Find(testid("fallbacks")).Length() != 1 || doc.Find(testid("fallback-row")).Length() != 0 {
		t.Fatal("the edit page has no empty fallbacks section")
	}
	// Add a row: the form comes back with it, nothing stored.
	add := fallbackForm(base)
	add.Set("fallback_op", "add")
	_, doc, _ = e.post(s, path+"/fallbacks", add)
	if n := doc.Find(testid("fallback-row")).Length(); n != 1 || len(stored().Fallbacks) != 0 {
		t.Fatalf("after add: %d rows, %d stored; want 1 and 0", n, len(stored().Fallbacks))
	}

	// Save two fallbacks and a further key for the client's own backend.
	save := fallbackForm(base,
		map[string][]string{"origin": {"-1"}, "backend": {"openai-compatible"}, "base_url": {m.srv.URL + "/v1"},
			"model": {"gpt-4o-mini"}, "new_keys": {"sk-fb-one-0000aaaa\nsk-fb-two-0000bbbb"}},
		map[string][]string{"origin": {"-1"}, "backend": {"gemini"}, "base_url": {"https://gemini.example.test"},
			"new_keys": {"gem-key-000000cccc"}})
	save.Set("new_keys", "sk-second-key-0000dddd")
	if resp, _, body := e.post(s, path, save); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	c := stored()
	if len(c.Fallbacks) != 2 || c.Fallbacks[0].Model != "gpt-4o-mini" || strings.Join(keyHints(c.Fallbacks[0].Keys), ",") != "aaaa,bbbb" ||
		c.Fallbacks[1].Backend != "gemini" || strings.Join(keyHints(c.UpstreamKeys), ",") != "dddd" {
		t.Fatalf("stored %+v keys %v", c.Fallbacks, keyHints(c.UpstreamKeys))
	}

	// The page lists them with their keys; move the second up.
	_, doc, _ = e.page(s, path)
	if got := strings.Join(fallbackBackends(doc), " "); got != "openai-compatible@0 gemini@1" {
		t.Fatalf("rows %s", got)
	}
	if n := doc.Find(testid("key-row")).Length(); n != 5 { // primary + 1 further + 2 + 1
		t.Errorf("%d key rows, want 5", n)
	}
	up := fallbackForm(base,
		map[string][]string{"origin": {"0"}, "backend": {"openai-compatible"}, "base_url": {m.srv.URL + "/v1"}, "model": {"gpt-4o-mini"}, "keep": {"0", "1"}},
		map[string][]string{"origin": {"1"}, "backend": {"gemini"}, "base_url": {"https://gemini.example.test"}, "keep": {"0"}})
	up.Set("fallback_op", "up_1")
	up["keep_key"] = []string{"0"}
	_, doc, _ = e.post(s, path+"/fallbacks", up, "HX-Request", "true")
	if got := strings.Join(fallbackBackends(doc), " "); got != "gemini@1 openai-compatible@0" {
		t.Fatalf("after moving up: rows %s", got)
	}
	// Save in the new order, dropping one key of the OpenAI fallback: each row keeps its own keys.
	swapped := fallbackForm(base,
		map[string][]string{"origin": {"1"}, "backend": {"gemini"}, "base_url": {"https://gemini.example.test"}, "keep": {"0"}},
		map[string][]string{"origin": {"0"}, "backend": {"openai-compatible"}, "base_url": {m.srv.URL + "/v1"}, "model": {"gpt-4o-mini"}, "keep": {"1"}})
	swapped["keep_key"] = []string{"0"}
	if resp, _, body := e.post(s, path, swapped); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	c = stored()
	if len(c.Fallbacks) != 2 || c.Fallbacks[0].Backend != "gemini" || strings.Join(keyHints(c.Fallbacks[0].Keys), ",") != "cccc" ||
		strings.Join(keyHints(c.Fallbacks[1].Keys), ",") != "bbbb" || strings.Join(keyHints(c.UpstreamKeys), ",") != "dddd" {
		t.Fatalf("after reorder: %+v", c.Fallbacks)
	}

	// Test connection of the OpenAI fallback alone (target 2 now): the mock lists its models.
	_, doc, body := e.post(s, path+"/test?target=2", nil, "HX-Request", "true")
	if !strings.Contains(doc.Find(testid("fallback-test-result")).Text(), "Connection works") {
		t.Fatalf("fallback test: %s", body)
	}

	// The API tests a fallback on its own too.
	resp, apiBody := e.do(newReq("POST", "/admin/api/v1/clients/"+strconv.FormatInt(cl.ID, 10)+"/test?target=2", "",
		"Authorization", "Bearer "+e.adminToken()))
	if resp.StatusCode != 200 || !strings.Contains(apiBody, `"ok":true`) || !strings.Contains(apiBody, "openai-compatible answered") {
		t.Fatalf("API test of target 2: %d %s", resp.StatusCode, apiBody)
	}
	resp, apiBody = e.do(newReq("POST", "/admin/api/v1/clients/"+strconv.FormatInt(cl.ID, 10)+"/test?target=1", "",
		"Authorization", "Bearer "+e.adminToken()))
	if resp.StatusCode != 200 || !strings.Contains(apiBody, `"ok":false`) {
		t.Fatalf("API test of the unreachable gemini target 1: %d %s", resp.StatusCode, apiBody)
	}

	// Remove the gemini fallback.
	removed := fallbackForm(base,
		map[string][]string{"origin": {"1"}, "backend": {"openai-compatible"}, "base_url": {m.srv.URL + "/v1"}, "model": {"gpt-4o-mini"}, "keep": {"0"}})
	removed["keep_key"] = []string{"0"}
	if resp, _, body := e.post(s, path, removed); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	if c := stored(); len(c.Fallbacks) != 1 || c.Fallbacks[0].Backend != "openai-compatible" {
		t.Fatalf("after remove: %+v", c.Fallbacks)
	}
}

// A key the upstream refuses (401) is benched and the form flags it with the time and error.
func TestClientFormFlagsBenchedKey(t *testing.T) {
	m := newUpstreamMock(t)
	e := newEdge(t, withGateway(t))
	s := e.login()
	cl, key := e.createClient(&db.Client{Name: "app", Backend: "openai-compatible", BaseURL: m.srv.URL + "/v1", Active: true,
		DefaultModel: "gpt-4o"}, "sk-primary-0123456789")
	m.set(func(m *upstreamMock) { m.fail, m.failMessage = true, "Incorrect API key provided" })
	resp, body := e.do(newReq("POST", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization", "Bearer "+key, "Content-Type", "application/json"))
	if resp.StatusCode != 401 {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	_, doc, _ := e.page(s, "/admin/clients/"+strconv.FormatInt(cl.ID, 10))
	st := doc.Find(testid("upstream-keys") + " " + testid("key-status")).First()
	if !strings.HasPrefix(st.Text(), "benched 2026-") || !strings.Contains(st.Text(), "401: Incorrect API key provided") ||
		!st.HasClass("bad") {
		t.Errorf("key status %q (class %q), want benched with the time and the 401", st.Text(), st.AttrOr("class", ""))
	}
	if strings.Contains(doc.Text(), "sk-primary-0123456789") {
		t.Error("the page shows the upstream key")
	}
}
