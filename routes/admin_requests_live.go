package routes

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/views"
)

// requestsLive answers GET /admin/requests/live?after=ID&<filters> with the rows newer than ID
// that the filters select, newest first, as table rows to put on top of the history's first
// page. The page asks when the dashboard's WebSocket says the log has a newer row.
func (s *server) requestsLive(c *fiber.Ctx) error {
	q := parseRequestQuery(func(k string) string { return c.Query(k) })
	after, err := strconv.ParseInt(strings.TrimSpace(c.Query("after")), 10, 64)
	if err != nil || after < 0 {
		q.bad["after"] = "must be a request id"
	}
	if len(q.bad) > 0 {
		return q.bad
	}
	f := q.filter
	f.After, f.Before, f.Limit = after, 0, historyPageSize
	logs, err := s.RequestLogs.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(clients))
	for _, cl := range clients {
		names[cl.ID] = cl.Name
	}
	rows := make([]views.RequestRow, len(logs))
	for i, l := range logs {
		rows[i] = requestRow(l, names)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.RequestRows(rows), nil)
}
