package routes

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// requestsPage is the request history, newest first, filtered by client, model, status and time,
// a page at a time (the id cursor "before" pages back). /admin/requests?client_id=N is one
// client's history.
func (s *server) requestsPage(c *fiber.Ctx) error {
	q := parseRequestQuery(func(k string) string { return c.Query(k) })
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(clients))
	v := views.RequestsView{Filter: q.form, Statuses: statusOptions(q.form.Status), Errors: views.FieldErrors(q.bad),
		Paged: q.filter.Before > 0}
	for _, cl := range clients {
		names[cl.ID] = cl.Name
		v.Clients = append(v.Clients, views.Option{Value: strconv.FormatInt(cl.ID, 10), Label: cl.Name})
	}
	title := "Requests"
	if name, ok := names[q.filter.ClientID]; ok {
		title = "Requests · " + name
	}
	status := fiber.StatusOK
	if len(q.bad) > 0 {
		status = fiber.StatusUnprocessableEntity
	} else {
		f := q.filter
		f.Limit++ // one more tells whether there is an older page
		logs, err := s.RequestLogs.List(c.UserContext(), f)
		if err != nil {
			return err
		}
		more := len(logs) > q.filter.Limit
		if more {
			logs = logs[:q.filter.Limit]
		}
		for _, l := range logs {
			v.Rows = append(v.Rows, requestRow(l, names))
		}
		if v.Total, err = s.RequestLogs.Count(c.UserContext(), q.filter); err != nil {
			return err
		}
		newest := q.values()
		v.NewestURL = "/admin/requests"
		v.CSVURL = "/admin/requests.csv"
		if enc := newest.Encode(); enc != "" {
			v.NewestURL += "?" + enc
			v.CSVURL += "?" + enc
		}
		if !v.Paged {
			// On the first page new rows are put on top as they are logged (requests_live.go).
			v.LiveURL = "/admin/requests/live"
			if enc := newest.Encode(); enc != "" {
				v.LiveURL += "?" + enc
			}
		}
		if more {
			older := q.values()
			older.Set("before", strconv.FormatInt(logs[len(logs)-1].ID, 10))
			v.OlderURL = "/admin/requests?" + older.Encode()
		}
	}
	p := s.page(c, title, "requests")
	return render(c, status, views.Requests(p, v), views.RequestsContent(p, v))
}

// clientName names a request's client, also after it was deleted.
func clientName(names map[int64]string, id int64) string {
	if name, ok := names[id]; ok {
		return name
	}
	if id == 0 {
		return "unknown key"
	}
	return "deleted client " + strconv.FormatInt(id, 10)
}

func requestRow(l db.RequestLog, names map[int64]string) views.RequestRow {
	model := l.ModelUsed
	if model == "" {
		model = l.ModelRequested
	}
	return views.RequestRow{ID: l.ID, Time: l.Time.UTC().Format("2006-01-02 15:04:05"), Client: clientName(names, l.ClientID),
		Model: model, Endpoint: l.Endpoint, Stream: l.Stream, Status: l.Status, LatencyMS: l.LatencyMS, TTFTMS: l.TTFTMS,
		InputTokens: l.InputTokens, OutputTokens: l.OutputTokens, CachedTokens: l.CachedTokens, Error: l.ErrorMessage, Refused: l.Refused}
}
