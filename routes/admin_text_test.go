package routes

import "testing"

func TestTextError(t *testing.T) {
	tests := []struct {
		in        string
		multiline bool
		ok        bool
	}{
		{"app-1 ü 😀", false, true},
		{"a\x00b", false, false},
		{"a\x00b", true, false},
		{"a\xffb", true, false},
		{"a\tb", false, false},
		{"line\r\nline\tcol", true, true},
		{"a\x1bb", true, false},
		{"a\u0085b", true, false}, // C1 control (NEL)
		{"a\x7fb", false, false},
		{"", false, true},
	}
	for _, tt := range tests {
		if got := textError(tt.in, tt.multiline) == ""; got != tt.ok {
			t.Errorf("textError(%q, multiline=%v) = %q; want ok=%v", tt.in, tt.multiline, textError(tt.in, tt.multiline), tt.ok)
		}
	}
}

// The history's model filter finds rows whose model was made storable (db.StorableText), and a
// NUL typed into it is a filter that matches nothing, not a failing query.
func TestRequestFilterModelIsStorableText(t *testing.T) {
	q := parseRequestQuery(func(k string) string {
		if k == "model" {
			return "x\x00y\xff"
		}
		return ""
	})
	if q.filter.Model != "x\uFFFDy\uFFFD" || len(q.bad) != 0 {
		t.Errorf("filter model %q, errors %v", q.filter.Model, q.bad)
	}
}
