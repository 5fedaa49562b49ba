package routes

import (
	"unicode/utf8"
)

// Text an admin types is stored as typed, so it is checked where it is submitted (the JSON API
// and the HTML forms alike) and refused with a field error when the database could not store it
// or it would show as something else than what was meant: invalid UTF-8 (PostgreSQL refuses it),
// NUL (PostgreSQL refuses it, and SQL spelt with it does not parse in SQLite) and the other
// control characters. Text from clients and upstreams is not refused but made storable
// (db.StorableText) where the gateway builds its rows.

// textError says what is wrong with s as the value of a text field, or "" when nothing is.
// Multi-line fields (a description, a system prompt) may hold tabs and line breaks.
func textError(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			if multiline {
				return "must not contain control characters (such as NUL) other than tabs and line breaks"
			}
			return "must not contain control characters (such as NUL, tabs or line breaks)"
		}
	}
	return ""
}
