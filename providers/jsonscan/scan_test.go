package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidateAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+3`, `true`, `null`, ` {"a" : [1, 2, {"b": null}] } `,
		`"\u00e9\n\"\\\/"`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `1e`, `"\x"`, `"\u12"`, "\"\x01\"",
		`{"a" 1}`, `{1:2}`, `tru`, `nul`, `[1 2]`, `{"a":1}{"b":2}`, ``, `   `, `"unterminated`, `[`, `{"a":`,
		"\"\xff\"", `1E5`, `-1.0e-5`, `[[[[]]]]`,
	} {
		want := json.Valid([]byte(s))
		got := Validate([]byte(s)) == nil
		if got != want {
			t.Errorf("Validate(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

func TestCountChars(t *testing.T) {
	for raw, want := range map[string]int{
		`""`: 0, `"abc"`: 3, `"\n\t"`: 2, `"\u00e9t\u00e9"`: 3, `"été"`: 3, `"漢字"`: 2, `null`: 0, `12`: 0,
	} {
		if got := CountChars([]byte(raw)); got != want {
			t.Errorf("CountChars(%s) = %d, want %d", raw, got, want)
		}
	}
}

func TestValueAfterKeyIgnoresEscapedQuotes(t *testing.T) {
	chunk := `{"choices":[{"delta":{"content":"say \"finish_reason\": \"stop\""},"finish_reason":null}]}`
	i := ValueAfterKey([]byte(chunk), `"finish_reason"`)
	if i < 0 || chunk[i:i+4] != "null" {
		t.Fatalf("valueAfterKey found %d (%q), want the real key's null", i, chunk[max(i, 0):])
	}
}

func TestValidateDepthLimitMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{9999, 10000, 10001} {
		b := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		if got, want := Validate(b) == nil, json.Valid(b); got != want {
			t.Errorf("depth %d: validate %v, encoding/json %v", n, got, want)
		}
		o := []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n))
		if got, want := Validate(o) == nil, json.Valid(o); got != want {
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
		if _, err := SkipString(s, 0); err != nil {
			b.Fatal(err)
		}
	}
}
