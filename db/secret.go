package db

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeyEnv names the environment variable that supplies the master key instead of the file.
const MasterKeyEnv = "AIGW_MASTER_KEY"

// MasterKeyFile is the master key's file name inside the data directory.
const MasterKeyFile = "master.key"

const (
	masterKeySize   = 32 // AES-256
	keyIDSize       = 4
	cipherVersion   = 1
	ciphertextHead  = 1 + keyIDSize // version byte + key id; authenticated as additional data
	masterKeyFormat = "32 bytes, base64 (44 characters) or hex (64 characters)"
)

// Keyring encrypts secrets at rest (upstream keys) with AES-256-GCM under the master key.
//
// A ciphertext is: version byte (1) | key id (4 bytes) | nonce (12) | sealed data + tag. The key id
// names the master key that sealed it, so the master key can be rotated: a Keyring built with the
// new key as primary and the old one as an older key decrypts both and encrypts with the new one.
// The version and key id are authenticated, so changing any byte makes Decrypt fail.
type Keyring struct {
	primary [keyIDSize]byte
	aeads   map[[keyIDSize]byte]cipher.AEAD
}

// NewKeyring builds a keyring that encrypts with primary and also decrypts with older keys.
// Every key must be 32 bytes.
func NewKeyring(primary []byte, older ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[[keyIDSize]byte]cipher.AEAD{}}
	for i, key := range append([][]byte{primary}, older...) {
		if len(key) != masterKeySize {
			return nil, fmt.Errorf("master key must be %d bytes, got %d", masterKeySize, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
		id := keyID(key)
		if i == 0 {
			k.primary = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// keyID derives a public identifier from a key; it reveals nothing usable about the key.
func keyID(key []byte) [keyIDSize]byte {
	sum := sha256.Sum256(append([]byte("ai-gateway master key id\x00"), key...))
	return [keyIDSize]byte(sum[:keyIDSize])
}

// KeyID is the hex id of the primary key, written into every new ciphertext.
func (k *Keyring) KeyID() string { return hex.EncodeToString(k.primary[:]) }

// Encrypt seals plaintext under the primary key with a fresh random nonce.
func (k *Keyring) Encrypt(plaintext string) ([]byte, error) {
	aead := k.aeads[k.primary]
	out := make([]byte, ciphertextHead+aead.NonceSize(), ciphertextHead+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = cipherVersion
	copy(out[1:], k.primary[:])
	if _, err := rand.Read(out[ciphertextHead:]); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return aead.Seal(out, out[ciphertextHead:], []byte(plaintext), out[:ciphertextHead]), nil
}

// Decrypt opens a ciphertext from Encrypt. An empty ciphertext is an unset secret and gives "".
// It fails when the ciphertext was sealed by a master key this keyring does not hold, or when any
// byte of it was changed. The error never contains the plaintext or the key.
func (k *Keyring) Decrypt(ciphertext []byte) (string, error) {
	if len(ciphertext) == 0 {
		return "", nil
	}
	if len(ciphertext) < ciphertextHead || ciphertext[0] != cipherVersion {
		return "", errors.New("decrypt: unknown ciphertext format")
	}
	id := [keyIDSize]byte(ciphertext[1:ciphertextHead])
	aead, ok := k.aeads[id]
	if !ok {
		return "", fmt.Errorf("decrypt: sealed with master key %x, which is not loaded", id)
	}
	rest := ciphertext[ciphertextHead:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return "", errors.New("decrypt: ciphertext too short")
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], ciphertext[:ciphertextHead])
	if err != nil {
		return "", errors.New("decrypt: ciphertext was modified or the master key is wrong")
	}
	return string(plain), nil
}

// LoadKeyring returns the keyring of the master key from the AIGW_MASTER_KEY environment variable
// or, when that is unset, from <dataDir>/master.key. When neither exists it generates a key and
// writes the file with mode 0600; created reports that. The key is 32 bytes written as base64
// (hex is accepted too).
func LoadKeyring(dataDir string, getenv func(string) string) (k *Keyring, created bool, err error) {
	if getenv != nil {
		if v := getenv(MasterKeyEnv); v != "" {
			key, err := parseMasterKey(v)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", MasterKeyEnv, err)
			}
			k, err := NewKeyring(key)
			return k, false, err
		}
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	created, err = writeMasterKey(path)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read master key: %w", err)
	}
	key, err := parseMasterKey(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("master key %s: %w", path, err)
	}
	k, err = NewKeyring(key)
	return k, created, err
}

func parseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == hex.EncodedLen(masterKeySize) {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == masterKeySize {
			return key, nil
		}
	}
	return nil, errors.New("not a valid master key (want " + masterKeyFormat + ")")
}

// writeMasterKey creates a new random master key file unless one exists.
func writeMasterKey(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("create data directory: %w", err)
	}
	key := make([]byte, masterKeySize)
	if _, err := rand.Read(key); err != nil {
		return false, fmt.Errorf("generate master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil // another process created it first; use theirs
	}
	if err != nil {
		return false, fmt.Errorf("write master key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return false, fmt.Errorf("write master key: %w", err)
	}
	return true, nil
}
