package routes

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/aigateway/ai-gateway/db"
)

func TestLoginPage(t *testing.T) {
	e := newEdge(t)
	resp, body := e.do(newReq("GET", "/admin/login?next=/admin/clients", ""))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	form := doc.Find(`form[data-testid="login-form"]`)
	if form.AttrOr("action", "") != "/admin/login" || form.AttrOr("method", "") != "post" {
		t.Fatal("login form missing")
	}
	token := form.Find(`input[name="csrf_token"]`).AttrOr("value", "")
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == loginCSRFCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != token || len(token) < 32 || !cookie.HttpOnly {
		t.Fatalf("login CSRF cookie %+v vs form token %q", cookie, token)
	}
	if form.Find(`input[name="next"]`).AttrOr("value", "") != "/admin/clients" {
		t.Error("next not carried through the form")
	}
	for _, sel := range []string{`link[rel="stylesheet"]`, `script[src]`} {
		src := doc.Find(sel).First().AttrOr("href", doc.Find(sel).First().AttrOr("src", ""))
		if !strings.HasPrefix(src, "/static/") {
			t.Errorf("%s → %q", sel, src)
		}
		if r, _ := e.do(newReq("GET", src, "")); r.StatusCode != 200 {
			t.Errorf("asset %s: %d", src, r.StatusCode)
		}
	}
}

func TestLoginFlow(t *testing.T) {
	e := newEdge(t)
	csrfCookie, token := e.loginForm()

	resp, body := e.postLogin(csrfCookie, token, "admin", "wrong password")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Invalid username or password.") {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "wrong password") {
		t.Error("the typed password is echoed back")
	}

	resp, _ = e.postLogin(csrfCookie, token, "admin", edgePassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure || sess.Path != "/" || len(sess.Value) < 32 {
		t.Fatalf("session cookie %+v", sess)
	}
	// Only the hash of the cookie is stored.
	var ids []string
	if err := e.deps.DB.NewSelect().Table("admin_session").Column("id").Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != db.HashKey(sess.Value) {
		t.Fatalf("stored session ids %v", ids)
	}

	resp, body = e.do(newReq("GET", "/admin", "", "Cookie", sessionCookie+"="+sess.Value))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if resp.StatusCode != 200 || doc.Find(`[data-testid="username"]`).Text() != "admin" ||
		doc.Find(`nav a[aria-current="page"]`).AttrOr("data-testid", "") != "nav-dashboard" {
		t.Fatalf("dashboard: %d %s", resp.StatusCode, body)
	}
	// The login page sends a logged-in browser to the dashboard.
	if resp, _ := e.do(newReq("GET", "/admin/login", "", "Cookie", sessionCookie+"="+sess.Value)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login page while logged in: %d", resp.StatusCode)
	}
}

func TestLoginSecureCookieUnderHTTPS(t *testing.T) {
	e := newEdge(t, func(d *Deps) { d.Config.Server.HTTPS.Enabled = true })
	csrfCookie, token := e.loginForm()
	resp, _ := e.postLogin(csrfCookie, token, "admin", edgePassword)
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && !c.Secure {
			t.Fatal("session cookie not Secure under HTTPS")
		}
	}
}

func TestLoginNextIsSafe(t *testing.T) {
	tests := map[string]string{
		"/admin/clients":          "/admin/clients",
		"/admin":                  "/admin",
		"//evil.example/admin":    "",
		"https://evil.example":    "",
		"/administrator":          "",
		"/admin/login":            "",
		"/admin/api/v1/clients":   "",
		"/admin\\@evil.example":   "",
		"/admin/clients?page=2":   "/admin/clients?page=2",
		"/admin/x\r\nSet-Cookie:": "",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
	e := newEdge(t)
	csrfCookie, token := e.loginForm()
	form := url.Values{"username": {"admin"}, "password": {edgePassword}, "csrf_token": {token}, "next": {"//evil.example/"}}
	resp, _ := e.do(newReq("POST", "/admin/login", form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
		"Cookie", loginCSRFCookie+"="+csrfCookie))
	if resp.Header.Get("Location") != "/admin" {
		t.Errorf("open redirect: Location %q", resp.Header.Get("Location"))
	}
}

func TestLoginNeedsCSRF(t *testing.T) {
	e := newEdge(t)
	csrfCookie, token := e.loginForm()
	tests := []struct{ name, cookie, token string }{
		{"no cookie", "", token},
		{"no token", csrfCookie, ""},
		{"mismatch", csrfCookie, token + "x"},
	}
	for _, tt := range tests {
		resp, body := e.postLogin(tt.cookie, tt.token, "admin", edgePassword)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The login form expired") {
			t.Errorf("%s: %d", tt.name, resp.StatusCode)
		}
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie && c.Value != "" {
				t.Errorf("%s: a session was started", tt.name)
			}
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	e := newEdge(t)
	csrfCookie, token := e.loginForm()
	for i := range loginFreeFailures {
		if resp, _ := e.postLogin(csrfCookie, token, "admin", "nope"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	// Locked now: even the right password is refused, and argon2 is not even run.
	resp, body := e.postLogin(csrfCookie, token, "admin", edgePassword)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" ||
		!strings.Contains(body, "Too many failed attempts. Try again in 30 seconds.") {
		t.Fatalf("locked: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(29 * time.Second)
	if resp, _ := e.postLogin(csrfCookie, token, "admin", edgePassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("still locked after 29s: %d", resp.StatusCode)
	}
	e.clock.Advance(time.Second)
	// One more failure doubles the lock.
	if resp, _ := e.postLogin(csrfCookie, token, "admin", "nope"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the lock: %d", resp.StatusCode)
	}
	if resp, _ := e.postLogin(csrfCookie, token, "admin", edgePassword); resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("second lock Retry-After = %q, want 60", resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(time.Minute)
	if resp, _ := e.postLogin(csrfCookie, token, "admin", edgePassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the lock: %d", resp.StatusCode)
	}
	// Success cleared the count: five more failures are allowed before a lock.
	for i := range loginFreeFailures - 1 {
		if resp, _ := e.postLogin(csrfCookie, token, "admin", "nope"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d after success: %d", i+1, resp.StatusCode)
		}
	}
	if strings.Contains(e.logs.String(), "nope") {
		t.Error("a typed password reached the log")
	}
}

// throttleFail is one checked and failed attempt; throttleWait is how long a new one would wait.
func throttleFail(t *testing.T, th *loginThrottle, keys ...string) {
	t.Helper()
	a, w := th.reserve(keys...)
	if a == nil {
		t.Fatalf("%v refused (wait %v)", keys, w)
	}
	a.fail()
}

func throttleWait(th *loginThrottle, keys ...string) time.Duration {
	a, w := th.reserve(keys...)
	if a != nil {
		a.cancel()
	}
	return w
}

func TestLoginThrottlePolicy(t *testing.T) {
	clock := &edgeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := newLoginThrottle(clock.Now)
	user, ipA, ipB := "user:admin", "ip:10.0.0.1", "ip:10.0.0.2"

	// Failures for one user from many addresses lock that user everywhere.
	for i := range loginFreeFailures {
		if w := throttleWait(th, ipA, user); w != 0 {
			t.Fatalf("locked after %d failures", i)
		}
		ip := ipA
		if i%2 == 1 {
			ip = ipB
		}
		throttleFail(t, th, ip, user)
	}
	if w := throttleWait(th, "ip:10.9.9.9", user); w != 30*time.Second {
		t.Fatalf("user lock from a new address = %v, want 30s", w)
	}
	if w := throttleWait(th, "ip:10.9.9.9", "user:other"); w != 0 {
		t.Fatalf("other user from a new address locked for %v", w)
	}

	// Exponential backoff, capped.
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for _, w := range want {
		clock.Advance(throttleWait(th, user))
		throttleFail(t, th, user)
		if got := throttleWait(th, user); got != w {
			t.Fatalf("lock = %v, want %v", got, w)
		}
	}

	// One address trying many usernames is locked as an address.
	for i := range loginFreeFailures {
		throttleFail(t, th, "ip:10.1.1.1", "user:guess"+string(rune('a'+i)))
	}
	if w := throttleWait(th, "ip:10.1.1.1", "user:fresh"); w != 30*time.Second {
		t.Fatalf("address lock = %v, want 30s", w)
	}

	// Old failures are forgotten.
	th2 := newLoginThrottle(clock.Now)
	for range loginFreeFailures - 1 {
		throttleFail(t, th2, user)
	}
	clock.Advance(loginForget + time.Second)
	throttleFail(t, th2, user)
	if w := throttleWait(th2, user); w != 0 {
		t.Fatalf("forgotten failures still count: locked %v", w)
	}

	// Success clears.
	clock.Advance(throttleWait(th, user))
	a, _ := th.reserve(user)
	a.succeed()
	if w := throttleWait(th, user); w != 0 {
		t.Fatalf("locked after success: %v", w)
	}
	if th.entries[user] != nil {
		t.Fatalf("a cleared key is still stored: %+v", th.entries[user])
	}
}

// Attempts in flight count: only the free failures left can be reserved at once, a cancelled
// one is given back, and after a lock runs out the attempts go one at a time.
func TestLoginThrottleReservesAttempts(t *testing.T) {
	clock := &edgeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := newLoginThrottle(clock.Now)
	var held []*loginAttempt
	for i := range loginFreeFailures {
		a, w := th.reserve("ip:a")
		if a == nil {
			t.Fatalf("attempt %d refused (wait %v)", i+1, w)
		}
		held = append(held, a)
	}
	if a, w := th.reserve("ip:a"); a != nil || w != time.Second {
		t.Fatalf("an attempt beyond the free failures while they are checked: %v, wait %v", a != nil, w)
	}
	held[0].cancel()
	held = held[1:]
	if a, _ := th.reserve("ip:a"); a == nil {
		t.Fatal("a cancelled attempt was not given back")
	} else {
		held = append(held, a)
	}
	for _, a := range held {
		a.fail()
	}
	if w := throttleWait(th, "ip:a"); w != loginBaseLock {
		t.Fatalf("after %d failures: wait %v, want %v", loginFreeFailures, w, loginBaseLock)
	}
	clock.Advance(loginBaseLock)
	a, _ := th.reserve("ip:a")
	if b, w := th.reserve("ip:a"); a == nil || b != nil || w != time.Second {
		t.Fatalf("after the lock: first %v, second %v (wait %v); want one at a time", a != nil, b != nil, w)
	}
	a.fail()
}

func TestLoginThrottleIsBounded(t *testing.T) {
	clock := &edgeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := newLoginThrottle(clock.Now)
	for i := range loginMaxEntries + 500 {
		throttleFail(t, th, "ip:"+time.Duration(i).String())
	}
	if n := len(th.entries); n > loginMaxEntries {
		t.Fatalf("%d entries, bound is %d", n, loginMaxEntries)
	}
}

func TestAdminPagesNeedSession(t *testing.T) {
	e := newEdge(t)
	for _, p := range []string{"/admin", "/admin/clients", "/admin/requests", "/admin/settings"} {
		resp, _ := e.do(newReq("GET", p, ""))
		want := "/admin/login"
		if p != "/admin" {
			want += "?next=" + url.QueryEscape(p)
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 303 → %q", p, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp, _ := e.do(newReq("GET", "/admin/clients", "", "HX-Request", "true"))
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("HX-Redirect"), "/admin/login") {
		t.Errorf("htmx without session: %d HX-Redirect=%q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	resp, _ = e.do(newReq("GET", "/admin", "", "Cookie", sessionCookie+"=forged-value-that-is-long-enough-000000"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login?expired=1" {
		t.Errorf("forged cookie: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	s := e.login()
	for _, p := range []string{"/admin", "/admin/clients", "/admin/requests", "/admin/settings"} {
		resp, body := e.do(newReq("GET", p, "", "Cookie", sessionCookie+"="+s.cookie))
		if resp.StatusCode != 200 || !strings.Contains(body, `data-testid="page-title"`) {
			t.Errorf("GET %s with session: %d", p, resp.StatusCode)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	cookie := sessionCookie + "=" + s.cookie
	get := func() int {
		resp, _ := e.do(newReq("GET", "/admin", "", "Cookie", cookie))
		return resp.StatusCode
	}

	// Activity slides the idle expiry…
	for range 3 {
		e.clock.Advance(sessionIdle - time.Minute)
		if st := get(); st != 200 {
			t.Fatalf("active session expired: %d", st)
		}
	}
	// …an idle session expires…
	e.clock.Advance(sessionIdle)
	if st := get(); st != http.StatusSeeOther {
		t.Fatalf("idle session still valid: %d", st)
	}
	if resp, _ := e.do(newReq("GET", "/admin/api/v1/clients", "", "Cookie", cookie)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API with an expired session: %d", resp.StatusCode)
	}

	// …and no session outlives the absolute maximum, however active.
	s = e.login()
	cookie = sessionCookie + "=" + s.cookie
	start := e.clock.Now()
	for e.clock.Now().Sub(start) < sessionMaxAge-sessionIdle {
		e.clock.Advance(sessionIdle - time.Minute)
		if st := get(); st != 200 {
			t.Fatalf("session expired after %v: %d", e.clock.Now().Sub(start), st)
		}
	}
	e.clock.Advance(start.Add(sessionMaxAge).Sub(e.clock.Now()))
	if st := get(); st != http.StatusSeeOther {
		t.Fatalf("session outlived %v: %d", sessionMaxAge, st)
	}
}

func TestLogout(t *testing.T) {
	e := newEdge(t)
	s := e.login()
	cookie := sessionCookie + "=" + s.cookie

	resp, _ := e.do(newReq("POST", "/admin/logout", "", "Cookie", cookie))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without CSRF: %d, want 403", resp.StatusCode)
	}
	form := url.Values{"csrf_token": {s.csrf}}.Encode()
	resp, _ = e.do(newReq("POST", "/admin/logout", form, "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login?logged_out=1" {
		t.Fatalf("logout: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == sessionCookie && c.Value == "" && (c.MaxAge < 0 || c.Expires.Before(time.Unix(1, 0))))
	}
	if !cleared {
		t.Error("logout did not clear the cookie")
	}
	// The old cookie is dead on the server, not just in the browser.
	if resp, _ := e.do(newReq("GET", "/admin", "", "Cookie", cookie)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("old cookie after logout: %d", resp.StatusCode)
	}
	_, body := e.do(newReq("GET", "/admin/login?logged_out=1", ""))
	if !strings.Contains(body, "You have been logged out.") {
		t.Error("no logout notice")
	}
	// htmx logout with the header token.
	s = e.login()
	resp, _ = e.do(newReq("POST", "/admin/logout", "", "Cookie", sessionCookie+"="+s.cookie, "X-CSRF-Token", s.csrf, "HX-Request", "true"))
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/admin/login?logged_out=1" {
		t.Fatalf("htmx logout: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}
