package routes

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

const (
	// maxFallbacks bounds a client's further targets, maxTargetKeys the keys of one target.
	maxFallbacks  = 10
	maxTargetKeys = 20
)

// fallbackJSON is a fallback target as the admin API returns it: its keys only as hints.
type fallbackJSON struct {
	Backend          string   `json:"backend"`
	BaseURL          string   `json:"base_url"`
	AzureAPIVersion  string   `json:"azure_api_version"`
	Model            string   `json:"model"`
	UpstreamKeyHints []string `json:"upstream_key_hints"`
}

// fallbackInput is a fallback target in a create or update body (SPEC §8). Its keys are
// write-only: a fallback sent without upstream_key and upstream_keys keeps the keys of the
// current fallback with the same backend, base URL and API version, so a form can reorder
// fallbacks without asking for their keys again.
type fallbackInput struct {
	Backend         string    `json:"backend"`
	BaseURL         string    `json:"base_url"`
	UpstreamKey     *string   `json:"upstream_key"`
	UpstreamKeys    *[]string `json:"upstream_keys"`
	AzureAPIVersion string    `json:"azure_api_version"`
	Model           string    `json:"model"`
	// keys is the client form's edit of this fallback's keys (the form knows only hints).
	keys *formKeyEdit
}

// formKeyEdit is how the client form edits a key list: which stored keys stay (the form has
// only their hints), and new keys typed in.
type formKeyEdit struct {
	kept []db.SealedKey
	add  []string
}

func keyHints(keys []db.SealedKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.Hint)
	}
	return out
}

// upstreamKeyHints are the hints of the first target's keys, in turn order.
func upstreamKeyHints(c *db.Client) []string {
	out := []string{}
	if len(c.UpstreamKey) > 0 {
		out = append(out, c.UpstreamKeyHint)
	}
	return append(out, keyHints(c.UpstreamKeys)...)
}

func toFallbacksJSON(fs db.Targets) []fallbackJSON {
	out := make([]fallbackJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, fallbackJSON{Backend: f.Backend, BaseURL: f.BaseURL, AzureAPIVersion: f.AzureAPIVersion,
			Model: f.Model, UpstreamKeyHints: keyHints(f.Keys)})
	}
	return out
}

// checkUpstreamKey is the rule every upstream key follows; "" when k is acceptable.
func checkUpstreamKey(k string) string {
	switch {
	case len(k) > maxUpstreamKeyLen:
		return fmt.Sprintf("must be at most %d characters", maxUpstreamKeyLen)
	case !utf8.ValidString(k) || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "must not contain spaces, line breaks, control characters or invalid UTF-8"
	}
	return ""
}

// sealKeys checks and encrypts a list of keys; empty entries are dropped, duplicates kept once.
func sealKeys(field string, list []string, keyring *db.Keyring, bad fieldErrors) ([]db.SealedKey, error) {
	var out []db.SealedKey
	var seen []string
	for _, k := range list {
		k = strings.TrimSpace(k)
		if k == "" || slices.Contains(seen, k) {
			continue
		}
		if msg := checkUpstreamKey(k); msg != "" {
			bad[field] = "each key " + msg
			return nil, nil
		}
		seen = append(seen, k)
		ct, err := keyring.Encrypt(k)
		if err != nil {
			return nil, err
		}
		out = append(out, db.SealedKey{Ciphertext: ct, Hint: db.Hint(k)})
	}
	if len(out) > maxTargetKeys {
		bad[field] = fmt.Sprintf("at most %d keys", maxTargetKeys)
	}
	return out, nil
}

// applyFormKeys writes the client form's edit of the first target's further keys onto c.
func (in *clientInput) applyFormKeys(c *db.Client, keyring *db.Keyring, bad fieldErrors) (bool, error) {
	if in.formKeys == nil {
		return false, nil
	}
	sealed, err := sealKeys("upstream_keys", in.formKeys.add, keyring, bad)
	if err != nil || bad["upstream_keys"] != "" {
		return false, err
	}
	keys := append(slices.Clone(in.formKeys.kept), sealed...)
	if len(keys) > maxTargetKeys {
		bad["upstream_keys"] = fmt.Sprintf("at most %d keys", maxTargetKeys)
		return false, nil
	}
	if sameTargets(db.Targets{{Keys: keys}}, db.Targets{{Keys: c.UpstreamKeys}}) {
		return false, nil
	}
	c.UpstreamKeys = keys
	return true, nil
}

// applyUpstreamKeys writes upstream_keys (the first target's whole key list) onto c.
func (in *clientInput) applyUpstreamKeys(c *db.Client, keyring *db.Keyring, bad fieldErrors) (bool, error) {
	if in.UpstreamKeys == nil {
		return false, nil
	}
	if in.UpstreamKey != nil {
		bad["upstream_keys"] = "give either upstream_key or upstream_keys, not both"
		return false, nil
	}
	sealed, err := sealKeys("upstream_keys", *in.UpstreamKeys, keyring, bad)
	if err != nil || bad["upstream_keys"] != "" {
		return false, err
	}
	c.UpstreamKey, c.UpstreamKeyHint, c.UpstreamKeys = nil, "", nil
	if len(sealed) > 0 {
		c.UpstreamKey, c.UpstreamKeyHint = sealed[0].Ciphertext, sealed[0].Hint
		c.UpstreamKeys = sealed[1:]
	}
	return true, nil
}

// applyFallbacks writes fallbacks onto c, checking each like the client's own backend.
func (in *clientInput) applyFallbacks(c *db.Client, keyring *db.Keyring, bad fieldErrors) (bool, error) {
	if in.Fallbacks == nil {
		return false, nil
	}
	list := *in.Fallbacks
	if len(list) > maxFallbacks {
		bad["fallbacks"] = fmt.Sprintf("at most %d fallbacks", maxFallbacks)
		return false, nil
	}
	old := slices.Clone(c.Fallbacks)
	var out db.Targets
	for i, f := range list {
		field := fmt.Sprintf("fallbacks[%d]", i)
		t := db.Target{Backend: strings.TrimSpace(f.Backend), BaseURL: strings.TrimSpace(f.BaseURL),
			AzureAPIVersion: strings.TrimSpace(f.AzureAPIVersion), Model: strings.TrimSpace(f.Model)}
		if msg := checkTarget(t); msg != "" {
			bad[field] = msg
			continue
		}
		switch {
		case f.keys != nil:
			sealed, err := sealKeys(field+".upstream_keys", f.keys.add, keyring, bad)
			if err != nil {
				return false, err
			}
			t.Keys = append(slices.Clone(f.keys.kept), sealed...)
			if len(t.Keys) > maxTargetKeys {
				bad[field+".upstream_keys"] = fmt.Sprintf("at most %d keys", maxTargetKeys)
			}
		case f.UpstreamKey != nil && f.UpstreamKeys != nil:
			bad[field] = "give either upstream_key or upstream_keys, not both"
			continue
		case f.UpstreamKey != nil || f.UpstreamKeys != nil:
			keys := f.UpstreamKeys
			if keys == nil {
				keys = &[]string{*f.UpstreamKey}
			}
			sealed, err := sealKeys(field+".upstream_keys", *keys, keyring, bad)
			if err != nil {
				return false, err
			}
			t.Keys = sealed
		default:
			// Keys are write-only: the same target's keys stay.
			if j := slices.IndexFunc(old, func(o db.Target) bool {
				return o.Backend == t.Backend && o.BaseURL == t.BaseURL && o.AzureAPIVersion == t.AzureAPIVersion
			}); j >= 0 {
				t.Keys = old[j].Keys
				old = slices.Delete(old, j, j+1)
			}
		}
		out = append(out, t)
	}
	if len(bad) > 0 {
		return false, nil
	}
	if sameTargets(out, c.Fallbacks) {
		return false, nil
	}
	c.Fallbacks = out
	return true, nil
}

// checkTarget applies the rules of a client's own backend to a fallback; "" when t is valid.
func checkTarget(t db.Target) string {
	switch {
	case t.Backend == "":
		return "backend is required: one of " + strings.Join(backends(), ", ")
	case !slices.Contains(backends(), t.Backend):
		return fmt.Sprintf("backend %q is not a known provider; use one of %s", t.Backend, strings.Join(backends(), ", "))
	case t.BaseURL == "" && backendNeedsBaseURL(t.Backend):
		return "base_url is required for backend " + t.Backend
	case t.Backend == "azure" && t.AzureAPIVersion == "" && !strings.HasSuffix(strings.TrimRight(t.BaseURL, "/"), "/openai/v1"):
		return "azure_api_version is required for backend azure (e.g. 2024-10-21), unless base_url ends in /openai/v1"
	case len(t.AzureAPIVersion) > 40:
		return "azure_api_version must be at most 40 characters"
	}
	if t.BaseURL != "" {
		if msg := checkBaseURL(t.BaseURL); msg != "" {
			return "base_url " + msg
		}
	}
	for _, s := range []string{t.BaseURL, t.AzureAPIVersion, t.Model} {
		if msg := textError(s, false); msg != "" {
			return "each field " + msg
		}
	}
	if t.Model != "" {
		if err := providers.CheckModelID(t.Model); err != nil {
			return "model: " + providers.AsError(err).Message
		}
	}
	return ""
}

func sameTargets(a, b db.Targets) bool {
	return slices.EqualFunc(a, b, func(x, y db.Target) bool {
		return x.Backend == y.Backend && x.BaseURL == y.BaseURL && x.AzureAPIVersion == y.AzureAPIVersion &&
			x.Model == y.Model && slices.EqualFunc(x.Keys, y.Keys, func(p, q db.SealedKey) bool {
			return string(p.Ciphertext) == string(q.Ciphertext) && p.Hint == q.Hint
		})
	})
}
