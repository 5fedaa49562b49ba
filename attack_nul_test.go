package main

// Issue 14 item 2: one NUL byte in a model name used to stop all accounting, for every client,
// until the next restart, and the restart lost it. Text from outside is now made storable where
// rows are built, a batch the database rejects is split so the rest is written, and admin input
// the database could not store is a field error.

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// chatAs sends an OpenAI chat request with key and returns the status and body.
func chatAs(t *testing.T, g *relGateway, key, model string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": "hi"}}})
	req, _ := http.NewRequest(http.MethodPost, g.url+"/v1/chat/completions", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAttackNulByteDoesNotJamAccounting(t *testing.T) {
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		upstreamtest.WriteAnswer(w, upstreamtest.ReadRequest(r), upstreamtest.Reply{Texts: []string{"ok"}, Input: 3, Output: 2})
	})
	// A hostile (or broken) upstream names the model that answered with a NUL in it: that string
	// reaches the request log as the model used.
	hostile := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c1","object":"chat.completion","model":"x\u0000y","choices":[{"index":0,`+
			`"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`)
	})
	g := startRelGateway(t, nil, "")
	// The attacker's client has an empty whitelist: any model name goes.
	g.createClient(beOpenAI, hostile.URL, map[string]any{"name": "attacker"})
	attacker, attackerID := g.keys[beOpenAI], g.ids[beOpenAI]
	quota := maps.Clone(relNoLimits["quota"].(map[string]int))
	quota["max_requests_per_day"] = 4
	g.createClient(beOpenAI, mock.URL, map[string]any{"name": "victim", "quota": quota})
	victim, victimID := g.keys[beOpenAI], g.ids[beOpenAI]

	// A NUL in the model a caller names is refused at the door (it is not a model id)…
	if status, body := chatAs(t, g, attacker, "x\u0000y"); status != http.StatusBadRequest || !strings.Contains(body, "invalid_model") {
		t.Fatalf("the request with a NUL in its model: %d %s, want 400 invalid_model", status, body)
	}
	// …and one in the model an upstream names is stored made storable.
	if status, body := chatAs(t, g, attacker, "m"); status != http.StatusOK {
		t.Fatalf("the request answered with a NUL in the model: %d %s", status, body)
	}
	for i := range 3 {
		if status, body := chatAs(t, g, victim, "m"); status != http.StatusOK {
			t.Fatalf("victim request %d: %d %s", i+1, status, body)
		}
	}

	// The background writer (every second) stores the victim's requests and the attacker's.
	h := g.openDB()
	relWaitFor(t, "the victim's usage and request log", 10*time.Second, func() bool {
		n, err := h.NewSelect().Model((*db.RequestLog)(nil)).Where("client_id = ?", victimID).Count(context.Background())
		return err == nil && n == 3 && h.usageTotals()[victimID].Requests == 3
	})
	var poisoned []db.RequestLog
	for _, r := range h.requestLogs() {
		if r.ClientID == attackerID {
			poisoned = append(poisoned, r)
		}
	}
	if len(poisoned) != 1 || poisoned[0].ModelUsed != "x\uFFFDy" || poisoned[0].Status != http.StatusOK {
		t.Errorf("the attacker's request log rows %+v: want one, its model used stored as \"x\\uFFFDy\"", poisoned)
	}
	if u := h.usageTotals()[attackerID]; u.Requests != 1 || u.InputTokens != 3 {
		t.Errorf("the attacker's usage %+v: want its one request counted", u)
	}

	// A restart loses nothing: the stop writes everything, and the victim's quota (4 a day)
	// still counts the 3 requests it made before.
	if err := g.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	g.server = start(t, g.env, g.args()...)
	if status, body := chatAs(t, g, victim, "m"); status != http.StatusOK {
		t.Fatalf("victim's 4th request of 4 a day: %d %s", status, body)
	}
	if status, _ := chatAs(t, g, victim, "m"); status != http.StatusTooManyRequests {
		t.Errorf("victim's 5th request of 4 a day after the restart: %d, want 429 (the daily quota forgot the requests before it)", status)
	}
}

func TestAttackNulInClientName(t *testing.T) {
	g := startRelGateway(t, nil, "")
	ok := g.createClient("openai", "", nil)
	id := int64(ok["id"].(float64))

	api := []struct {
		name   string
		method string
		path   string
		body   map[string]any
		field  string
	}{
		{"create: NUL in the name", "POST", "/admin/api/v1/clients", map[string]any{"name": "evil\u0000name", "backend": "openai"}, "name"},
		{"create: NUL in the description", "POST", "/admin/api/v1/clients", map[string]any{"name": "n", "backend": "openai", "description": "a\u0000b"}, "description"},
		{"create: NUL in the system prompt", "POST", "/admin/api/v1/clients", map[string]any{"name": "n", "backend": "openai", "system_prompt": "be\u0000nice"}, "system_prompt"},
		{"create: NUL in a whitelisted model", "POST", "/admin/api/v1/clients", map[string]any{"name": "n", "backend": "openai", "model_whitelist": []string{"gpt-4o", "x\u0000y"}}, "model_whitelist"},
		{"create: NUL in the default model", "POST", "/admin/api/v1/clients", map[string]any{"name": "n", "backend": "openai", "default_model": "x\u0000y"}, "default_model"},
		{"create: NUL in the base URL", "POST", "/admin/api/v1/clients", map[string]any{"name": "n", "backend": "openai", "base_url": "http://h\u0000/v1"}, "base_url"},
		{"update: NUL in the name", "PATCH", "/admin/api/v1/clients/" + strconv.FormatInt(id, 10), map[string]any{"name": "evil\u0000name"}, "name"},
	}
	for _, tt := range api {
		t.Run("API "+tt.name, func(t *testing.T) {
			status, body := g.admin(tt.method, tt.path, tt.body)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", status, body)
			}
			var out struct {
				Error struct {
					Fields map[string]string `json:"fields"`
				} `json:"error"`
			}
			json.Unmarshal([]byte(body), &out)
			if msg := out.Error.Fields[tt.field]; msg == "" {
				t.Errorf("no error for field %q: %s", tt.field, body)
			}
		})
	}

	b := loginBrowser(t, g)
	form := func(fields url.Values) string {
		fields.Set("csrf_token", b.csrf)
		return fields.Encode()
	}
	client := url.Values{"backend": {"openai"}, "tool_mode": {"passthrough"}, "key_prefix": {"gm_"}}
	for _, name := range []string{"rate_limit.requests_per_minute", "rate_limit.requests_per_hour", "rate_limit.requests_per_day",
		"quota.max_input_tokens_per_day", "quota.max_output_tokens_per_day", "quota.max_requests_per_day",
		"quota.max_input_tokens", "quota.max_output_tokens"} {
		client.Set(name, "0")
	}
	with := func(k, v string) url.Values {
		f := maps.Clone(client)
		f.Set("name", "fine")
		f.Set(k, v)
		return f
	}
	pages := []struct {
		name, path, body, field string
	}{
		{"new client: NUL in the name", "/admin/clients", form(with("name", "evil\x00name")), "name"},
		{"new client: invalid UTF-8 in the name", "/admin/clients", form(with("name", "evil\xffname")), "name"},
		{"new client: NUL in a whitelisted model", "/admin/clients", form(with("model_whitelist_extra", "gpt-4o\nx\x00y")), "model_whitelist"},
		{"edit client: NUL in the name", "/admin/clients/" + strconv.FormatInt(id, 10), form(with("name", "evil\x00name")), "name"},
		{"new admin token: NUL in the name", "/admin/settings/tokens", form(url.Values{"name": {"tok\x00en"}}), "name"},
	}
	for _, tt := range pages {
		t.Run("form "+tt.name, func(t *testing.T) {
			resp, body := withCookie(t, http.MethodPost, g.url+tt.path, b.session, strings.NewReader(tt.body),
				"Content-Type", "application/x-www-form-urlencoded")
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422 (the form again, with the error): %.300s", resp.StatusCode, body)
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
			if msg := doc.Find(`[data-testid="error-` + tt.field + `"]`).Text(); !strings.Contains(msg, "must") {
				t.Errorf("no error shown next to %s: %q", tt.field, msg)
			}
		})
	}

	// Nothing was stored: the one client there was is all there is, as it was.
	status, body := g.admin(http.MethodGet, "/admin/api/v1/clients", nil)
	if status != http.StatusOK || strings.Count(body, `"id":`) != 1 || strings.Contains(body, "evil") {
		t.Errorf("clients after the refused input: %d %s", status, body)
	}
}
