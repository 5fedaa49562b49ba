// Package views holds the admin UI's templ components and the view models they render. It
// imports no package of this module: handlers build the view models from what they know.
package views

import "encoding/json"

// Assets are the content-hashed URLs of the embedded stylesheet and scripts.
type Assets struct {
	CSS    string
	HTMX   string
	HTMXWS string
	// JS is the small admin script (copy buttons, the model filter); pages work without it.
	JS string
}

// Page is what every page inside the admin shell needs.
type Page struct {
	// Title is the page's name, shown in the tab and as its heading.
	Title string
	// Nav is the active navigation entry: "dashboard", "clients", "requests", "usage", "prices" or "settings".
	Nav       string
	Username  string
	CSRFToken string
	Assets    Assets
	// Notice is a one-line confirmation shown above the content ("Client saved.").
	Notice string
}

type navItem struct {
	Key, Label, Href string
}

func navItems() []navItem {
	return []navItem{
		{"dashboard", "Dashboard", "/admin"},
		{"clients", "Clients", "/admin/clients"},
		{"requests", "Requests", "/admin/requests"},
		{"usage", "Usage", "/admin/usage"},
		{"prices", "Prices", "/admin/prices"},
		{"mcp", "MCP servers", "/admin/mcp"},
		{"settings", "Settings", "/admin/settings"},
	}
}

// csrfHeaders is the hx-headers value that makes htmx send the CSRF token with every request.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

// htmxConfig keeps htmx within the Content-Security-Policy (no inline indicator styles, no eval)
// and lets a 422 answer (a form with field errors) replace the form like a 200 does.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},` +
	`{"code":"[45]..","swap":false,"error":true}]}`

// Option is one entry of a select.
type Option struct {
	Value, Label string
}

// FieldErrors maps a form field's name to what is wrong with it.
type FieldErrors map[string]string

// fieldID turns a field name such as "rate_limit.requests_per_minute" into an HTML id.
func fieldID(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == '.' || c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}
