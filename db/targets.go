package db

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"unsafe"
)

// SealedKey is one upstream key at rest: its AES-256-GCM ciphertext (Keyring.Encrypt) and its hint.
type SealedKey struct {
	Ciphertext []byte `json:"ciphertext"`
	Hint       string `json:"hint"`
}

// Target is one further upstream of a client, tried in order after its own backend (SPEC §15).
type Target struct {
	Backend         string `json:"backend"`
	BaseURL         string `json:"base_url"`
	AzureAPIVersion string `json:"azure_api_version"`
	// Model, when set, replaces the requested model on this target.
	Model string      `json:"model"`
	Keys  []SealedKey `json:"keys"`
}

// Attempt is one upstream attempt of a request, as the request log keeps it.
type Attempt struct {
	Provider  string `json:"provider"`
	BaseURL   string `json:"base_url"`
	Status    int    `json:"status"`
	LatencyMS int64  `json:"latency_ms"`
	// Error is empty for the attempt that answered.
	Error string `json:"error"`
	// OmittedTools names the tools the caller offered that this attempt's backend could not be
	// offered (built-in and namespaced Responses tools on a translated backend), left out.
	OmittedTools []string `json:"omitted_tools,omitempty"`
}

// SealedKeys, Targets and Attempts are stored as JSON arrays, so the SQL stays portable.
type (
	SealedKeys []SealedKey
	Targets    []Target
	Attempts   []Attempt
)

// Value implements driver.Valuer.
func (k SealedKeys) Value() (driver.Value, error) { return jsonValue(k) }

// Scan implements sql.Scanner.
func (k *SealedKeys) Scan(src any) error { return jsonScan(src, (*[]SealedKey)(k)) }

// Value implements driver.Valuer.
func (t Targets) Value() (driver.Value, error) { return jsonValue(t) }

// Scan implements sql.Scanner.
func (t *Targets) Scan(src any) error { return jsonScan(src, (*[]Target)(t)) }

// Value implements driver.Valuer.
func (a Attempts) Value() (driver.Value, error) { return jsonValue(a) }

// Scan implements sql.Scanner.
func (a *Attempts) Scan(src any) error { return jsonScan(src, (*[]Attempt)(a)) }

// jsonValue is list as JSON text. The text is the bytes json.Marshal made, not a copy of them:
// nothing else holds them, and nothing writes to them again.
func jsonValue[T any](list []T) (driver.Value, error) {
	if len(list) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

func jsonScan[T any](src any, dst *[]T) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*dst = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("db: cannot scan %T into a JSON list", src)
	}
	*dst = nil
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return err
	}
	if len(*dst) == 0 {
		*dst = nil // "[]" reads back as what was written: no list
	}
	return nil
}
