package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aigateway/ai-gateway/providers"
)

func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u0041"],"b":{"c":null}}`, `[true,false]`, `"\\"`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Validate(b) == nil, json.Valid(b); got != want {
			t.Fatalf("Validate(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

// FuzzStringValue reads back what providers.AppendJSONString, the writer of every protocol
// package, writes.
func FuzzStringValue(f *testing.F) {
	for _, s := range []string{"plain", "quote\" back\\slash", "ctl\x00\x1f\n\r\t", "é漢字😀", "\u2028\u2029", "bad\xffutf8", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := providers.AppendJSONString(nil, s)
		if !json.Valid(enc) {
			t.Fatalf("AppendJSONString(%q) = %s is not valid JSON", s, enc)
		}
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatal(err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD, as in encoding/json
		}
		if back != want {
			t.Fatalf("round trip of %q = %q", s, back)
		}
		if got, ok := StringValue(enc); !ok || got != want {
			t.Fatalf("StringValue(%s) = %q, %v", enc, got, ok)
		}
		if n := CountChars(enc); n != utf8.RuneCountInString(want) && !hasSurrogateOrReplacement(want) {
			t.Fatalf("CountChars(%s) = %d, want %d", enc, n, utf8.RuneCountInString(want))
		}
	})
}

func hasSurrogateOrReplacement(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r > 0xFFFF {
			return true
		}
	}
	return false
}

// FuzzSkipValue checks that SkipValue stops exactly at the end of the first value: what it
// accepts is valid JSON, and on a valid document it consumes all but trailing whitespace.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2]} `, `"x"1`, `[1,{"b":"\u00e9"}]]`, `-0.5e+3,`, `nul`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		end, err := SkipValue(b, 0, 0)
		if err != nil {
			if json.Valid(b) && len(b) > 0 && !isSpace(b[0]) {
				t.Fatalf("SkipValue(%q) = %v on valid JSON", b, err)
			}
			return
		}
		if end <= 0 || end > len(b) || !json.Valid(b[:end]) {
			t.Fatalf("SkipValue(%q) = %d: %q is not one JSON value", b, end, b[:max(0, min(end, len(b)))])
		}
		if json.Valid(b) && SkipSpace(b, end) != len(b) {
			t.Fatalf("SkipValue(%q) stopped at %d inside a valid document", b, end)
		}
	})
}

// FuzzObjectRoundTrip checks the editor: an untouched object encodes to the same JSON value,
// a member set or deleted reads back so after a fresh parse, and the rest is unchanged.
func FuzzObjectRoundTrip(f *testing.F) {
	for _, s := range []string{`{"model":"a" , "n": 1,"x":{"deep":[1, 2]}}`, `{}`, `{"a\u0062":1,"ab":2}`, `{"k":1,"k":2}`, `[1]`, `{"a":}`} {
		f.Add([]byte(s), "k", []byte(`"v"`))
	}
	f.Fuzz(func(t *testing.T, b []byte, k string, val []byte) {
		o, err := ParseObject(b)
		if err != nil {
			i := SkipSpace(b, 0)
			if json.Valid(b) && b[i] == '{' {
				t.Fatalf("ParseObject(%q) = %v on a valid object", b, err)
			}
			return
		}
		var want map[string]any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("ParseObject accepted %q: %v", b, err)
		}
		same := o.Bytes()
		var got map[string]any
		if err := json.Unmarshal(same, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("untouched %q encodes to %q (%v)", b, same, err)
		}
		if end, err := SkipValue(val, 0, 0); err != nil || end != len(val) || strings.ContainsAny(k, `\"`) || !utf8.ValidString(k) || hasControl(k) {
			return
		}
		o.Set(k, val)
		o2, err := ParseObject(o.Bytes())
		if err != nil || !bytes.Equal(o2.Get(k), val) {
			t.Fatalf("after Set(%q, %q) on %q: %q (%v)", k, val, b, o.Bytes(), err)
		}
		o2.Del(k)
		o3, err := ParseObject(o2.Bytes())
		if err != nil || o3.Has(k) {
			t.Fatalf("after Del(%q) on %q: %q (%v)", k, b, o2.Bytes(), err)
		}
		delete(want, k)
		got = nil
		if err := json.Unmarshal(o3.Bytes(), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Set then Del of %q changed other members of %q: %q", k, b, o3.Bytes())
		}
	})
}

func hasControl(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 {
			return true
		}
	}
	return false
}
