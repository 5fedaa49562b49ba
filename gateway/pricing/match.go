package pricing

import (
	"encoding/json"
	"regexp"
	"strings"
)

// rule is one of genai-prices' match rules for a model or provider id, compared without regard
// to case (regex rules as written).
type rule struct {
	Or         []rule `json:"or"`
	And        []rule `json:"and"`
	Equals     string `json:"equals"`
	StartsWith string `json:"starts_with"`
	EndsWith   string `json:"ends_with"`
	Contains   string `json:"contains"`
	Regex      string `json:"regex"`

	set bool
	re  *regexp.Regexp
}

func (r *rule) UnmarshalJSON(b []byte) error {
	type plain rule
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = rule(p)
	r.set = true
	// Compared with lower-case ids: lowered once here, not on every lookup.
	r.Equals, r.StartsWith = strings.ToLower(r.Equals), strings.ToLower(r.StartsWith)
	r.EndsWith, r.Contains = strings.ToLower(r.EndsWith), strings.ToLower(r.Contains)
	if r.Regex != "" {
		// A pattern Go's regexp cannot read matches nothing rather than failing the whole table.
		r.re, _ = regexp.Compile(r.Regex)
	}
	return nil
}

// matches reports whether id (lower case) satisfies the rule; raw is id as given, for regexes.
func (r *rule) matches(id, raw string) bool {
	if r == nil || !r.set {
		return false
	}
	switch {
	case r.Or != nil:
		for i := range r.Or {
			if r.Or[i].matches(id, raw) {
				return true
			}
		}
		return false
	case r.And != nil:
		for i := range r.And {
			if !r.And[i].matches(id, raw) {
				return false
			}
		}
		return len(r.And) > 0
	case r.Equals != "":
		return id == r.Equals
	case r.StartsWith != "":
		return strings.HasPrefix(id, r.StartsWith)
	case r.EndsWith != "":
		return strings.HasSuffix(id, r.EndsWith)
	case r.Contains != "":
		return strings.Contains(id, r.Contains)
	case r.Regex != "":
		return r.re != nil && r.re.MatchString(raw)
	}
	return false
}

// dateSuffix finds a date in a model id: -YYYYMMDD or -YYYY-MM-DD, followed by the end, '-' or ':'.
var dateSuffix = regexp.MustCompile(`-(20\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(-|:|$)`)

// normalisations returns the other spellings of id to try, in order: the dates written
// -YYYY-MM-DD, then the id without its date (gpt-4o-2024-08-06 → gpt-4o).
func normalisations(id string) []string {
	var out []string
	dashed := dateSuffix.ReplaceAllString(id, "-$1-$2-$3$4")
	if dashed != id {
		out = append(out, dashed)
	}
	undated := dateSuffix.ReplaceAllStringFunc(id, func(m string) string {
		switch last := m[len(m)-1]; last {
		case '-', ':':
			return string(last)
		}
		return ""
	})
	if undated != id && undated != dashed && undated != "" {
		out = append(out, undated)
	}
	return out
}
