package providers

import (
	"net/http"
	"testing"
)

// The shared header values stay as they are whatever a request does with its own headers.
func TestSharedHeaderValuesStayTheirOwn(t *testing.T) {
	a, b := http.Header{}, http.Header{}
	SetJSONHeaders(a, true, false)
	SetJSONHeaders(b, true, true)
	key := NewKeyHeader("x-api-key", "", "sk-one")
	key.Set(a)
	key.Set(b)
	a.Add("Accept", "text/plain")
	a.Add("X-Api-Key", "other")
	a.Set("Content-Type", "text/plain")
	if got := b.Get("Content-Type"); got != "application/json" {
		t.Errorf("second request's Content-Type %q after the first changed its own", got)
	}
	if got := b.Values("X-Api-Key"); len(got) != 1 || got[0] != "sk-one" {
		t.Errorf("second request's key %q after the first added to its own", got)
	}
	c := http.Header{}
	SetJSONHeaders(c, true, false)
	if got := c.Values("Accept"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("a later request's Accept %q", got)
	}
	NewKeyHeader("x-api-key", "", "").Set(c)
	if _, ok := c["X-Api-Key"]; ok {
		t.Error("no key: the header is set anyway")
	}
	if got := NewKeyHeader("Authorization", "Bearer ", "k").value[0]; got != "Bearer k" {
		t.Errorf("bearer value %q", got)
	}
}
