package routes

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// The request history's filters, shared by the page and GET /admin/api/v1/requests:
// client_id, model, status ("429" or a class "4xx"), from and to (UTC, "2006-01-02T15:04" as a
// browser's datetime-local sends it, or RFC 3339), before (the id cursor) and limit.

const (
	historyPageSize = 50
	historyMaxLimit = 500
)

var statusClassPattern = regexp.MustCompile(`^[1-5]xx$`)

// requestQuery is a parsed history query.
type requestQuery struct {
	filter db.RequestLogFilter
	// form is the filter as it was typed, for the page's form and its links.
	form views.RequestFilter
	bad  fieldErrors
}

// parseRequestQuery reads the filters from query (c.Query). limit 0 means the page size.
func parseRequestQuery(query func(string) string) requestQuery {
	q := requestQuery{bad: fieldErrors{}, form: views.RequestFilter{
		ClientID: strings.TrimSpace(query("client_id")),
		Model:    strings.TrimSpace(query("model")),
		Status:   strings.ToLower(strings.TrimSpace(query("status"))),
		From:     strings.TrimSpace(query("from")),
		To:       strings.TrimSpace(query("to")),
	}}
	f := &q.filter
	// Stored models went through db.StorableText: the filter matches them the same way, and a
	// NUL typed into it finds nothing instead of failing the query.
	f.Model = db.StorableText(q.form.Model, db.ModelWidth)
	if v := q.form.ClientID; v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			f.ClientID = id
		} else {
			q.bad["client_id"] = "must be a client id"
		}
	}
	switch v := q.form.Status; {
	case v == "":
	case statusClassPattern.MatchString(v):
		f.StatusClass = int(v[0] - '0')
	default:
		if n, err := strconv.Atoi(v); err == nil && n >= 100 && n <= 599 {
			f.Status = n
		} else {
			q.bad["status"] = "must be a status such as 429, or a class such as 4xx"
		}
	}
	for _, t := range []struct {
		name string
		raw  string
		dst  *time.Time
	}{{"from", q.form.From, &f.From}, {"to", q.form.To, &f.To}} {
		if t.raw == "" {
			continue
		}
		if tm, ok := parseFilterTime(t.raw); ok {
			*t.dst = tm
		} else {
			q.bad[t.name] = "must be a date and time such as 2026-03-01T09:30 (UTC)"
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		q.bad["to"] = "must be after from"
	}
	if v := strings.TrimSpace(query("before")); v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			f.Before = id
		} else {
			q.bad["before"] = "must be a request id"
		}
	}
	f.Limit = historyPageSize
	if v := strings.TrimSpace(query("limit")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= historyMaxLimit {
			f.Limit = n
		} else {
			q.bad["limit"] = "must be between 1 and " + strconv.Itoa(historyMaxLimit)
		}
	}
	return q
}

func parseFilterTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// values is the filter and page size as URL query values (for the pager's links), without a cursor.
func (q requestQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"client_id": q.form.ClientID, "model": q.form.Model, "status": q.form.Status,
		"from": q.form.From, "to": q.form.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.filter.Limit != historyPageSize {
		v.Set("limit", strconv.Itoa(q.filter.Limit))
	}
	return v
}

// statusOptions are the status filter's choices; a status typed into the URL is kept selectable.
func statusOptions(current string) []views.Option {
	opts := []views.Option{
		{Value: "2xx", Label: "2xx success"}, {Value: "4xx", Label: "4xx refused"}, {Value: "5xx", Label: "5xx failed"},
		{Value: "400", Label: "400 bad request"}, {Value: "401", Label: "401 bad key"},
		{Value: "403", Label: "403 not allowed"}, {Value: "404", Label: "404 unknown"},
		{Value: "429", Label: "429 rate limited"}, {Value: "499", Label: "499 client gone"},
		{Value: "502", Label: "502 upstream down"}, {Value: "504", Label: "504 upstream timeout"},
	}
	if current != "" {
		for _, o := range opts {
			if o.Value == current {
				return opts
			}
		}
		opts = append(opts, views.Option{Value: current, Label: current})
	}
	return opts
}
