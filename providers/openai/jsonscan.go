package openai

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/aigateway/ai-gateway/providers"
)

// This file is a small validating JSON scanner and an order-preserving editor for the top level of
// a JSON object. The same-protocol path uses it to change a few keys of a request and to sniff
// stream chunks without decoding them: every other byte of the body is kept as the client sent it.

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

// errSyntax is returned by the scanner; callers turn it into encoding/json's own message with
// syntaxError so users see the parser's wording.
var errSyntax = errors.New("invalid JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue validates the JSON value that starts at b[i] (no leading whitespace) and returns the
// index just past it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		return scanObject(b, i, depth, func(_ []byte, v int) (int, error) { return skipValue(b, v, depth+1) })
	case c == '[':
		return scanArray(b, i, depth, func(v int) (int, error) { return skipValue(b, v, depth+1) })
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	}
	return 0, errSyntax
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, errSyntax
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, errSyntax
		}
	}
	return i, nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// skipString validates the string starting at b[i] == '"' and returns the index past its closing quote.
func skipString(b []byte, i int) (int, error) {
	i++
	for {
		// Skip plain content, eight bytes at a time: this loop is the scanner's hot spot.
		i = skipPlain(b, i)
		for i < len(b) {
			c := b[i]
			if c < 0x20 || c == '"' || c == '\\' {
				break
			}
			i++
		}
		if i >= len(b) || b[i] < 0x20 {
			return 0, errSyntax
		}
		if b[i] == '"' {
			return i + 1, nil
		}
		// Escape.
		if i+1 >= len(b) {
			return 0, errSyntax
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
				return 0, errSyntax
			}
			i += 6
		default:
			return 0, errSyntax
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// skipPlain returns the index of the first byte from i on that may end plain string content (a
// control character, a quote or a backslash), looking at eight bytes per step; near the end of
// b it stops early and leaves the rest to the byte loop. Each test below flags a byte's top bit;
// borrows can flag bytes after a real match too, never before one, so the lowest flag is exact.
func skipPlain(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (lsb * '"')
		s := x ^ (lsb * '\\')
		ctl := (x - lsb*0x20) &^ x
		quote := (q - lsb) &^ q
		slash := (s - lsb) &^ s
		if hit := (ctl | quote | slash) & msb; hit != 0 {
			return i + bits.TrailingZeros64(hit)/8
		}
		i += 8
	}
	return i
}

// validate reports whether b is exactly one JSON value with optional surrounding whitespace.
func validate(b []byte) error {
	i := skipSpace(b, 0)
	i, err := skipValue(b, i, 0)
	if err != nil {
		return err
	}
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	return nil
}

// syntaxError returns encoding/json's message for invalid JSON b, so callers see the parser's words.
func syntaxError(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// member is one key/value pair of an object: key is the raw key without quotes (escapes kept),
// val the raw value bytes.
type member struct {
	key []byte
	val []byte
}

// scanObject walks the object that starts at b[i] == '{', validating it. For each member it calls
// fn with the raw key (no quotes, escapes kept) and the index where the value starts; fn must
// consume the value and return the index just past it (skipValue does, or fn walks it itself,
// so nested data is scanned once). It returns the index past the closing brace.
func scanObject(b []byte, i, depth int, fn func(key []byte, v int) (int, error)) (int, error) {
	if depth >= maxDepth || i >= len(b) || b[i] != '{' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		kEnd, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : kEnd-1]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return 0, errSyntax
		}
		if i, err = fn(key, i); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errSyntax
		}
		i = skipSpace(b, i+1)
	}
}

// scanArray walks the array that starts at b[i] == '[' like scanObject walks an object.
func scanArray(b []byte, i, depth int, fn func(v int) (int, error)) (int, error) {
	if depth >= maxDepth || i >= len(b) || b[i] != '[' {
		return 0, errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return 0, errSyntax
		}
		var err error
		if i, err = fn(i); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, errSyntax
		}
		i = skipSpace(b, i+1)
	}
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// eachMember calls fn for each member of the object obj (validating as it goes), in order, until
// fn returns false.
func eachMember(obj []byte, fn func(key, val []byte) bool) error {
	i := skipSpace(obj, 0)
	_, err := scanObject(obj, i, 1, func(key []byte, v int) (int, error) {
		end, err := skipValue(obj, v, 2)
		if err != nil {
			return 0, err
		}
		if !fn(key, obj[v:end]) {
			return 0, errStop
		}
		return end, nil
	})
	if err == errStop {
		return nil
	}
	return err
}

// eachElement calls fn for each element of the array arr (validating as it goes), in order,
// until fn returns false.
func eachElement(arr []byte, fn func(val []byte) bool) error {
	i := skipSpace(arr, 0)
	_, err := scanArray(arr, i, 1, func(v int) (int, error) {
		end, err := skipValue(arr, v, 2)
		if err != nil {
			return 0, err
		}
		if !fn(arr[v:end]) {
			return 0, errStop
		}
		return end, nil
	})
	if err == errStop {
		return nil
	}
	return err
}

// keyIs reports whether the raw (still escaped) key equals k.
func keyIs(raw []byte, k string) bool {
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

// field returns the raw value of key k in the validated object obj (the last one when repeated,
// as encoding/json does), or nil.
func field(obj []byte, k string) []byte {
	var v []byte
	_ = eachMember(obj, func(key, val []byte) bool {
		if keyIs(key, k) {
			v = val
		}
		return true
	})
	return v
}

// isNull reports whether raw is absent or the literal null.
func isNull(raw []byte) bool { return len(raw) == 0 || (len(raw) == 4 && string(raw) == "null") }

// stringValue returns the Go string of the raw JSON string s; ok is false when s is not a string.
func stringValue(s []byte) (string, bool) {
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

// stringEquals reports whether the raw JSON string s equals v, without allocating in the common case.
func stringEquals(s []byte, v string) bool {
	if len(s) < 2 || s[0] != '"' {
		return false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == v
	}
	out, ok := stringValue(s)
	return ok && out == v
}

// intValue parses a raw JSON number that holds an integer (1000 or 1000.0 or 1e3).
func intValue(raw []byte) (int, bool) {
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

// countChars counts the characters of the raw JSON string s: an escape sequence is one character,
// a multi-byte UTF-8 sequence is one character.
func countChars(s []byte) int {
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

// appendString appends s as a JSON string literal (see providers.AppendJSONString).
func appendString(dst []byte, s string) []byte { return providers.AppendJSONString(dst, s) }

// object is an order-preserving editable view of a JSON object's top level. Values are raw bytes:
// members nobody touches are written back exactly as they came.
type object struct {
	members []member
	changed bool
}

// parseObject validates b and splits its top level in one pass. b must be a JSON object.
func parseObject(b []byte) (*object, error) {
	i := skipSpace(b, 0)
	if i >= len(b) {
		return nil, errSyntax
	}
	if b[i] != '{' {
		if validate(b) != nil {
			return nil, errSyntax
		}
		return nil, errNotObject
	}
	o := &object{members: make([]member, 0, 16)}
	end, err := scanObject(b, i, 0, func(key []byte, v int) (int, error) {
		end, err := skipValue(b, v, 1)
		if err == nil {
			o.members = append(o.members, member{key: key, val: b[v:end]})
		}
		return end, err
	})
	if err != nil {
		return nil, err
	}
	if skipSpace(b, end) != len(b) {
		return nil, errSyntax
	}
	return o, nil
}

var errNotObject = errors.New("the body must be a JSON object")

// get returns the raw value of k (the last occurrence), or nil.
func (o *object) get(k string) []byte {
	for i := len(o.members) - 1; i >= 0; i-- {
		if keyIs(o.members[i].key, k) {
			return o.members[i].val
		}
	}
	return nil
}

// has reports whether k is present.
func (o *object) has(k string) bool { return o.get(k) != nil }

// set replaces the value of k in place (dropping earlier duplicates) or appends it.
func (o *object) set(k string, val []byte) {
	o.changed = true
	found := false
	for i := len(o.members) - 1; i >= 0; i-- {
		if !keyIs(o.members[i].key, k) {
			continue
		}
		if !found {
			o.members[i].val = val
			found = true
			continue
		}
		o.members = append(o.members[:i], o.members[i+1:]...)
	}
	if !found {
		o.members = append(o.members, member{key: []byte(k), val: val})
	}
}

// del removes every occurrence of k and reports whether there was one.
func (o *object) del(k string) bool {
	n := 0
	for _, m := range o.members {
		if !keyIs(m.key, k) {
			o.members[n] = m
			n++
		}
	}
	removed := n != len(o.members)
	o.members = o.members[:n]
	if removed {
		o.changed = true
	}
	return removed
}

// rename moves the value of from to the key to, keeping its position, unless to is already set,
// in which case from is just dropped.
func (o *object) rename(from, to string) {
	if o.get(from) == nil {
		return
	}
	if o.has(to) {
		o.del(from)
		return
	}
	last := -1
	for i := range o.members {
		if keyIs(o.members[i].key, from) {
			last = i
		}
	}
	o.members[last].key = []byte(to)
	o.del(from) // earlier duplicates
	o.changed = true
}

// size is an upper bound of the encoded length.
func (o *object) size() int {
	n := 2
	for _, m := range o.members {
		n += len(m.key) + len(m.val) + 4
	}
	return n
}

// appendTo writes the object compactly at the top level (values are written as they are).
func (o *object) appendTo(dst []byte) []byte {
	dst = append(dst, '{')
	for i, m := range o.members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, m.key...)
		dst = append(dst, '"', ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}')
}

// bytes encodes the object.
func (o *object) bytes() []byte { return o.appendTo(make([]byte, 0, o.size())) }

// valueAfterKey finds `"key"` followed by a colon in b and returns the index where its value
// starts. It is a sniffing helper for stream chunks: a quoted key followed by a colon cannot occur
// inside a JSON string value (the quotes would be escaped), so a match is a real key, though not
// necessarily at the top level.
func valueAfterKey(b []byte, quotedKey string) int {
	off := 0
	for {
		j := bytes.Index(b[off:], []byte(quotedKey))
		if j < 0 {
			return -1
		}
		i := skipSpace(b, off+j+len(quotedKey))
		if i < len(b) && b[i] == ':' {
			return skipSpace(b, i+1)
		}
		off += j + len(quotedKey)
	}
}
