package db

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrNotFound is returned by stores when the row asked for does not exist (or has expired).
var ErrNotFound = errors.New("not found")

// DefaultKeyPrefix is the prefix of a new client key when none is asked for.
const DefaultKeyPrefix = "gm_"

// keyRandomChars base62 characters carry ≥ 256 bits, i.e. more than 32 random bytes.
const keyRandomChars = 43

// ValidKeyPrefix reports whether p is one of the client key prefixes of SPEC §3: "gm_", "sk-"
// (for tools that insist on OpenAI-looking keys) and "sk-ant-" (Anthropic-looking keys).
func ValidKeyPrefix(p string) bool {
	return p == "gm_" || p == "sk-" || p == "sk-ant-"
}

// HashKey is the hex SHA-256 of a key: what is stored instead of client keys, admin tokens and
// session cookies, and what the gateway's key cache is indexed by.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewKey returns prefix followed by 43 random base62 characters (≥ 256 bits from crypto/rand).
func NewKey(prefix string) (string, error) {
	if !ValidKeyPrefix(prefix) {
		return "", fmt.Errorf("key prefix %q is not one of gm_, sk-, sk-ant-", prefix)
	}
	return prefix + RandomString(keyRandomChars), nil
}

// Hint is what may be shown of a secret: its last 4 characters, or "****" when the secret is too
// short for 4 characters to be a small part of it. An empty secret has an empty hint.
func Hint(secret string) string {
	switch {
	case secret == "":
		return ""
	case len(secret) < 12:
		return "****"
	}
	return secret[len(secret)-4:]
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// RandomString returns n uniformly random base62 characters from crypto/rand.
func RandomString(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:]) // never returns an error; crypto/rand crashes the program on a broken source
		for _, b := range buf {
			if b < 248 && len(out) < n { // 248 = 4·62: rejecting the rest keeps every character equally likely
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}
