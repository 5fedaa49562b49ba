package mcpservers

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRefusedAddresses(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:80": true, "10.0.0.1:443": true, "172.16.5.4:80": true, "192.168.0.1:80": true,
		"169.254.169.254:80": true, "[fe80::1]:80": true, "[fd00:ec2::254]:80": true, "[fc00::1]:80": true,
		"100.100.100.200:80": true, "100.64.0.1:80": true, "0.0.0.0:80": true, "[::ffff:127.0.0.1]:80": true,
		"8.8.8.8:443": false, "[2001:4860:4860::8888]:443": false, "93.184.216.34:80": false,
	} {
		err := dialControl("tcp", addr, nil)
		if refused != errors.Is(err, ErrPrivateAddress) {
			t.Errorf("dial %s: %v, want refused %t", addr, err, refused)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for raw, ok := range map[string]bool{
		"https://8.8.8.8/mcp": true, "http://127.0.0.1/mcp": false, "https://user:pw@8.8.8.8/mcp": false,
		"file:///etc/passwd": false, "https:///mcp": false,
	} {
		if err := CheckURL(ctx, raw, false); (err == nil) != ok {
			t.Errorf("CheckURL(%s) = %v, want ok %t", raw, err, ok)
		}
	}
	if err := CheckURL(ctx, "http://127.0.0.1/mcp", true); err != nil {
		t.Errorf("allow_private: %v", err)
	}
}

func TestCapText(t *testing.T) {
	s, cut := capText(strings.Repeat("é", 100), 51)
	if !cut || len(s) > 51 || !strings.HasSuffix(s, truncatedMark) || !strings.HasPrefix(s, "é") {
		t.Errorf("capText: %q (cut %t)", s, cut)
	}
	if s, cut := capText("short", 51); cut || s != "short" {
		t.Errorf("capText of a short text: %q", s)
	}
}
