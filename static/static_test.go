package static

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestAssets(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, contentType, contains string }{
		{HTMX, "javascript", "htmx"},
		{HTMXWS, "javascript", `defineExtension("ws"`},
		{CSS, "text/css", "prefers-color-scheme"},
		{JS, "javascript", "data-copy"},
	} {
		url := a.URL(tt.name)
		base := strings.TrimSuffix(tt.name, tt.name[strings.LastIndex(tt.name, "."):])
		if !regexp.MustCompile(`^/static/` + regexp.QuoteMeta(base) + `\.[0-9a-f]{10}\.(js|css)$`).MatchString(url) {
			t.Errorf("URL(%s) = %s, want a content-hashed URL", tt.name, url)
		}
		body, ct, ok := a.Lookup(strings.TrimPrefix(url, Prefix))
		if !ok || !strings.Contains(ct, tt.contentType) || !bytes.Contains(body, []byte(tt.contains)) {
			t.Errorf("Lookup(%s) = %d bytes, %q, %v", url, len(body), ct, ok)
		}
		if _, _, ok := a.Lookup(tt.name); ok {
			t.Errorf("unhashed name %s is served (it could not be cached safely)", tt.name)
		}
	}
	if got := a.URL("nope.js"); got != "/static/nope.js" {
		t.Errorf("URL(unknown) = %s", got)
	}
}
