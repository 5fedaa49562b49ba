package db

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Widths of the accounting tables' VARCHAR columns (migrations): PostgreSQL refuses a longer
// value, SQLite ignores the width. TestColumnWidthsMatchTheSchema keeps them in step.
const (
	RequestIDWidth    = 64
	EndpointWidth     = 100
	ModelWidth        = 200
	ProviderWidth     = 40
	ErrorClassWidth   = 40
	FinishReasonWidth = 40
	ClientIPWidth     = 64
	TraceIDWidth      = 32
	DayWidth          = 10
)

// StorableText returns s as every database the gateway supports can store it in a text column
// of width characters (0: unbounded): valid UTF-8, with each invalid byte sequence replaced by
// U+FFFD; no NUL (PostgreSQL refuses it in text, and SQL spelt with it does not parse in SQLite),
// replaced by U+FFFD too; and cut to width characters. It returns s itself when s is storable.
//
// Strings that come from outside (a client's request, an upstream's answer) go through it
// before they are stored; admin input is refused instead (the routes' field validation).
func StorableText(s string, width int) string {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	if width > 0 && len(s) > width { // fewer bytes than width cannot be more characters
		n := 0
		for i := range s {
			if n == width {
				return s[:i]
			}
			n++
		}
	}
	return s
}

// Storable returns r with every text field made storable (StorableText) at its column's width.
func (r RequestLog) Storable() RequestLog {
	r.RequestID = StorableText(r.RequestID, RequestIDWidth)
	r.Endpoint = StorableText(r.Endpoint, EndpointWidth)
	r.ModelRequested = StorableText(r.ModelRequested, ModelWidth)
	r.ModelUsed = StorableText(r.ModelUsed, ModelWidth)
	r.Provider = StorableText(r.Provider, ProviderWidth)
	r.ErrorClass = StorableText(r.ErrorClass, ErrorClassWidth)
	r.ErrorMessage = StorableText(r.ErrorMessage, 0)
	r.FinishReason = StorableText(r.FinishReason, FinishReasonWidth)
	r.ClientIP = StorableText(r.ClientIP, ClientIPWidth)
	r.TraceID = StorableText(r.TraceID, TraceIDWidth)
	r.RequestBody = StorableText(r.RequestBody, 0)
	r.ResponseBody = StorableText(r.ResponseBody, 0)
	r.Attempts = Edited(r.Attempts, func(a *Attempt) bool {
		p, u, e := editText(&a.Provider, ProviderWidth), editText(&a.BaseURL, 0), editText(&a.Error, 0)
		return p || u || e
	})
	r.ToolSteps = Edited(r.ToolSteps, func(t *ToolStep) bool {
		tool, status, err := editText(&t.Tool, 0), editText(&t.Status, 0), editText(&t.Error, 0)
		args, result := editText(&t.Arguments, 0), editText(&t.Result, 0)
		return tool || status || err || args || result
	})
	return r
}

// Storable returns u with its day and model made storable (StorableText) at their columns'
// widths. Two models that differ only in what is replaced or cut become one row.
func (u UsageDaily) Storable() UsageDaily {
	u.Day = StorableText(u.Day, DayWidth)
	u.Model = StorableText(u.Model, ModelWidth)
	return u
}

// Storable returns m with every model name made storable (StorableText). The list is stored as
// JSON text, which has room for any name.
func (m ModelsCacheUpdate) Storable() ModelsCacheUpdate {
	m.Models = Edited(m.Models, func(name *string) bool { return editText(name, 0) })
	return m
}

// editText makes *s storable at width (StorableText) and reports whether that changed it.
func editText(s *string, width int) bool {
	clean := StorableText(*s, width)
	changed := clean != *s
	*s = clean
	return changed
}

// Edited returns list with edit applied to each element; edit reports whether it changed the
// element. list is copied when the first element changes and left as it is, so a list shared
// with others (a call's attempts, read while its row waits to be written) is never written to,
// and an unchanged one costs no copy.
func Edited[S ~[]T, T any](list S, edit func(*T) bool) S {
	var out S
	for i := range list {
		v := list[i]
		if !edit(&v) {
			continue
		}
		if out == nil {
			out = slices.Clone(list)
		}
		out[i] = v
	}
	if out == nil {
		return list
	}
	return out
}
