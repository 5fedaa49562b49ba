package gemini

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/aigateway/ai-gateway/providers"
)

// member is one "key": value pair of a JSON object, as byte offsets into the object's text.
type member struct {
	Key string
	// Start and End span the whole member (key through value); ValStart and ValEnd the value.
	Start, End       int
	ValStart, ValEnd int
}

var errNotObject = errors.New("not a JSON object")

// objectMembers lists the members of the JSON object in data, in order, without decoding the
// values. data should be valid JSON (check with json.Valid first); on malformed input it returns
// an error or a best-effort result, never panics. Keys are unescaped.
func objectMembers(data []byte) ([]member, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	i++
	var out []member
	for {
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, errNotObject
		}
		if data[i] == '}' {
			return out, nil
		}
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
		if i >= len(data) || data[i] != '"' {
			return nil, errNotObject
		}
		start := i
		end := skipString(data, i)
		if end < 0 {
			return nil, errNotObject
		}
		key := string(data[i+1 : end-1])
		if bytes.IndexByte(data[i:end], '\\') >= 0 {
			if err := json.Unmarshal(data[i:end], &key); err != nil {
				return nil, err
			}
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errNotObject
		}
		vs := skipSpace(data, i+1)
		ve := skipValue(data, vs)
		if ve < 0 {
			return nil, errNotObject
		}
		out = append(out, member{Key: key, Start: start, End: ve, ValStart: vs, ValEnd: ve})
		i = ve
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset just past the JSON string starting at data[i] == '"', or -1.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the offset just past the JSON value starting at data[i], or -1.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				j = skipString(data, j)
				if j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(data) {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// withoutMember returns data (a JSON object) with every top-level member named key removed.
// Everything else keeps its bytes and order. data is returned unchanged when it is not an object
// or has no such member.
func withoutMember(data json.RawMessage, key string) json.RawMessage {
	if !bytes.Contains(data, []byte(key)) {
		return data
	}
	ms, err := objectMembers(data)
	if err != nil {
		return data
	}
	var drop []member
	for _, m := range ms {
		if m.Key == key {
			drop = append(drop, m)
		}
	}
	if len(drop) == 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	out = append(out, '{')
	first := true
	for _, m := range ms {
		if m.Key == key {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, data[m.Start:m.End]...)
	}
	return append(out, '}')
}

// compactJSON returns raw without insignificant whitespace, or raw unchanged when it is not valid JSON.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// isJSONObject reports whether raw is a valid JSON object.
func isJSONObject(raw []byte) bool {
	i := skipSpace(raw, 0)
	return i < len(raw) && raw[i] == '{' && json.Valid(raw)
}

// marshal encodes v as compact JSON without HTML escaping. Encoding the package's own wire
// types cannot fail; if it ever did, the result would be "null", which callers treat as invalid.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	out := b.Bytes()
	return out[:len(out)-1] // Encode appends a newline
}

// appendJSONString appends s as a JSON string literal (see providers.AppendJSONString).
func appendJSONString(dst []byte, s string) []byte { return providers.AppendJSONString(dst, s) }
