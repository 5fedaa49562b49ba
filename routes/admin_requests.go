package routes

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// requestsPage shows the newest proxied requests.
func (s *server) requestsPage(c *fiber.Ctx) error {
	logs, err := s.RequestLogs.List(c.UserContext(), db.RequestLogFilter{Limit: 50})
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
	v := views.RequestsView{Rows: make([]views.RequestRow, len(logs))}
	for i, l := range logs {
		name, ok := names[l.ClientID]
		if !ok {
			name = "deleted client " + strconv.FormatInt(l.ClientID, 10)
		}
		model := l.ModelUsed
		if model == "" {
			model = l.ModelRequested
		}
		v.Rows[i] = views.RequestRow{ID: l.ID, Time: l.Time.UTC().Format("2006-01-02 15:04:05"), Client: name, Model: model,
			Status: l.Status, LatencyMS: l.LatencyMS, TTFTMS: l.TTFTMS, InputTokens: l.InputTokens,
			OutputTokens: l.OutputTokens, Error: l.ErrorMessage}
	}
	p := s.page(c, "Requests", "requests")
	return render(c, fiber.StatusOK, views.Requests(p, v), views.RequestsContent(p, v))
}
