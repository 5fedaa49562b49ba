package jsonscan

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// KeyIs reports whether the raw key (as ScanObject and EachMember give it: no quotes, escapes
// kept) equals k once unescaped. A key with an invalid escape equals nothing.
func KeyIs(raw []byte, k string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == k
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if json.Unmarshal(q, &s) != nil {
		return false
	}
	return s == k
}

// Field returns the raw value of key k in the object obj (the last one when repeated, as
// encoding/json does), or nil when k is absent or obj is not a valid object up to that point.
func Field(obj []byte, k string) []byte {
	var v []byte
	_ = EachMember(obj, func(key, val []byte) bool {
		if KeyIs(key, k) {
			v = val
		}
		return true
	})
	return v
}

// IsNull reports whether the raw value is absent or the literal null.
func IsNull(raw []byte) bool { return len(raw) == 0 || (len(raw) == 4 && string(raw) == "null") }

// StringValue returns the Go string of the raw JSON string s (invalid UTF-8 becomes U+FFFD, as
// in encoding/json); ok is false when s is not a valid JSON string.
func StringValue(s []byte) (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var out string
	if json.Unmarshal(s, &out) != nil {
		return "", false
	}
	return out, true
}

// StringEquals reports whether the raw JSON string s equals v, without allocating in the common
// case. A value that is not a string equals nothing.
func StringEquals(s []byte, v string) bool {
	if len(s) < 2 || s[0] != '"' {
		return false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == v
	}
	out, ok := StringValue(s)
	return ok && out == v
}

// IntValue parses a raw JSON number that holds an integer (1000, 1000.0 or 1e3); ok is false
// for anything else, a fraction or a value out of int's range included.
func IntValue(raw []byte) (int, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	if n, err := strconv.Atoi(string(raw)); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// CountChars counts the characters of the raw JSON string s: an escape sequence is one
// character, a multi-byte UTF-8 sequence is one character. A value that is not a string has 0.
func CountChars(s []byte) int {
	if len(s) < 2 || s[0] != '"' {
		return 0
	}
	n := 0
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s)-1 && s[i+1] == 'u' {
				i += 5
			} else {
				i++
			}
			n++
		case c&0xC0 != 0x80:
			n++
		}
	}
	return n
}

// ValueAfterKey finds quotedKey (a key with its quotes, e.g. `"finish_reason"`) followed by a
// colon in b and returns the index where its value starts, or -1. It is for sniffing stream
// chunks without a full scan: a quoted key followed by a colon cannot occur inside a JSON string
// value (the quotes would be escaped), so a match is a real key, though not necessarily at the
// top level. b need not be valid JSON; the value is not checked.
func ValueAfterKey(b []byte, quotedKey string) int {
	off := 0
	for {
		j := bytes.Index(b[off:], []byte(quotedKey))
		if j < 0 {
			return -1
		}
		i := SkipSpace(b, off+j+len(quotedKey))
		if i < len(b) && b[i] == ':' {
			return SkipSpace(b, i+1)
		}
		off += j + len(quotedKey)
	}
}
