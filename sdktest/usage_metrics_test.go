package sdktest

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestUsageAndRateLimitHeaders: every proxied response carries the x-ratelimit-* headers, on
// every door, streamed or not; the limit refuses with 429 and Retry-After; GET /v1/usage reports
// the client's limits, today's real usage and what remains.
func TestUsageAndRateLimitHeaders(t *testing.T) {
	g := startGateway(t)
	up := openAIUpstream(t)
	key, _ := g.newClient(openAIClient(up, client{
		"rate_limit": client{"requests_per_minute": 3, "requests_per_hour": 100, "requests_per_day": 1000},
		"quota": client{"max_requests_per_day": 50, "max_input_tokens_per_day": 10000, "max_output_tokens_per_day": 5000,
			"max_input_tokens": 0, "max_output_tokens": 0},
	}))
	calls := []struct {
		name, path, body string
	}{
		{"OpenAI door", "/v1/chat/completions", `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`},
		{"OpenAI door, stream", "/v1/chat/completions", `{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{"Anthropic door, stream", "/v1/messages", `{"model":"gpt-x","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`},
	}
	for i, c := range calls {
		resp, out := g.call("POST", c.path, c.body, "x-api-key", key, "anthropic-version", "2023-06-01")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, out)
		}
		h := resp.Header
		if h.Get("x-ratelimit-limit-requests") != "3" || h.Get("x-ratelimit-remaining-requests") != strconv.Itoa(2-i) ||
			h.Get("x-ratelimit-reset-requests") == "" {
			t.Errorf("%s: request headers %q %q %q", c.name, h.Get("x-ratelimit-limit-requests"),
				h.Get("x-ratelimit-remaining-requests"), h.Get("x-ratelimit-reset-requests"))
		}
		left, _ := strconv.Atoi(h.Get("x-ratelimit-remaining-tokens"))
		if h.Get("x-ratelimit-limit-tokens") != "10000" || left <= 0 || left > 10000-11*i ||
			h.Get("x-ratelimit-limit-output-tokens") != "5000" || h.Get("x-ratelimit-reset-tokens") == "" {
			t.Errorf("%s: token headers %v", c.name, h)
		}
	}

	u := g.usage(key)
	var full struct {
		RateLimit map[string]int64  `json:"rate_limit"`
		Quota     map[string]int64  `json:"quota"`
		Remaining map[string]*int64 `json:"remaining"`
	}
	_, out := g.call("GET", "/v1/usage", "", "Authorization", "Bearer "+key)
	if err := json.Unmarshal([]byte(out), &full); err != nil {
		t.Fatal(err)
	}
	if u.Usage.Requests != 3 || u.Usage.InputTokens != 33 || u.Usage.OutputTokens != 21 {
		t.Errorf("usage %+v, want 3 requests, 33 in, 21 out (the upstream's counts)", u.Usage)
	}
	if full.RateLimit["requests_per_minute"] != 3 || full.Quota["max_requests_per_day"] != 50 || full.Quota["max_output_tokens_per_day"] != 5000 {
		t.Errorf("limits %s", out)
	}
	want := map[string]int64{"requests": 47, "input_tokens": 10000 - 33, "output_tokens": 5000 - 21,
		"requests_this_minute": 0, "requests_this_hour": 97, "requests_this_day": 997}
	for k, v := range want {
		if full.Remaining[k] == nil || *full.Remaining[k] != v {
			t.Errorf("remaining %s = %v, want %d (%s)", k, full.Remaining[k], v, out)
		}
	}

	// The fourth request in the minute is refused, with the headers and Retry-After.
	n := len(up.Requests())
	resp, out := g.call("POST", calls[0].path, calls[0].body, "Authorization", "Bearer "+key)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("x-ratelimit-remaining-requests") != "0" {
		t.Errorf("over the limit: %d Retry-After %q remaining %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"),
			resp.Header.Get("x-ratelimit-remaining-requests"), out)
	}
	if at(decode(t, []byte(out)), "error", "type") != "rate_limit_error" || len(up.Requests()) != n {
		t.Errorf("refusal %s (upstream called: %v)", out, len(up.Requests()) != n)
	}
	// A refused request is a request (the dashboard counts it too) but is not used quota: it is
	// counted as refused, and the remaining daily requests do not move.
	if u := g.usage(key); u.Usage.Requests != 4 || u.Usage.Refused != 1 || u.Usage.InputTokens != 33 {
		t.Errorf("after a refusal: %+v, want 4 requests of which 1 refused, 33 input tokens", u.Usage)
	}
	_, out = g.call("GET", "/v1/usage", "", "Authorization", "Bearer "+key)
	if err := json.Unmarshal([]byte(out), &full); err != nil {
		t.Fatal(err)
	}
	if full.Remaining["requests"] == nil || *full.Remaining["requests"] != 47 {
		t.Errorf("remaining requests after a refusal: %v, want 47 (a refused request uses no quota): %s", full.Remaining["requests"], out)
	}
}

// TestMetrics: /metrics is off by default; on, it needs HTTP Basic auth and shows the request
// counters after traffic — with model labels intact after the connection served other requests.
func TestMetrics(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		g := startGateway(t)
		if resp, _ := g.call("GET", "/metrics", ""); resp.StatusCode != 404 {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})

	const password = "metrics-Pa55word-7f3a"
	g := startGateway(t, "AIGW_PROMETHEUS_ENABLED=true", "AIGW_PROMETHEUS_PASSWORD="+password)
	g.secret(password)
	up := openAIUpstream(t)
	gm := geminiUpstream(t)
	key, _ := g.newClient(openAIClient(up, client{"name": "metrics-app", "model_whitelist": []string{"gpt-default"}}))
	gkey, _ := g.newClient(client{"name": "metrics-gemini", "backend": "gemini", "base_url": gm.URL, "upstream_key": upstreamSecret,
		"default_model": "gemini-2.5-flash", "model_whitelist": []string{"gemini-2.5-flash"}})

	for _, tt := range []struct {
		name, user, pass string
		status           int
	}{
		{"no credentials", "", "", 401},
		{"wrong password", "prometheus", "nope", 401},
		{"wrong user", "admin", password, 401},
	} {
		req, _ := http.NewRequest("GET", g.url+"/metrics", nil)
		if tt.user != "" {
			req.SetBasicAuth(tt.user, tt.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %v", tt.name, resp.StatusCode, resp.Header)
		}
	}

	if resp, out := g.call("POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+key); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if resp, _ := g.call("POST", "/v1/chat/completions", `{"model":"gpt-forbidden","messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+key); resp.StatusCode != 403 {
		t.Fatalf("forbidden model: %d", resp.StatusCode)
	}
	// The Gemini door takes the model from the path. The requests after it reuse the buffer that
	// path was read from; the model label must not change with it.
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	paths := []string{"/v1beta/models/gemini-2.5-flash:generateContent"}
	for range 30 {
		paths = append(paths, "/v1beta/models/zzzzzzzzzzzzzzzz:generateContent") // as long
	}
	for _, path := range paths {
		req, _ := http.NewRequest("POST", g.url+path, strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`))
		req.Header.Set("x-goog-api-key", gkey)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	req, _ := http.NewRequest("GET", g.url+"/metrics", nil)
	req.SetBasicAuth("prometheus", password)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("metrics with the password: %d", resp.StatusCode)
	}
	text := string(b)
	for _, want := range []string{
		`ai_gateway_requests_total{client="metrics-app",model="gpt-default",status="200"} 1`,
		`ai_gateway_requests_total{client="metrics-app",model="other",status="403"} 1`,
		`ai_gateway_input_tokens_total{client="metrics-app",model="gpt-default"} 11`,
		`ai_gateway_output_tokens_total{client="metrics-app",model="gpt-default"} 7`,
		`ai_gateway_requests_total{client="metrics-gemini",model="gemini-2.5-flash",status="200"} 1`,
		`ai_gateway_requests_total{client="metrics-gemini",model="other",status="403"} 30`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if m := regexp.MustCompile(`ai_gateway_requests_total\{client="metrics-gemini",model="([^"]*)"`).FindAllStringSubmatch(text, -1); len(m) != 2 {
		t.Errorf("gemini model labels %v", m)
	}
	for _, name := range []string{"ai_gateway_request_duration_seconds", "ai_gateway_time_to_first_token_seconds", "ai_gateway_requests_in_progress"} {
		if !strings.Contains(text, name) {
			t.Errorf("metrics lack %s", name)
		}
	}
}
