package openai

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `true`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
		`"\u00e9\n\"\\\/"`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `1e`, `"\x"`, `"\u12"`, "\"\x01\"",
		`{"a" 1}`, `{1:2}`, `tru`, `nul`, `[1 2]`, `{"a":1}{"b":2}`, ``, `   `, `"unterminated`, `[`, `{"a":`,
		"\"\xff\"", `1E5`, `-1.0e-5`, `[[[[]]]]`,
	} {
		want := json.Valid([]byte(s))
		got := validate([]byte(s)) == nil
		if got != want {
			t.Errorf("validate(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u0041"],"b":{"c":null}}`, `[true,false]`, `"\\"`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validate(b) == nil, json.Valid(b); got != want {
			t.Fatalf("validate(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"plain", "quote\" back\\slash", "ctl\x00\x1f\n\r\t", "é漢字😀", "\u2028\u2029", "bad\xffutf8", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString(nil, s)
		if !json.Valid(enc) {
			t.Fatalf("appendString(%q) = %s is not valid JSON", s, enc)
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
		if got, ok := stringValue(enc); !ok || got != want {
			t.Fatalf("stringValue(%s) = %q, %v", enc, got, ok)
		}
		if n := countChars(enc); n != utf8.RuneCountInString(want) && !hasSurrogateOrReplacement(want) {
			t.Fatalf("countChars(%s) = %d, want %d", enc, n, utf8.RuneCountInString(want))
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

func TestCountChars(t *testing.T) {
	for raw, want := range map[string]int{
		`""`: 0, `"abc"`: 3, `"\n\t"`: 2, `"\u00e9t\u00e9"`: 3, `"été"`: 3, `"漢字"`: 2, `null`: 0, `12`: 0,
	} {
		if got := countChars([]byte(raw)); got != want {
			t.Errorf("countChars(%s) = %d, want %d", raw, got, want)
		}
	}
}

func TestObjectEditKeepsOrderAndRawValues(t *testing.T) {
	in := `{"model":"a", "temperature": 0,"x_unknown":{"deep":[1, 2]},"max_tokens":10,"dup":1,"dup":2}`
	o, err := parseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(o.get("dup")); got != "2" {
		t.Fatalf("get(dup) = %s, want the last value like encoding/json", got)
	}
	o.set("model", []byte(`"b"`))
	o.rename("max_tokens", "max_completion_tokens")
	o.set("dup", []byte(`3`))
	o.set("new", []byte(`true`))
	o.del("nothing")
	want := `{"model":"b","temperature":0,"x_unknown":{"deep":[1, 2]},"max_completion_tokens":10,"dup":3,"new":true}`
	if got := string(o.bytes()); got != want {
		t.Fatalf("edited object:\n got %s\nwant %s", got, want)
	}
	// rename onto an existing key drops the source.
	o.set("max_tokens", []byte(`5`))
	o.rename("max_tokens", "max_completion_tokens")
	if o.has("max_tokens") || string(o.get("max_completion_tokens")) != "10" {
		t.Fatalf("rename onto existing key: %s", o.bytes())
	}
}

func TestParseObjectRejects(t *testing.T) {
	for _, in := range []string{`[1]`, `"s"`, `{"a":}`, `{"a":1`, ``} {
		if _, err := parseObject([]byte(in)); err == nil {
			t.Errorf("parseObject(%q) succeeded", in)
		}
	}
}

func TestValueAfterKeyIgnoresEscapedQuotes(t *testing.T) {
	chunk := `{"choices":[{"delta":{"content":"say \"finish_reason\": \"stop\""},"finish_reason":null}]}`
	i := valueAfterKey([]byte(chunk), `"finish_reason"`)
	if i < 0 || chunk[i:i+4] != "null" {
		t.Fatalf("valueAfterKey found %d (%q), want the real key's null", i, chunk[max(i, 0):])
	}
}

func TestValidateDepthLimitMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{9999, 10000, 10001} {
		b := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		if got, want := validate(b) == nil, json.Valid(b); got != want {
			t.Errorf("depth %d: validate %v, encoding/json %v", n, got, want)
		}
		o := []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n))
		if got, want := validate(o) == nil, json.Valid(o); got != want {
			t.Errorf("object depth %d: validate %v, encoding/json %v", n, got, want)
		}
	}
}

// TestSkipPlainStopsAtTheFirstSpecialByte puts each byte that ends plain content at every
// offset of a word, after bytes that borrow in the word tests (0x00-0x21, 0x5b, 0x80+).
func TestSkipPlainStopsAtTheFirstSpecialByte(t *testing.T) {
	for _, special := range []byte{'"', '\\', 0x00, 0x1f, '\n'} {
		for _, filler := range []byte{'a', ' ', '!', '#', '[', ']', 0x7f, 0x80, 0xff} {
			for at := range 20 {
				b := []byte(strings.Repeat(string(filler), 24))
				b[at] = special
				if got := skipPlain(b, 0); got > at {
					t.Fatalf("special %#x after filler %#x at %d: skipPlain went to %d", special, filler, at, got)
				}
				// The byte loop finishes the job: together they must find exactly at.
				i := skipPlain(b, 0)
				for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
					i++
				}
				if i != at {
					t.Fatalf("special %#x after filler %#x at %d: found %d", special, filler, at, i)
				}
			}
		}
	}
}

func BenchmarkSkipStringLong(b *testing.B) {
	s := []byte(`"` + strings.Repeat("lorem ipsum dolor sit amet, ", 40) + `"`)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := skipString(s, 0); err != nil {
			b.Fatal(err)
		}
	}
}
