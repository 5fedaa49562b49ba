package routes

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// requestJSON is one request log row as the admin API returns it (bodies are not listed).
type requestJSON struct {
	ID             int64     `json:"id"`
	Time           time.Time `json:"time"`
	RequestID      string    `json:"request_id"`
	ClientID       int64     `json:"client_id"`
	Endpoint       string    `json:"endpoint"`
	ModelRequested string    `json:"model_requested"`
	ModelUsed      string    `json:"model_used"`
	Provider       string    `json:"provider"`
	Stream         bool      `json:"stream"`
	Status         int       `json:"status"`
	ErrorClass     string    `json:"error_class"`
	ErrorMessage   string    `json:"error_message"`
	// Refused is true when the gateway refused the request itself (never sent upstream).
	Refused         bool  `json:"refused"`
	InputTokens     int64 `json:"input_tokens"`
	OutputTokens    int64 `json:"output_tokens"`
	CachedTokens    int64 `json:"cached_tokens"`
	ReasoningTokens int64 `json:"reasoning_tokens"`
	// CacheWriteTokens are prompt tokens written to the provider's cache; CostUSD is the
	// request's cost, null when its model has no price.
	CacheWriteTokens int64    `json:"cache_write_tokens"`
	CostUSD          *float64 `json:"cost_usd"`
	Estimated        bool     `json:"estimated"`
	LatencyMS        int64    `json:"latency_ms"`
	TTFTMS           int64    `json:"ttft_ms"`
	FinishReason     string   `json:"finish_reason"`
	ClientIP         string   `json:"client_ip"`
	// TraceID is the OpenTelemetry trace id of a traced request, else empty.
	TraceID string `json:"trace_id"`
	// Attempts are the upstream attempts in order; the last one is the one that answered.
	Attempts []attemptJSON `json:"attempts"`
}

// attemptJSON is one upstream attempt (SPEC §8): error is empty on success.
type attemptJSON struct {
	Provider  string `json:"provider"`
	BaseURL   string `json:"base_url"`
	Status    int    `json:"status"`
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error"`
	// OmittedTools names the offered tools this attempt's backend could not be offered.
	OmittedTools []string `json:"omitted_tools,omitempty"`
}

func toAttemptsJSON(as db.Attempts) []attemptJSON {
	out := make([]attemptJSON, 0, len(as))
	for _, a := range as {
		out = append(out, attemptJSON(a))
	}
	return out
}

func toRequestJSON(l db.RequestLog) requestJSON {
	return requestJSON{ID: l.ID, Time: l.Time.UTC(), RequestID: l.RequestID, ClientID: l.ClientID, Endpoint: l.Endpoint,
		ModelRequested: l.ModelRequested, ModelUsed: l.ModelUsed, Provider: l.Provider, Stream: l.Stream, Status: l.Status,
		ErrorClass: l.ErrorClass, ErrorMessage: l.ErrorMessage, Refused: l.Refused, InputTokens: l.InputTokens, OutputTokens: l.OutputTokens,
		CachedTokens: l.CachedTokens, ReasoningTokens: l.ReasoningTokens, Estimated: l.Estimated, LatencyMS: l.LatencyMS,
		TTFTMS: l.TTFTMS, FinishReason: l.FinishReason, ClientIP: l.ClientIP, TraceID: l.TraceID,
		Attempts: toAttemptsJSON(l.Attempts), CacheWriteTokens: l.CacheWriteTokens, CostUSD: costUSD(l.CostMicros)}
}

// costUSD is a logged cost in dollars; nil (unpriced) stays nil.
func costUSD(micros *int64) *float64 {
	if micros == nil {
		return nil
	}
	v := dollars(*micros)
	return &v
}

// costText is a logged cost for the pages: dollars, or "unpriced" when the model has no price.
func costText(micros *int64) string {
	if micros == nil {
		return "unpriced (the model has no price)"
	}
	return views.USD(*micros)
}

// apiRequests answers GET /admin/api/v1/requests?client_id=&model=&status=&from=&to=&limit=&before=
// with {"requests":[…], "next_before": id}, newest first. next_before is the cursor of the next
// (older) page, null on the last one. status is one status (429) or a class (4xx).
func (s *server) apiRequests(c *fiber.Ctx) error {
	q := parseRequestQuery(func(k string) string { return c.Query(k) })
	if len(q.bad) > 0 {
		return q.bad
	}
	f := q.filter
	f.Limit++
	logs, err := s.RequestLogs.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	var next *int64
	if len(logs) > q.filter.Limit {
		logs = logs[:q.filter.Limit]
		id := logs[len(logs)-1].ID
		next = &id
	}
	out := make([]requestJSON, len(logs))
	for i, l := range logs {
		out[i] = toRequestJSON(l)
	}
	return c.JSON(fiber.Map{"requests": out, "next_before": next})
}
