package anthropic

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// Same-protocol path: the Anthropic front door forwards the caller's Messages body to an
// Anthropic backend. These helpers read what policy needs and change only what policy requires,
// keeping every other byte.

// Rewrite says what policy changes in a forwarded Messages body.
type Rewrite struct {
	// Model replaces "model" when not empty.
	Model string
	// System is injected as the first system text when not empty: a missing system becomes
	// this string, a string system becomes [this, the caller's] as text blocks, and a block list
	// gets this text block in front (the caller's blocks, cache_control included, stay as sent).
	System string
	// MaxTokens caps max_tokens when > 0: a larger value is lowered to it, a missing one set to it.
	MaxTokens int
}

// member is one top-level key of a JSON object: the raw key (escapes kept) and its value's offsets.
type member struct {
	key              []byte
	valStart, valEnd int
}

// edit replaces body[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// RewriteRequest applies rw to a Messages body and returns the new body (body itself when
// nothing changes). Only the values of
// model, system and max_tokens change (or are added right after the opening brace); every other
// byte of the body is kept as sent. Errors are KindBadRequest *providers.Error: a body that is not
// a JSON object (with the parser's message), or a system / max_tokens of the wrong type.
func RewriteRequest(body []byte, rw Rewrite) ([]byte, error) {
	open, members, err := topLevel(body)
	if err == jsonscan.ErrNotObject {
		return nil, badRequest("request body must be a JSON object")
	}
	if err != nil {
		return nil, badRequest("invalid JSON body: %s", jsonscan.SyntaxError(body))
	}
	var edits []edit
	var inserts []byte
	insert := func(key string, value []byte) {
		if len(inserts) > 0 {
			inserts = append(inserts, ',')
		}
		inserts = appendString(inserts, key)
		inserts = append(inserts, ':')
		inserts = append(inserts, value...)
	}

	if rw.Model != "" {
		v := appendString(nil, rw.Model)
		found, _ := replaceAll(&edits, body, members, "model", func([]byte) ([]byte, error) { return v, nil })
		if !found {
			insert("model", v)
		}
	}
	if rw.MaxTokens > 0 {
		capped := appendInt(nil, rw.MaxTokens)
		found, err := replaceAll(&edits, body, members, "max_tokens", func(old []byte) ([]byte, error) {
			if string(old) == "null" {
				return capped, nil
			}
			f, err := strconv.ParseFloat(string(old), 64)
			if err != nil || math.IsNaN(f) {
				return nil, badRequest("max_tokens: Input should be a valid integer")
			}
			if f > float64(rw.MaxTokens) {
				return capped, nil
			}
			return nil, nil
		})
		if err != nil {
			return nil, err
		}
		if !found {
			insert("max_tokens", capped)
		}
	}
	if rw.System != "" {
		found, err := replaceAll(&edits, body, members, "system", func(old []byte) ([]byte, error) {
			return injectSystem(old, rw.System)
		})
		if err != nil {
			return nil, err
		}
		if !found {
			insert("system", appendString(nil, rw.System))
		}
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })

	if len(edits) == 0 && len(inserts) == 0 {
		return body, nil
	}
	out := make([]byte, 0, len(body)+len(inserts)+len(rw.System)+64)
	pos := open + 1
	out = append(out, body[:pos]...)
	if len(inserts) > 0 {
		out = append(out, inserts...)
		if len(members) > 0 {
			out = append(out, ',')
		}
	}
	for _, e := range edits {
		out = append(out, body[pos:e.start]...)
		out = append(out, e.repl...)
		pos = e.end
	}
	return append(out, body[pos:]...), nil
}

// replaceAll adds an edit for every member named key (a duplicated key is rewritten in every
// place); f returns the new value, or nil to keep the old one. It reports whether key was found.
func replaceAll(edits *[]edit, body []byte, members []member, key string, f func(old []byte) ([]byte, error)) (bool, error) {
	found := false
	for _, m := range members {
		if !jsonscan.KeyIs(m.key, key) {
			continue
		}
		found = true
		v, err := f(body[m.valStart:m.valEnd])
		if err != nil {
			return true, err
		}
		if v != nil {
			*edits = append(*edits, edit{start: m.valStart, end: m.valEnd, repl: v})
		}
	}
	return found, nil
}

// injectSystem puts prompt in front of a system value.
func injectSystem(old []byte, prompt string) ([]byte, error) {
	switch old[0] {
	case 'n': // null
		return appendString(nil, prompt), nil
	case '"':
		if string(old) == `""` {
			return appendString(nil, prompt), nil
		}
		v := append([]byte(`[{"type":"text","text":`), appendString(nil, prompt)...)
		v = append(v, `},{"type":"text","text":`...)
		v = append(v, old...)
		return append(v, "}]"...), nil
	case '[':
		v := append([]byte(`[{"type":"text","text":`), appendString(nil, prompt)...)
		v = append(v, '}')
		rest := bytes.TrimLeft(old[1:], " \t\r\n")
		if len(rest) > 0 && rest[0] != ']' {
			v = append(v, ',')
		}
		return append(v, old[1:]...), nil
	}
	return nil, badRequest("system: Input should be a valid string or list of text blocks")
}

// topLevel validates body and splits its top-level object into members. It returns the offset
// of the opening brace, jsonscan.ErrSyntax for invalid JSON and jsonscan.ErrNotObject for a
// value that is not an object.
func topLevel(b []byte) (open int, members []member, err error) {
	open = jsonscan.SkipSpace(b, 0)
	if open >= len(b) || b[open] != '{' {
		if jsonscan.Validate(b) != nil {
			return 0, nil, jsonscan.ErrSyntax
		}
		return 0, nil, jsonscan.ErrNotObject
	}
	end, err := jsonscan.ScanObject(b, open, 0, func(key []byte, v int) (int, error) {
		end, err := jsonscan.SkipValue(b, v, 1)
		if err == nil {
			members = append(members, member{key: key, valStart: v, valEnd: end})
		}
		return end, err
	})
	if err == nil && jsonscan.SkipSpace(b, end) != len(b) {
		err = jsonscan.ErrSyntax
	}
	return open, members, err
}
