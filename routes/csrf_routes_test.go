package routes

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Every state-changing admin route — including ones added after this test was written — refuses
// a logged-in browser that does not send the session's CSRF token, or sends a wrong one.
func TestEveryAdminStateChangeNeedsTheCSRFToken(t *testing.T) {
	e := newEdge(t)
	sess := e.login()
	params := regexp.MustCompile(`:[A-Za-z_]+\??|\*`)
	checked := 0
	for _, r := range e.app.GetRoutes(true) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodConnect:
			continue
		}
		if !isAdminPath(r.Path) || r.Path == "/admin/login" {
			continue
		}
		path := params.ReplaceAllString(r.Path, "1")
		for _, token := range []string{"", "not-" + sess.csrf} {
			headers := []string{"Cookie", sessionCookie + "=" + sess.cookie}
			body := ""
			if strings.HasPrefix(path, "/admin/api/") {
				headers = append(headers, "Content-Type", "application/json")
				body = "{}"
				if token != "" {
					headers = append(headers, headerCSRF, token)
				}
			} else {
				headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
				if token != "" {
					body = formCSRF + "=" + token
				}
			}
			resp, out := e.do(newReq(r.Method, path, body, headers...))
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with token %q: status %d, want 403: %.200s", r.Method, path, token, resp.StatusCode, out)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d state-changing admin routes found", checked)
	}
	// The session survived all of it (logout without a token did nothing).
	if resp, _ := e.do(newReq("GET", "/admin", "", "Cookie", sessionCookie+"="+sess.cookie)); resp.StatusCode != http.StatusOK {
		t.Errorf("the session no longer works: %d", resp.StatusCode)
	}
}
