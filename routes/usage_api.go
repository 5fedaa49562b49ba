package routes

import (
	"encoding/csv"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// usageColumns are the CSV export's columns after the grouping ones.
var usageColumns = []string{"requests", "errors", "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
	"reasoning_tokens", "cost_usd", "unpriced_requests"}

// apiUsage answers GET /admin/api/v1/usage?from=&to=&group_by=day,client,model&client_id=&format=csv|json
// with the daily rollups summed per group (SPEC §16). Cost is in US dollars; unpriced_requests
// counts requests to models without a price, whose cost is unknown rather than zero.
func (s *server) apiUsage(c *fiber.Ctx) error {
	q, err := parseUsageQuery(c.Query("from"), c.Query("to"), c.Query("group_by"), s.now())
	if err != nil {
		return err
	}
	if id := c.Query("client_id"); id != "" {
		if q.ClientID, err = strconv.ParseInt(id, 10, 64); err != nil || q.ClientID <= 0 {
			return providers.Errorf(providers.KindBadRequest, "client_id must be a client's id")
		}
	}
	names, err := s.clientNames(c.UserContext())
	if err != nil {
		return err
	}
	lines, err := usageReport(c.UserContext(), db.NewUsageStore(s.DB), names, q)
	if err != nil {
		return err
	}
	switch c.Query("format", "json") {
	case "csv":
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="usage-`+q.From+`-`+q.To+`.csv"`)
		return writeUsageCSV(c, q, lines)
	case "json":
		type row struct {
			Day              string  `json:"day,omitempty"`
			Client           string  `json:"client,omitempty"`
			Model            string  `json:"model,omitempty"`
			Requests         int64   `json:"requests"`
			Errors           int64   `json:"errors"`
			InputTokens      int64   `json:"input_tokens"`
			OutputTokens     int64   `json:"output_tokens"`
			CachedTokens     int64   `json:"cached_tokens"`
			CacheWriteTokens int64   `json:"cache_write_tokens"`
			ReasoningTokens  int64   `json:"reasoning_tokens"`
			CostUSD          float64 `json:"cost_usd"`
			Unpriced         int64   `json:"unpriced_requests"`
		}
		out := make([]row, 0, len(lines))
		for _, l := range lines {
			out = append(out, row{l.Day, l.Client, l.Model, l.Requests, l.Errors, l.InputTokens, l.OutputTokens,
				l.CachedTokens, l.CacheWriteTokens, l.ReasoningTokens, dollars(l.CostMicros), l.Unpriced})
		}
		return c.JSON(fiber.Map{"from": q.From, "to": q.To, "rows": out})
	}
	return providers.Errorf(providers.KindBadRequest, "format must be csv or json")
}

// writeUsageCSV writes lines with a header row; only the grouped dimensions get a column.
// Client names and models are written as text a spreadsheet will not run as a formula.
func writeUsageCSV(c *fiber.Ctx, q usageQuery, lines []usageLine) error {
	w := csv.NewWriter(c)
	var head []string
	if q.ByDay {
		head = append(head, "day")
	}
	if q.ByClient {
		head = append(head, "client")
	}
	if q.ByModel {
		head = append(head, "model")
	}
	if err := w.Write(append(head, usageColumns...)); err != nil {
		return err
	}
	for _, l := range lines {
		var rec []string
		if q.ByDay {
			rec = append(rec, l.Day)
		}
		if q.ByClient {
			rec = append(rec, csvText(l.Client))
		}
		if q.ByModel {
			rec = append(rec, csvText(l.Model))
		}
		n := func(v int64) string { return strconv.FormatInt(v, 10) }
		rec = append(rec, n(l.Requests), n(l.Errors), n(l.InputTokens), n(l.OutputTokens), n(l.CachedTokens),
			n(l.CacheWriteTokens), n(l.ReasoningTokens), strconv.FormatFloat(dollars(l.CostMicros), 'f', 6, 64), n(l.Unpriced))
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// csvText keeps a cell that starts like a formula (=, +, -, @) from being evaluated by a
// spreadsheet: it is prefixed with an apostrophe (OWASP's CSV injection advice).
func csvText(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
