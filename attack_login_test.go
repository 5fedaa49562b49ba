package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// loginAnswer is what one post of the login form got back.
type loginAnswer struct {
	status     int
	retryAfter string
	body       string
}

// postLoginForm posts the login form once with the browser's CSRF cookie and token.
func postLoginForm(t *testing.T, client *http.Client, base, token, user, pass string) loginAnswer {
	resp, err := client.PostForm(base+"/admin/login", url.Values{"username": {user}, "password": {pass}, "csrf_token": {token}})
	if err != nil {
		t.Error(err)
		return loginAnswer{}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return loginAnswer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
}

// A burst of wrong passwords sent all at once from one address gets no more real checks than
// the same guesses sent one by one: at most 5 are checked (401), every other one is the login
// page with 429 and Retry-After, and after 5 checked failures even the right password is refused.
func TestAttackLoginThrottleRace(t *testing.T) {
	const limit, burst = 5, 40
	s := start(t, nil, "-config", filepath.Join(t.TempDir(), "config.yaml"), "-host", "127.0.0.1", "-port", "0")
	password := adminPassword(t, s.out.String())
	client := noRedirects()
	t.Cleanup(client.CloseIdleConnections) // before the server stops: it waits for open connections
	resp, err := client.Get(s.url + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	token := doc.Find(`form[data-testid="login-form"] input[name="csrf_token"]`).AttrOr("value", "")

	answers := make([]loginAnswer, burst)
	var wg sync.WaitGroup
	go_ := make(chan struct{})
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-go_
			answers[i] = postLoginForm(t, client, s.url, token, "admin", "wrong-"+strconv.Itoa(i))
		}()
	}
	close(go_)
	wg.Wait()

	checked := 0
	for i, a := range answers {
		switch a.status {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			if ra, err := strconv.Atoi(a.retryAfter); err != nil || ra <= 0 ||
				!strings.Contains(a.body, `data-testid="login-form"`) || !strings.Contains(a.body, "Try again in") {
				t.Errorf("refused guess %d: Retry-After %q, want the login page with a message and Retry-After\n%.300s", i, a.retryAfter, a.body)
			}
		default:
			t.Errorf("guess %d: status %d, want 401 or 429", i, a.status)
		}
	}
	if checked > limit {
		t.Fatalf("%d of %d parallel wrong passwords were checked; the limit is %d", checked, burst, limit)
	}
	// Whatever the burst left of the limit is still there, one by one, and no more.
	for checked < limit {
		a := postLoginForm(t, client, s.url, token, "admin", "one-more")
		if a.status != http.StatusUnauthorized {
			t.Fatalf("after %d checked failures: %d, want 401", checked, a.status)
		}
		checked++
	}
	if a := postLoginForm(t, client, s.url, token, "admin", password); a.status != http.StatusTooManyRequests ||
		!strings.Contains(a.body, "Too many failed attempts.") {
		t.Fatalf("the right password after %d failures: %d, want 429", limit, a.status)
	}
}
