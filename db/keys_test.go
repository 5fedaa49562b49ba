package db

import (
	"strings"
	"testing"
)

func TestHashKey(t *testing.T) {
	// sha256("abc")
	if got, want := HashKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashKey(abc) = %s, want %s", got, want)
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{"gm_", "sk-", "sk-ant-"} {
		for range 50 {
			k, err := NewKey(prefix)
			if err != nil {
				t.Fatal(err)
			}
			rest, ok := strings.CutPrefix(k, prefix)
			if !ok || len(rest) != 43 {
				t.Fatalf("key %q: want prefix %q + 43 chars", k, prefix)
			}
			if strings.Trim(rest, base62) != "" {
				t.Fatalf("key %q has non-base62 characters", k)
			}
			if seen[k] {
				t.Fatalf("duplicate key %q", k)
			}
			seen[k] = true
		}
	}
	for _, bad := range []string{"", "gm-", "pk_", "sk_"} {
		if _, err := NewKey(bad); err == nil {
			t.Errorf("NewKey(%q) accepted a bad prefix", bad)
		}
	}
}

func TestRandomStringUsesWholeAlphabet(t *testing.T) {
	s := RandomString(5000)
	for _, c := range base62 {
		if !strings.ContainsRune(s, c) {
			t.Errorf("character %q never produced in 5000 draws", c)
		}
	}
}

func TestHint(t *testing.T) {
	for in, want := range map[string]string{"": "", "short": "****", "sk-abcdefghijklmnop": "mnop"} {
		if got := Hint(in); got != want {
			t.Errorf("Hint(%q) = %q, want %q", in, got, want)
		}
	}
}
