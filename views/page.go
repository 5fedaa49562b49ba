// Package views holds the admin UI's templ components and the view models they render. It
// imports no package of this module: handlers build the view models from what they know.
package views

import "encoding/json"

// Assets are the content-hashed URLs of the embedded stylesheet and scripts.
type Assets struct {
	CSS    string
	HTMX   string
	HTMXWS string
}

// Page is what every page inside the admin shell needs.
type Page struct {
	// Title is the page's name, shown in the tab and as its heading.
	Title string
	// Nav is the active navigation entry: "dashboard", "clients", "requests" or "settings".
	Nav       string
	Username  string
	CSRFToken string
	Assets    Assets
}

type navItem struct {
	Key, Label, Href string
}

func navItems() []navItem {
	return []navItem{
		{"dashboard", "Dashboard", "/admin"},
		{"clients", "Clients", "/admin/clients"},
		{"requests", "Requests", "/admin/requests"},
		{"settings", "Settings", "/admin/settings"},
	}
}

// csrfHeaders is the hx-headers value that makes htmx send the CSRF token with every request.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

// htmxConfig keeps htmx within the Content-Security-Policy: no inline indicator styles, no eval.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}`
