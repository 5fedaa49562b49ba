package routes

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A flood of logins from many addresses for many usernames (so no throttle key stops it) never
// runs more argon2id checks at once than there are slots (each holds 19 MiB): the excess is
// answered at once with the login page, 429 and Retry-After, and the checks held open still
// finish normally.
func TestAttackLoginMemoryBound(t *testing.T) {
	const n = 12 // more than the most slots there can be (4)
	entered := make(chan struct{}, n)
	release := make(chan struct{})
	var inFlight, most atomic.Int32
	e := newEdge(t, func(d *Deps) {
		d.Config.Server.TrustedProxies = "0.0.0.0" // fiber's app.Test connects from 0.0.0.0
		d.passwordChecking = func() {
			now := inFlight.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			entered <- struct{}{}
			<-release
			inFlight.Add(-1)
		}
	})
	csrfCookie, token := e.loginForm()

	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	answers := make(chan answer, n)
	for i := range n {
		go func() {
			form := url.Values{"username": {"guess" + strconv.Itoa(i)}, "password": {"wrong"}, "csrf_token": {token}}
			req := newReq("POST", "/admin/login", form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
				"Cookie", loginCSRFCookie+"="+csrfCookie, "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
			resp, err := e.app.Test(req, -1)
			if err != nil {
				answers <- answer{body: err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
		}()
	}

	// Every request either holds a check open or has been answered.
	var early []answer
	checking := 0
	hang := time.After(30 * time.Second)
	for checking+len(early) < n {
		select {
		case <-entered:
			checking++
		case a := <-answers:
			early = append(early, a)
		case <-hang:
			close(release)
			t.Fatalf("hung: %d checks running, %d answered of %d", checking, len(early), n)
		}
	}
	close(release)
	if checking > passwordSlots || int(most.Load()) > passwordSlots {
		t.Errorf("%d password checks ran at once (%d entered), the bound is %d", most.Load(), checking, passwordSlots)
	}
	for _, a := range early {
		if a.status != http.StatusTooManyRequests || a.retryAfter != "1" ||
			!strings.Contains(a.body, "Too many logins are being checked right now. Try again in a second.") ||
			!strings.Contains(a.body, `data-testid="login-form"`) {
			t.Errorf("a login beyond the bound: %d Retry-After=%q, want the login page with 429 and Retry-After 1\n%.300s",
				a.status, a.retryAfter, a.body)
		}
	}
	for range checking {
		if a := <-answers; a.status != http.StatusUnauthorized {
			t.Errorf("a checked wrong password: %d, want 401", a.status)
		}
	}
}
