package routes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// usageQuery is a period of days and the dimensions to group the daily rollups by.
type usageQuery struct {
	From, To string // YYYY-MM-DD, inclusive
	ClientID int64  // 0: every client
	ByDay    bool
	ByClient bool
	ByModel  bool
}

// usageLine is one group of the rollups: its key (empty where not grouped) and its sums.
type usageLine struct {
	Day, Client, Model string
	db.UsageDaily
}

// maxUsageDays bounds one query (a bit over a year of daily rows).
const maxUsageDays = 400

// parseUsageQuery reads from, to (default: the last 30 days to today, UTC) and group_by (a
// comma-separated subset of day, client, model; default day).
func parseUsageQuery(from, to, groupBy string, now time.Time) (usageQuery, error) {
	today := now.UTC().Format(time.DateOnly)
	q := usageQuery{From: from, To: to}
	if q.To == "" {
		q.To = today
	}
	if q.From == "" {
		t, _ := time.Parse(time.DateOnly, q.To)
		q.From = t.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	f, err1 := time.Parse(time.DateOnly, q.From)
	t, err2 := time.Parse(time.DateOnly, q.To)
	switch {
	case err1 != nil || err2 != nil:
		return q, providers.Errorf(providers.KindBadRequest, "from and to must be dates, YYYY-MM-DD")
	case t.Before(f):
		return q, providers.Errorf(providers.KindBadRequest, "to (%s) is before from (%s)", q.To, q.From)
	case t.Sub(f) > maxUsageDays*24*time.Hour:
		return q, providers.Errorf(providers.KindBadRequest, "at most %d days per query", maxUsageDays)
	}
	if groupBy == "" {
		groupBy = "day"
	}
	for _, g := range strings.Split(groupBy, ",") {
		switch strings.TrimSpace(g) {
		case "day":
			q.ByDay = true
		case "client":
			q.ByClient = true
		case "model":
			q.ByModel = true
		case "":
		default:
			return q, providers.Errorf(providers.KindBadRequest, "group_by: %q is not one of day, client, model", g)
		}
	}
	return q, nil
}

// usageReport sums the rollups of q, grouped as asked, ordered by day, client, model; names
// maps client ids to names (a deleted client shows as "client <id>").
func usageReport(ctx context.Context, store *db.UsageStore, names map[int64]string, q usageQuery) ([]usageLine, error) {
	rows, err := store.Range(ctx, q.ClientID, q.From, q.To)
	if err != nil {
		return nil, err
	}
	return groupUsage(rows, names, q), nil
}

// groupUsage sums rows into q's groups: the one summing both the page and the export.
func groupUsage(rows []db.UsageDaily, names map[int64]string, q usageQuery) []usageLine {
	idx := map[[3]string]int{}
	var out []usageLine
	for i := range rows {
		r := &rows[i]
		var l usageLine
		if q.ByDay {
			l.Day = r.Day
		}
		if q.ByClient {
			l.Client = names[r.ClientID]
			if l.Client == "" {
				l.Client = fmt.Sprintf("client %d", r.ClientID)
			}
		}
		if q.ByModel {
			l.Model = r.Model
		}
		k := [3]string{l.Day, l.Client, l.Model}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, l)
		}
		out[j].Add(r)
	}
	slices.SortFunc(out, func(a, b usageLine) int {
		if c := strings.Compare(a.Day, b.Day); c != 0 {
			return c
		}
		if c := strings.Compare(a.Client, b.Client); c != 0 {
			return c
		}
		return strings.Compare(a.Model, b.Model)
	})
	return out
}

// usageTotal sums lines.
func usageTotal(lines []usageLine) db.UsageDaily {
	var t db.UsageDaily
	for i := range lines {
		t.Add(&lines[i].UsageDaily)
	}
	return t
}

// clientNames maps every client's id to its name.
func (s *server) clientNames(ctx context.Context) (map[int64]string, error) {
	list, err := s.Clients.List(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(list))
	for _, c := range list {
		names[c.ID] = c.Name
	}
	return names, nil
}
