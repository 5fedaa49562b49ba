package db

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func mustKeyring(t *testing.T, primary []byte, older ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(primary, older...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyringRoundTrip(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	for _, plain := range []string{"", "sk-proj-abc123", "ключ 🔑", strings.Repeat("x", 10000)} {
		ct, err := k.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if plain != "" && bytes.Contains(ct, []byte(plain)) {
			t.Fatalf("ciphertext contains the plaintext")
		}
		got, err := k.Decrypt(ct)
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if got != plain {
			t.Fatalf("round trip = %q, want %q", got, plain)
		}
	}
	a, _ := k.Encrypt("same")
	b, _ := k.Encrypt("same")
	if bytes.Equal(a, b) {
		t.Error("two encryptions of the same plaintext are equal: nonce reused")
	}
	if got, err := k.Decrypt(nil); got != "" || err != nil {
		t.Errorf("Decrypt(nil) = %q, %v; want an unset secret", got, err)
	}
}

func TestKeyringDetectsTampering(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	ct, err := k.Encrypt("sk-secret-upstream-key")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := k.Decrypt(bad); err == nil {
			t.Fatalf("flipping a bit of byte %d went unnoticed", i)
		}
	}
	for _, n := range []int{1, 5, 17, len(ct) - 1} {
		if _, err := k.Decrypt(ct[:n]); err == nil {
			t.Fatalf("truncation to %d bytes went unnoticed", n)
		}
	}
}

func TestKeyringWrongKey(t *testing.T) {
	ct, _ := mustKeyring(t, testKey(1)).Encrypt("sk-secret-upstream-key")
	_, err := mustKeyring(t, testKey(2)).Decrypt(ct)
	if err == nil {
		t.Fatal("a different master key decrypted the secret")
	}
	if strings.Contains(err.Error(), "sk-secret") {
		t.Fatalf("error leaks the plaintext: %v", err)
	}
	// Same key id (forged header) but a different key: GCM must still refuse.
	forged := bytes.Clone(ct)
	k2 := mustKeyring(t, testKey(2))
	id2, _ := hex.DecodeString(k2.KeyID())
	copy(forged[1:5], id2)
	if _, err := k2.Decrypt(forged); err == nil {
		t.Fatal("a forged key id made a different key decrypt the secret")
	}
}

func TestKeyringKeyIDAndRotation(t *testing.T) {
	oldK := mustKeyring(t, testKey(1))
	ct, _ := oldK.Encrypt("upstream")
	if got := hex.EncodeToString(ct[1:5]); got != oldK.KeyID() {
		t.Fatalf("ciphertext key id %s, want %s", got, oldK.KeyID())
	}
	if ct[0] != 1 {
		t.Fatalf("ciphertext version %d, want 1", ct[0])
	}
	rotated := mustKeyring(t, testKey(2), testKey(1))
	if rotated.KeyID() == oldK.KeyID() {
		t.Fatal("different keys have the same id")
	}
	got, err := rotated.Decrypt(ct)
	if err != nil || got != "upstream" {
		t.Fatalf("rotated keyring cannot read an old secret: %q, %v", got, err)
	}
	newCT, _ := rotated.Encrypt("upstream")
	if hex.EncodeToString(newCT[1:5]) != rotated.KeyID() {
		t.Fatal("rotated keyring does not encrypt with the new key")
	}
	if _, err := oldK.Decrypt(newCT); err == nil {
		t.Fatal("old keyring decrypted a secret sealed by the new key")
	}
}

func TestNewKeyringRejectsShortKey(t *testing.T) {
	if _, err := NewKeyring(make([]byte, 16)); err == nil {
		t.Fatal("accepted a 16-byte master key")
	}
}

func TestLoadKeyringCreatesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k, created, err := LoadKeyring(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false on first load")
	}
	path := filepath.Join(dir, MasterKeyFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("master key mode %o, want 600", st.Mode().Perm())
	}
	ct, _ := k.Encrypt("persisted")

	k2, created, err := LoadKeyring(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Fatal("created = true on second load")
	}
	if got, err := k2.Decrypt(ct); err != nil || got != "persisted" {
		t.Fatalf("second load has a different key: %q, %v", got, err)
	}
}

func TestLoadKeyringFromEnv(t *testing.T) {
	key := testKey(7)
	want := mustKeyring(t, key).KeyID()
	for name, val := range map[string]string{
		"base64": base64.StdEncoding.EncodeToString(key),
		"hex":    hex.EncodeToString(key) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			k, created, err := LoadKeyring(dir, func(n string) string {
				if n == MasterKeyEnv {
					return val
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			if created || k.KeyID() != want {
				t.Fatalf("created=%v id=%s, want env key %s", created, k.KeyID(), want)
			}
			if _, err := os.Stat(filepath.Join(dir, MasterKeyFile)); !os.IsNotExist(err) {
				t.Fatal("a master key file was written although the key came from the environment")
			}
		})
	}
	_, _, err := LoadKeyring(t.TempDir(), func(string) string { return "not-a-key-SECRETISH" })
	if err == nil || !strings.Contains(err.Error(), MasterKeyEnv) || strings.Contains(err.Error(), "SECRETISH") {
		t.Fatalf("bad env key: err = %v; want it to name %s without echoing the value", err, MasterKeyEnv)
	}
}
