package gateway

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, secret, want string
		limit                  int
	}{
		{"upstream key", `{"k":"my-upstream-key-123"}`, "my-upstream-key-123", `{"k":"[REDACTED]"}`, 100},
		{"short secret ignored", `abc`, "abc", `abc`, 100},
		{"openai key", `sk-proj-abcdefghijklmnopqrstu1234`, "", `[REDACTED]`, 100},
		{"anthropic key", `x sk-ant-api03-abcdefghijklmnop_qr y`, "", `x [REDACTED] y`, 100},
		{"gateway key", `"gm_0123456789abcdefghijABCDEFGHIJ"`, "", `"[REDACTED]"`, 100},
		{"google key", `AIzaSyA1234567890abcdefghijklmnopqrstu`, "", `[REDACTED]`, 100},
		{"bearer token", `Authorization: Bearer abc.def-ghi_jkl`, "", `Authorization: [REDACTED]`, 100},
		{"ordinary text kept", `the task-list has sk-1 items`, "", `the task-list has sk-1 items`, 100},
		{"cut on a rune boundary", "aaé", "", "aa", 3},
		{"key cut by the limit is still removed", "xx sk-abcdefghijklmnopqrstuvwxyz", "", "xx [RED", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in, []string{tt.secret}, tt.limit); got != tt.want {
				t.Fatalf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	body := clipBody([]byte(strings.Repeat("a", 100<<10)))
	if len(body) != maxBodyBytes+bodyMargin {
		t.Fatalf("clipBody kept %d bytes", len(body))
	}
}
