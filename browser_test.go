package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The admin UI in a real browser (SPEC §12): Debian's chromium, headless, driven over CDP,
// against the whole program started through run, with a mock OpenAI-compatible upstream.
//
// Without chromium the test skips, except in CI (CI=true), where it fails. With
// UPDATE_SCREENSHOTS=1 it writes the pages to docs/screenshots/*.png for the README.

// mockOpenAI is an OpenAI-compatible upstream that records the keys it was called with. A
// request for model "broken-model" fails with an error message that is markup.
type mockOpenAI struct {
	mu   sync.Mutex
	keys []string
}

const mockUpstreamKey = "sk-upstream-browser-test-0123456789"

// xssError is what the mock's failure says; every page must show it as text.
const xssError = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`

func (m *mockOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.keys = append(m.keys, r.Header.Get("Authorization"))
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		io.WriteString(w, `{"object":"list","data":[`+
			`{"id":"gpt-4o-mini","object":"model","created":1700000000,"owned_by":"mock"},`+
			`{"id":"gpt-4o","object":"model","created":1700000000,"owned_by":"mock"},`+
			`{"id":"o3-mini","object":"model","created":1700000000,"owned_by":"mock"},`+
			`{"id":"text-embedding-3-small","object":"model","created":1700000000,"owned_by":"mock"}]}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		var req struct {
			Model string `json:"model"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if req.Model == "broken-model" {
			w.WriteHeader(http.StatusInternalServerError)
			msg, _ := json.Marshal(xssError)
			fmt.Fprintf(w, `{"error":{"message":%s,"type":"server_error","code":null}}`, msg)
			return
		}
		fmt.Fprintf(w, `{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":%q,`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock."},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}`, req.Model)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"no such route","type":"invalid_request_error"}}`)
	}
}

// chromiumPath finds Debian's chromium, or skips (fails under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI must install it (apt-get install -y chromium), see .ci/run")
		}
		t.Skip("chromium not found on PATH: install it (apt-get install -y chromium) to run the browser test")
	}
	return path
}

// newBrowser starts a headless chromium with a throwaway profile, stopped when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser with a context that has no deadline
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// ui runs browser steps with a deadline, failing the test with what was being done.
type ui struct {
	t   *testing.T
	ctx context.Context
}

func (u ui) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		u.t.Fatalf("%s: %v\n%s", what, err, u.page())
	}
}

// page describes the page the browser shows, for a failure message.
func (u ui) page() string {
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 3000)`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	return "page: " + s
}

func (u ui) text(sel string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (u ui) eval(expr string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// waitFor polls a JavaScript condition (no sleeps).
func (u ui) waitFor(what, cond string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		u.t.Fatalf("waiting for %s (%s): %v\n%s", what, cond, err, u.page())
	}
}

// screenshot saves the whole page as docs/screenshots/name.png when UPDATE_SCREENSHOTS=1.
func (u ui) screenshot(name string) {
	u.t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	// The window grows to the page's height for the picture, so the sticky bars sit where they
	// would on a tall screen instead of in the middle of the page.
	height, err := strconv.ParseInt(u.eval(`String(document.documentElement.scrollHeight)`), 10, 64)
	if err != nil {
		u.t.Fatal(err)
	}
	u.do("grow the window", chromedp.EmulateViewport(1280, height))
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Fatalf("screenshot %s: %v", name, err)
	}
	u.do("restore the window", chromedp.EmulateViewport(1280, 860))
	if err := os.MkdirAll(filepath.Join("docs", "screenshots"), 0o755); err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("docs", "screenshots", name+".png"), png, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

// chat sends one chat completion with a client key and returns the status.
func chat(t *testing.T, base, key, model string) int {
	t.Helper()
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"Say hello"}]}`
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// press scrolls the element to the middle of the window (clear of the sticky bars) and clicks it
// like a person would, with the mouse.
func press(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		// An htmx swap still settling (a boosted page, its scroll to the top) would move the
		// element between the scroll below and the click.
		chromedp.Poll[chromedp.Void](`document.readyState === "complete" && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`,
			chromedp.WithPollingInterval(20*time.Millisecond)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](q(sel)+`.scrollIntoView({block: "center"}) === undefined`)(ctx, t)
			return err
		}),
		chromedp.Click(chromedp.CSS(sel)),
	)
}

func q(sel string) string { return "document.querySelector(" + jsString(sel) + ")" }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestAdminUIInBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail under CI) before starting anything
	mock := &mockOpenAI{}
	upstream := newRelMock(t, mock.ServeHTTP)
	t.Cleanup(upstream.Close)

	dir := t.TempDir()
	args := []string{"-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0"}
	srv := start(t, nil, args...)
	m := passwordLine.FindStringSubmatch(srv.out.String())
	if m == nil {
		t.Fatalf("no admin password printed:\n%s", srv.out.String())
	}
	password := m[1]
	base := srv.url

	u := ui{t: t, ctx: newBrowser(t)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", srv.out.String())
		}
	})
	if _, err := chromedp.CallBrowser(u.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: "granted", Origin: base,
	}); err != nil {
		t.Fatalf("grant clipboard access: %v", err)
	}

	// Log in.
	u.do("log in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		press(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="dashboard"]`)),
	)

	// A new gateway's dashboard says how to get to the first request.
	u.do("see the getting-started guide", chromedp.WaitVisible(chromedp.CSS(`[data-testid="getting-started"]`)))
	if got := u.text(`[data-testid="get-started-curl"]`); !strings.Contains(got, base+"/v1/chat/completions") {
		t.Errorf("getting-started curl line %q", got)
	}
	u.screenshot("dashboard-empty")
	// The server's address leads to the admin UI, and pages have an icon.
	u.do("open the server's address", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="dashboard"]`)))
	if got := u.eval(`fetch(document.querySelector('link[rel="icon"]').href).then(r => r.status + " " + r.headers.get("content-type"))`); got != "200 image/svg+xml" {
		t.Errorf("favicon: %s", got)
	}

	// Create a client through the form; the key is shown once, and the copy button copies it.
	u.do("open the new client form",
		press(`[data-testid="nav-clients"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-client"]`)),
		press(`[data-testid="new-client"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="client-form"]`)),
	)
	u.do("fill in the client",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-name"]`), "billing-bot"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-description"]`), "Invoices and reminders"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="field-backend"]`), "openai"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-base-url"]`), upstream.URL+"/v1"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-upstream-key"]`), mockUpstreamKey),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-default-model"]`), "gpt-4o-mini"),
		press(`[data-testid="save-client"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-key"]`)),
		press(`[data-testid="copy-new-key"]`),
	)
	u.waitFor("the copy button to confirm", q(`[data-testid="copy-new-key"]`)+`.getAttribute("data-copied") === "true"`)
	key := u.eval(`navigator.clipboard.readText()`)
	if shown := u.eval(q(`[data-testid="new-key"]`) + ".value"); key != shown || !strings.HasPrefix(key, "gm_") || len(key) < 40 {
		t.Fatalf("clipboard %q, key shown %q", key, shown)
	}
	if font := u.eval(`getComputedStyle(` + q(`[data-testid="new-key"]`) + `).fontFamily`); !strings.Contains(font, "monospace") {
		t.Errorf("the key is not in a monospace font: %s", font)
	}
	if got := u.text(`[data-testid="try-curl"]`); !strings.Contains(got, "Bearer "+key) {
		t.Errorf("the key page's curl line %q", got)
	}
	// The form's POST answered with a redirect: a reload asks for the page again (no re-submit,
	// no second client), and the key, shown once, is gone.
	if path := u.eval(`location.pathname`); path != "/admin/clients/1/key" {
		t.Errorf("after creating, the address is %s", path)
	}
	u.do("reload the key page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="key-gone"]`)))
	if strings.Contains(u.eval(`document.body.innerHTML`), key) {
		t.Fatal("the key is shown again after a reload")
	}

	// Test Connection and Fetch Models on the client's page (htmx swaps, no paid request).
	u.do("open the client's settings",
		press(`[data-testid="key-done"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="test-connection"]`)),
		press(`[data-testid="test-connection"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="test-ok"]`)),
		press(`[data-testid="fetch-models"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="fetch-message"]`)),
	)
	if got := u.text(`[data-testid="test-ok"]`); !strings.Contains(got, "4 models") || !strings.Contains(got, "gpt-4o-mini") {
		t.Errorf("test connection says %q", got)
	}
	if n := u.eval(`String(document.querySelectorAll('#model-options-list input[type=checkbox]').length)`); n != "4" {
		t.Errorf("whitelist picker offers %s models, want 4", n)
	}
	u.do("filter the picker", chromedp.SendKeys(chromedp.CSS(`[data-testid="model-filter"]`), "o3"))
	u.waitFor("the filter to hide the other models",
		`[...document.querySelectorAll('#model-options-list [data-option]')].filter(e => !e.hidden).map(e => e.dataset.option).join() === "o3-mini"`)
	u.eval(`String((` + q(`[data-testid="model-filter"]`) + `.value = "", ` + q(`[data-testid="model-filter"]`) +
		`.dispatchEvent(new Event("input", {bubbles: true}))))`)
	u.screenshot("client-edit")

	// The form shows the chosen backend's fields.
	pick := func(backend string) {
		u.eval(`String((` + q(`[data-testid="field-backend"]`) + `.value = ` + jsString(backend) + `, ` +
			q(`[data-testid="field-backend"]`) + `.dispatchEvent(new Event("change", {bubbles: true}))))`)
	}
	azureShown := `!` + q(`[data-testid="azure-api-version-field"]`) + `.hidden`
	if u.eval(`String(`+azureShown+`)`) != "false" {
		t.Error("the Azure API version shows for an openai client")
	}
	pick("azure")
	if u.eval(`String(`+azureShown+`)`) != "true" || u.text(`[data-testid="base-url-note"]`) != "(required for this backend)" {
		t.Errorf("azure: API version shown %s, base URL note %q", u.eval(`String(`+azureShown+`)`), u.text(`[data-testid="base-url-note"]`))
	}
	pick("openai")
	if got := u.text(`[data-testid="base-url-note"]`); !strings.HasPrefix(got, "(empty = https://") {
		t.Errorf("openai's base URL note %q", got)
	}
	if !strings.Contains(u.text(`[data-testid="limits-explained"]`), "00:00 UTC") {
		t.Error("the form does not explain rate limits and daily quotas")
	}
	// A POST-only address opened with GET leads to the client's page, not a 405.
	u.do("open rotate-key with GET", chromedp.Navigate(base+"/admin/clients/1/rotate-key"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="client-form"]`)))

	// The dashboard counts a request without being reloaded.
	u.do("open the dashboard",
		press(`[data-testid="nav-dashboard"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="stat-requests-value"]`)),
	)
	u.waitFor("the live connection", q(`[data-live]`)+`.classList.contains("on")`)
	if got := u.text(`[data-testid="stat-requests-value"]`); got != "0" {
		t.Fatalf("requests today before any request: %q", got)
	}
	u.eval(`String(window.__notReloaded = "yes")`)
	if st := chat(t, base, key, "gpt-4o-mini"); st != http.StatusOK {
		t.Fatalf("chat completion with the copied key: %d", st)
	}
	u.waitFor("the requests counter to reach 1", q(`[data-testid="stat-requests-value"]`)+`.textContent.trim() === "1"`)
	u.waitFor("the token counters", q(`[data-testid="stat-input-tokens-value"]`)+`.textContent.trim() === "12" && `+
		q(`[data-testid="stat-output-tokens-value"]`)+`.textContent.trim() === "7"`)
	if u.eval(`String(window.__notReloaded)`) != "yes" {
		t.Fatal("the dashboard was reloaded instead of updated in place")
	}
	if got := mock.keys[len(mock.keys)-1]; got != "Bearer "+mockUpstreamKey {
		t.Errorf("upstream got Authorization %q", got)
	}

	// More traffic for the pictures: a second client made through the admin JSON API with a CLI
	// token, a few successes, and one upstream failure whose message is markup.
	out, err := runCmd(t, nil, "-config", filepath.Join(dir, "config.yaml"), "admin", "token", "create", "--name", "browser-test")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	token := regexp.MustCompile(`(?m)^aigw_\w+$`).FindString(out)
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/v1/clients", strings.NewReader(`{"name":"support-desk",`+
		`"description":"Ticket triage","backend":"openai-compatible","base_url":"`+upstream.URL+`/v1","upstream_key":"`+
		mockUpstreamKey+`","default_model":"o3-mini","model_whitelist":["o3-mini","gpt-4o"],`+
		`"rate_limit":{"requests_per_minute":0,"requests_per_hour":0,"requests_per_day":5}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ Key string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.Key == "" {
		t.Fatalf("create a client through the API: %d", resp.StatusCode)
	}
	for range 3 {
		chat(t, base, created.Key, "o3-mini")
	}
	for range 5 {
		chat(t, base, key, "gpt-4o")
	}
	if st := chat(t, base, key, "broken-model"); st != http.StatusInternalServerError {
		t.Fatalf("failing upstream: %d", st)
	}
	// Refused requests are requests: two for a model outside support-desk's whitelist (403), and
	// the 6th of its day's 5 (429).
	for range 2 {
		if st := chat(t, base, created.Key, "gpt-4o-mini"); st != http.StatusForbidden {
			t.Fatalf("model outside the whitelist: %d", st)
		}
	}
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		if st := chat(t, base, created.Key, "o3-mini"); st != want {
			t.Fatalf("support-desk request %d of the day: %d, want %d", 4+i, st, want)
		}
	}
	u.waitFor("the error counter", q(`[data-testid="stat-errors-value"]`)+`.textContent.trim() === "4"`)
	u.waitFor("the top models and clients", `document.querySelectorAll('#dash-top-models [data-testid="top-row"]').length === 4 && `+
		`document.querySelectorAll('#dash-top-clients [data-testid="top-row"]').length === 2`)
	// Cards, top tables and the chart count the same requests.
	const wantNumbers = "15 | 4 | 15 | 15 | Requests, last hour: 15 requests, 4 errors"
	u.waitFor("the chart", dayNumbersJS+` === `+jsString(wantNumbers))
	if u.text(`[data-testid="top-note"]`) == "" {
		t.Error(`Top models does not explain "other"`)
	}
	u.screenshot("dashboard")
	if _, err := chromedp.Call(u.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatalf("dark mode: %v", err)
	}
	u.screenshot("dashboard-dark")
	if _, err := chromedp.Call(u.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	// The clients list counts the same requests: support-desk's 8, 3 of them refused.
	u.do("open the clients", press(`[data-testid="nav-clients"]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid="meter-requests"]`)))
	if got := u.eval(`[...document.querySelectorAll('[data-testid="meter-requests"]')].map(e => e.textContent.replace(/\s+/g, " ").trim()).join(" / ")`); !strings.Contains(got, "8 (3 refused)") {
		t.Errorf("clients list requests: %q", got)
	}

	// Restart: the page shows the very same numbers, and the day's rate window still holds.
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	srv = start(t, nil, args...)
	base = srv.url
	u.do("open the dashboard after the restart", chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="stat-requests-value"]`)))
	u.waitFor("the numbers from before the restart", dayNumbersJS+` === `+jsString(wantNumbers))
	if st := chat(t, base, created.Key, "o3-mini"); st != http.StatusTooManyRequests {
		t.Errorf("after the restart support-desk's 6th counted request of the day got %d, want 429", st)
	}

	// Disable the client: its next request is refused.
	u.do("disable the client",
		press(`[data-testid="nav-clients"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="client-disable"]`)),
	)
	u.screenshot("clients")
	u.do("press Disable",
		press(`[data-testid="client-disable"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="client-enable"]`)),
	)
	if got := u.text(`[data-testid="client-status"]`); got != "disabled" {
		t.Errorf("status after disabling: %q", got)
	}
	if st := chat(t, base, key, "gpt-4o-mini"); st != http.StatusUnauthorized {
		t.Fatalf("request with a disabled client's key: %d, want 401", st)
	}

	// Find the request in the history (the log writer stores rows about once a second).
	u.do("open the history", press(`[data-testid="nav-requests"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="request-filters"]`)))
	rows := `document.querySelectorAll('[data-testid="request-row"]').length`
	deadline := time.Now().Add(15 * time.Second)
	has401 := `[...document.querySelectorAll('[data-testid="request-row"]')].some(r => r.textContent.includes("unknown key") && r.textContent.includes("401"))`
	for u.eval(`String(`+rows+` >= 10 && `+has401+`)`) != "true" {
		if time.Now().After(deadline) {
			t.Fatalf("history shows %s rows, want the 10 requests sent", u.eval(`String(`+rows+`)`))
		}
		u.do("reload the history", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="request-filters"]`)))
	}
	if u.eval(`String([...document.querySelectorAll('[data-testid="request-error"]')].some(e => e.textContent.includes(`+jsString(xssError)+`)))`) != "true" {
		t.Error("the upstream's error message is not shown as text in the history")
	}
	if u.eval(`String(window.__xss)`) != "undefined" {
		t.Fatal("an upstream error message ran as markup")
	}
	// The table fits a 1280 px window: no column is cut off, long text is clipped with the whole
	// of it on hover.
	if got := u.eval(`String(` + q(`.table-wrap`) + `.scrollWidth <= ` + q(`.table-wrap`) + `.clientWidth)`); got != "true" {
		t.Errorf("the history table overflows its card at 1280 px: %s > %s", u.eval(`String(`+q(`.table-wrap`)+`.scrollWidth)`), u.eval(`String(`+q(`.table-wrap`)+`.clientWidth)`))
	}
	if got := u.eval(`String([...document.querySelectorAll('[data-testid="request-error"]')].every(e => e.title === e.textContent.trim()))`); got != "true" {
		t.Error("a clipped error has no full text on hover")
	}
	// The status options are readable in full.
	if got := u.eval(`(() => { const s = ` + q(`[data-testid="filter-status"]`) + `; const m = document.createElement("span");
		m.style.font = getComputedStyle(s).font; m.style.position = "absolute"; m.textContent = "4xx refused"; document.body.append(m);
		const ok = m.offsetWidth + 24 <= s.clientWidth; m.remove(); return String(ok); })()`); got != "true" {
		t.Error(`the status filter cuts "4xx refused"`)
	}
	// Calls with a wrong key are in the history (the disabled client's included).
	// (The wait above saw the disabled key's call in the history, as "unknown key", 401.)
	// Export what is shown: the CSV has the rows the filters select.
	u.do("filter the history by part of a model",
		chromedp.SetValue(chromedp.CSS(`[data-testid="filter-model"]`), "o3"),
		press(`[data-testid="filter-apply"]`),
	)
	// support-desk's o3-mini requests: 5 answered, the 429 before the restart and the one after.
	u.waitFor("the o3-mini requests", `document.querySelectorAll('[data-testid="request-row"]').length === 7`)
	if got := u.text(`[data-testid="requests-total"]`); !strings.HasPrefix(got, "7 requests match") {
		t.Errorf("total %q", got)
	}
	csvText := u.eval(`fetch(` + q(`[data-testid="export-csv"]`) + `.href).then(r => r.text())`)
	if lines := strings.Split(strings.TrimSpace(csvText), "\n"); len(lines) != 8 || !strings.HasPrefix(lines[0], "id,time,") || !strings.Contains(lines[1], "o3-mini") {
		t.Errorf("CSV export: %d lines\n%s", len(lines), csvText)
	}
	// The first page takes new requests on top as they are logged, without a reload.
	u.do("show every request", chromedp.Navigate(base+"/admin/requests"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="request-row"]`)))
	u.waitFor("the live connection", q(`[data-live]`)+`.classList.contains("on")`)
	u.eval(`String(window.__notReloaded = "yes")`)
	top := u.eval(q(`[data-testid="request-row"]`) + `.dataset.requestId`)
	if st := chat(t, base, created.Key, "gpt-4o"); st != http.StatusTooManyRequests { // support-desk's day is used up
		t.Fatalf("a request for the live row: %d", st)
	}
	u.waitFor("the new row on top", `Number(`+q(`[data-testid="request-row"]`)+`.dataset.requestId) > `+top)
	if u.eval(`String(window.__notReloaded)`) != "yes" {
		t.Error("the history was reloaded instead of taking the new row")
	}
	// A failed request has no finish reason: the detail says so.
	u.do("open the failed request", chromedp.Navigate(base+"/admin/requests?status=500"),
		press(`[data-testid="request-link"]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid="detail-facts"]`)))
	if got := u.text(`[data-testid="detail-finish-reason"]`); got != "—" {
		t.Errorf("finish reason of a failed request %q", got)
	}
	u.do("back to the history", chromedp.Navigate(base+"/admin/requests"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="request-filters"]`)))
	u.do("filter the history to one client and model",
		chromedp.SetValue(chromedp.CSS(`[data-testid="filter-client"]`), "1"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="filter-model"]`), "4o-mini"),
		press(`[data-testid="filter-apply"]`),
	)
	u.waitFor("the filtered history", `document.querySelectorAll('[data-testid="request-row"]').length === 1`)
	if got := u.text(`[data-testid="request-row"]`); !strings.Contains(got, "billing-bot") || !strings.Contains(got, "gpt-4o-mini") ||
		!strings.Contains(got, "200") || !strings.Contains(got, "12 / 7") {
		t.Errorf("history row %q", got)
	}
	u.do("open the request", press(`[data-testid="request-link"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="detail-facts"]`)))
	if got := u.text(`[data-testid="detail-model-used"]`); got != "gpt-4o-mini" {
		t.Errorf("detail model %q", got)
	}
	u.do("back to all requests", chromedp.Navigate(base+"/admin/requests"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="request-row"]`)))
	u.screenshot("requests")

	u.do("open the settings", press(`[data-testid="nav-settings"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-table"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="token-name"]`), "terraform"),
		press(`[data-testid="token-create"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-token"]`)),
	)
	if path := u.eval(`location.pathname`); path != "/admin/settings" {
		t.Errorf("after creating a token the address is %s", path)
	}
	if got := u.text(`[data-testid="audit-table"]`); !strings.Contains(got, "client.disable") || !strings.Contains(got, "client.create") ||
		!strings.Contains(got, "client billing-bot") || strings.Contains(got, "client:1") {
		t.Errorf("audit log lacks the changes or names clients by id: %q", got)
	}
	// Which Prometheus setting is in force, and where it comes from.
	if got := u.text(`[data-testid="origin-prometheus.enabled"]`); !strings.Contains(got, "from the configuration") {
		t.Errorf("prometheus.enabled origin %q", got)
	}
	u.screenshot("settings")
	// Every password error at once.
	u.do("submit a wrong password form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-current-password"]`), "not my password"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-new-password"]`), "short"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="field-confirm-password"]`), "shorter"),
		press(`[data-testid="password-save"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-confirm_password"]`)),
	)
	for _, field := range []string{"current_password", "new_password", "confirm_password"} {
		if u.eval(`String(!!`+q(`[data-testid="error-`+field+`"]`)+`)`) != "true" {
			t.Errorf("no error shown for %s", field)
		}
	}
	// A page that does not exist keeps the navigation.
	u.do("open a missing page", chromedp.Navigate(base+"/admin/no-such-page"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-status"]`)))
	if u.eval(`String(!!`+q(`[data-testid="nav-requests"]`)+`)`) != "true" {
		t.Error("the 404 page has no navigation")
	}

	browseUsage(t, u, base, dir, token)
}

// dayNumbersJS reads the dashboard's requests and errors cards, the sums of the top clients and
// top models tables, and the last hour's chart summary, as "15 | 4 | 15 | 15 | Requests, …".
const dayNumbersJS = `(() => {
	const n = s => Number(document.querySelector(s).textContent.replace(/\D/g, ""));
	const sum = id => [...document.querySelectorAll(id + ' [data-testid="top-row"] td:nth-child(2), ' + id + ' [data-testid="top-more"] td:nth-child(2)')]
		.reduce((a, td) => a + Number(td.textContent.replace(/\D/g, "")), 0);
	return [n('[data-testid="stat-requests-value"]'), n('[data-testid="stat-errors-value"]'), sum('#dash-top-clients'),
		sum('#dash-top-models'), document.querySelector('#dash-chart-hour-requests svg[role="img"]').getAttribute("aria-label")].join(" | ");
})()`
