package jsonscan

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
)

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

// ErrSyntax is returned for input that is not valid JSON. Turn it into encoding/json's own
// message with SyntaxError so users see the parser's wording.
var ErrSyntax = errors.New("invalid JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the index of the first byte from i on that is not JSON whitespace (len(b)
// when there is none).
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// SkipValue validates the JSON value that starts at b[i] (no leading whitespace) and returns the
// index just past it, or ErrSyntax. depth is the nesting depth of the value (0 at the top level);
// it bounds recursion like encoding/json does.
func SkipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return SkipString(b, i)
	case c == '{':
		return ScanObject(b, i, depth, func(_ []byte, v int) (int, error) { return SkipValue(b, v, depth+1) })
	case c == '[':
		return ScanArray(b, i, depth, func(v int) (int, error) { return SkipValue(b, v, depth+1) })
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	}
	return 0, ErrSyntax
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, ErrSyntax
	}
	return i + len(lit), nil
}

func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, ErrSyntax
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
			return 0, ErrSyntax
		}
	}
	return i, nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// SkipString validates the string starting at b[i] == '"' and returns the index past its closing
// quote, or ErrSyntax.
func SkipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, ErrSyntax
	}
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
			return 0, ErrSyntax
		}
		if b[i] == '"' {
			return i + 1, nil
		}
		// Escape.
		if i+1 >= len(b) {
			return 0, ErrSyntax
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
				return 0, ErrSyntax
			}
			i += 6
		default:
			return 0, ErrSyntax
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

// Validate returns nil when b is exactly one JSON value with optional surrounding whitespace,
// else ErrSyntax. It accepts what json.Valid accepts.
func Validate(b []byte) error {
	i := SkipSpace(b, 0)
	i, err := SkipValue(b, i, 0)
	if err != nil {
		return err
	}
	if SkipSpace(b, i) != len(b) {
		return ErrSyntax
	}
	return nil
}

// SyntaxError returns encoding/json's message for the invalid JSON b, so callers can show the
// parser's words; "invalid JSON" when encoding/json accepts b after all.
func SyntaxError(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// ScanObject walks the object that starts at b[i] == '{', validating it. For each member it calls
// fn with the raw key (a sub-slice of b: no quotes, escapes kept) and the index where the value
// starts; fn must consume the value and return the index just past it (SkipValue(b, v, depth+1)
// does, or fn walks it itself so nested data is scanned once). depth is the object's nesting
// depth. It returns the index past the closing brace, ErrSyntax, or fn's error.
func ScanObject(b []byte, i, depth int, fn func(key []byte, v int) (int, error)) (int, error) {
	if depth >= maxDepth || i >= len(b) || b[i] != '{' {
		return 0, ErrSyntax
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, ErrSyntax
		}
		kEnd, err := SkipString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : kEnd-1]
		i = SkipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, ErrSyntax
		}
		i = SkipSpace(b, i+1)
		if i >= len(b) {
			return 0, ErrSyntax
		}
		if i, err = fn(key, i); err != nil {
			return 0, err
		}
		i = SkipSpace(b, i)
		if i >= len(b) {
			return 0, ErrSyntax
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, ErrSyntax
		}
		i = SkipSpace(b, i+1)
	}
}

// ScanArray walks the array that starts at b[i] == '[' like ScanObject walks an object: fn gets
// the index where each element starts and returns the index just past it.
func ScanArray(b []byte, i, depth int, fn func(v int) (int, error)) (int, error) {
	if depth >= maxDepth || i >= len(b) || b[i] != '[' {
		return 0, ErrSyntax
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return 0, ErrSyntax
		}
		var err error
		if i, err = fn(i); err != nil {
			return 0, err
		}
		i = SkipSpace(b, i)
		if i >= len(b) {
			return 0, ErrSyntax
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, ErrSyntax
		}
		i = SkipSpace(b, i+1)
	}
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// EachMember calls fn with the raw key and raw value of each member of the object obj (leading
// whitespace allowed), in order, until fn returns false. It validates as it goes: ErrSyntax
// means the walk met invalid JSON (or obj is not an object) after fn saw the members before it.
// Bytes after the object are not looked at.
func EachMember(obj []byte, fn func(key, val []byte) bool) error {
	i := SkipSpace(obj, 0)
	_, err := ScanObject(obj, i, 1, func(key []byte, v int) (int, error) {
		end, err := SkipValue(obj, v, 2)
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

// EachElement calls fn with each raw element of the array arr like EachMember does for members.
func EachElement(arr []byte, fn func(val []byte) bool) error {
	i := SkipSpace(arr, 0)
	_, err := ScanArray(arr, i, 1, func(v int) (int, error) {
		end, err := SkipValue(arr, v, 2)
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
