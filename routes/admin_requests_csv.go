package routes

import (
	"bufio"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// csvExportMax bounds one export; a larger history is exported a time range at a time.
const csvExportMax = 100_000

// requestsCSV answers GET /admin/requests.csv?<filters> with every row the history's filters
// select (newest first, at most csvExportMax), as CSV with a header line.
func (s *server) requestsCSV(c *fiber.Ctx) error {
	q := parseRequestQuery(func(k string) string { return c.Query(k) })
	if len(q.bad) > 0 {
		return q.bad
	}
	clients, err := s.Clients.List(c.UserContext())
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(clients))
	for _, cl := range clients {
		names[cl.ID] = cl.Name
	}
	ctx := c.UserContext()
	f := q.filter
	f.Before, f.Limit = 0, 1000
	// Read before writing: an error after the first byte could only cut the file short.
	var lines [][]string
	for len(lines) < csvExportMax {
		logs, err := s.RequestLogs.List(ctx, f)
		if err != nil {
			return err
		}
		for _, l := range logs {
			lines = append(lines, []string{strconv.FormatInt(l.ID, 10), l.Time.UTC().Format(time.RFC3339Nano), l.RequestID,
				clientName(names, l.ClientID), l.Endpoint, l.ModelRequested, l.ModelUsed, l.Provider,
				strconv.FormatBool(l.Stream), strconv.Itoa(l.Status), strconv.FormatBool(l.Refused), l.ErrorClass,
				l.ErrorMessage, i64s(l.InputTokens), i64s(l.OutputTokens), i64s(l.CachedTokens), i64s(l.ReasoningTokens),
				strconv.FormatBool(l.Estimated), i64s(l.LatencyMS), i64s(l.TTFTMS), l.FinishReason, l.ClientIP})
		}
		if len(logs) < f.Limit {
			break
		}
		f.Before = logs[len(logs)-1].ID
	}
	if len(lines) > csvExportMax {
		lines = lines[:csvExportMax]
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="requests-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	bw := bufio.NewWriter(c.Response().BodyWriter())
	w := csv.NewWriter(bw)
	w.Write([]string{"id", "time", "request_id", "client", "endpoint", "model_requested", "model_used", "provider",
		"stream", "status", "refused", "error_class", "error_message", "input_tokens", "output_tokens", "cached_tokens",
		"reasoning_tokens", "estimated", "latency_ms", "ttft_ms", "finish_reason", "client_ip"})
	for _, line := range lines {
		for i, cell := range line {
			line[i] = csvCell(cell)
		}
		w.Write(line)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvCell keeps a spreadsheet from reading text that came from callers and upstreams (model
// names, error messages) as a formula: such a cell starts with a quote character.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
