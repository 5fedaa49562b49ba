package routes

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The change-password form checks the current password through the same throttle and slots as
// the login form: wrong guesses lock it (429, Retry-After, the settings page with the reason),
// and a check refused for want of a slot is a 429 too, never a silent pass.
func TestChangePasswordIsThrottledAndBounded(t *testing.T) {
	hold, release := make(chan struct{}), make(chan struct{})
	holding := false
	e := newEdge(t, func(d *Deps) {
		d.passwordChecking = func() {
			if holding {
				hold <- struct{}{}
				<-release
			}
		}
	})
	s := e.login()
	change := func(current string) (*http.Response, string) {
		resp, doc, _ := e.post(s, "/admin/settings/password", url.Values{"current_password": {current},
			"new_password": {"a-brand-new-password"}, "confirm_password": {"a-brand-new-password"}})
		return resp, doc.Find(testid("error-current_password")).Text()
	}

	// Every slot taken by logins being checked: the form is refused, not checked.
	holding = true
	csrfCookie, token := e.loginForm()
	done := make(chan struct{}, passwordSlots)
	for range passwordSlots {
		go func() {
			e.postLogin(csrfCookie, token, "admin", "held")
			done <- struct{}{}
		}()
		<-hold
	}
	resp, msg := change(edgePassword)
	close(release)
	for range passwordSlots {
		<-done
	}
	holding = false
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		!strings.Contains(msg, "was not checked: too many logins are being checked right now") {
		t.Fatalf("with every slot taken: %d Retry-After=%q %q", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}

	// Wrong current passwords lock the form like the login form (the held logins failed too).
	for range loginFreeFailures - passwordSlots {
		if resp, msg := change("wrong"); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("wrong current password: %d %q", resp.StatusCode, msg)
		}
	}
	resp, msg = change(edgePassword)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" ||
		!strings.Contains(msg, "was not checked: too many failed attempts. Try again in 30 seconds.") {
		t.Fatalf("locked: %d Retry-After=%q %q", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}
}
