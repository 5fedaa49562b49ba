package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// What the edge passes on from an upstream (stream bytes, error messages) loses the client's
// upstream key; text without it is returned as is, without a copy.
func TestClientRedactsItsUpstreamKey(t *testing.T) {
	c := &Client{upstreamKeys: []string{"sk-upstream-0123456789"}}
	tests := []struct{ in, want string }{
		{`{"error":{"message":"Incorrect API key provided: sk-upstream-0123456789."}}`, `{"error":{"message":"Incorrect API key provided: [REDACTED]."}}`},
		{"data: sk-upstream-0123456789 and sk-upstream-0123456789\n\n", "data: [REDACTED] and [REDACTED]\n\n"},
		{"data: nothing secret\n\n", "data: nothing secret\n\n"},
		{"", ""},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		got := c.Redact(in)
		if string(got) != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if c.Leaks(in) != (tt.in != tt.want) {
			t.Errorf("Leaks(%q) = %v", tt.in, !(tt.in != tt.want))
		}
		if tt.in == tt.want && len(in) > 0 && &got[0] != &in[0] {
			t.Errorf("Redact(%q) copied text without the key", tt.in)
		}
	}
	e := &providers.Error{Kind: providers.KindAuth, HTTPStatus: 401, Message: "bad key sk-upstream-0123456789", Provider: "gemini"}
	r := c.RedactError(e)
	if r.Message != "bad key [REDACTED]" || r.HTTPStatus != 401 || r.Provider != "gemini" {
		t.Errorf("RedactError = %+v", r)
	}
	if e.Message != "bad key sk-upstream-0123456789" {
		t.Error("RedactError changed the original error")
	}
	if clean := (&providers.Error{Message: "fine"}); c.RedactError(clean) != clean {
		t.Error("RedactError copied an error without the key")
	}
	if (&Client{}).Redact([]byte("x")) == nil || (&Client{}).RedactError(nil) != nil {
		t.Error("a client without an upstream key")
	}
}

// Leaks is the per-answer cost every whole front-door answer pays (routes' redactAnswer): one
// bytes.Contains over the body when it is clean.
func BenchmarkLeaksCleanAnswer(b *testing.B) {
	c := &Client{upstreamKeys: []string{"sk-proj-" + strings.Repeat("x7Q", 40)}}
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		body := []byte(strings.Repeat(`{"text":"the quick brown fox jumps over the lazy dog sk-"},`, size/58+1)[:size])
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if c.Leaks(body) {
					b.Fatal("clean body reported as leaking")
				}
			}
		})
	}
}
