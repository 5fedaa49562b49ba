package routes

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/views"
)

// requestDetailPage shows one request in full: its error message, tokens, timings and (when
// body logging was on) its bodies.
func (s *server) requestDetailPage(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	notFound := &gateway.Refusal{Kind: providers.KindNotFound, Message: "no request with id " + strconv.Quote(c.Params("id")) +
		"; it may have passed the log retention"}
	if err != nil || id <= 0 {
		return notFound
	}
	l, err := s.RequestLogs.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	name := "deleted client " + strconv.FormatInt(l.ClientID, 10)
	if l.ClientID == 0 {
		name = "unknown key"
	} else if cl, err := s.Clients.Get(c.UserContext(), l.ClientID); err == nil {
		name = cl.Name
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	tokens := []views.Fact{
		{Label: "Input tokens", Value: views.Thousands(l.InputTokens)},
		{Label: "Output tokens", Value: views.Thousands(l.OutputTokens)},
		{Label: "Cached tokens", Value: views.Thousands(l.CachedTokens)},
		{Label: "Reasoning tokens", Value: views.Thousands(l.ReasoningTokens)},
		{Label: "Cache-write tokens", Value: views.Thousands(l.CacheWriteTokens)},
		{Label: "Cost", Value: costText(l.CostMicros)},
	}
	if l.Estimated {
		tokens = append(tokens, views.Fact{Label: "Token counts", Value: "estimated by the gateway (the upstream reported none)"})
	}
	d := views.RequestDetail{
		ID: l.ID, Time: l.Time.UTC().Format("2006-01-02 15:04:05.000"), Request: l.RequestID, ClientID: l.ClientID,
		Client: name, Endpoint: l.Endpoint, ModelRequested: l.ModelRequested, ModelUsed: l.ModelUsed,
		Provider: l.Provider, Stream: l.Stream, Status: l.Status, ErrorClass: l.ErrorClass, ErrorMessage: l.ErrorMessage,
		Tokens: tokens, LatencyMS: l.LatencyMS, TTFTMS: l.TTFTMS, FinishReason: l.FinishReason, ClientIP: l.ClientIP,
		TraceID:     l.TraceID,
		RequestBody: l.RequestBody, ResponseBody: l.ResponseBody,
	}
	for _, a := range l.Attempts {
		d.Attempts = append(d.Attempts, views.Attempt(a))
	}
	p := s.page(c, "Request "+strconv.FormatInt(l.ID, 10), "requests")
	return render(c, fiber.StatusOK, views.RequestDetailPage(p, d), views.RequestDetailContent(p, d))
}
