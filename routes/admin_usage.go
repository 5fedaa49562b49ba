package routes

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/views"
)

// usagePeriods are the usage page's periods, in days ending today.
var usagePeriods = []int{1, 7, 30, 90}

// usagePage renders /admin/usage?days=1|7|30|90&client=<id>: requests, tokens and spend per day
// as charts, and per model and per client as tables, from the daily rollups.
func (s *server) usagePage(c *fiber.Ctx) error {
	days := c.QueryInt("days", 30)
	if !slices.Contains(usagePeriods, days) {
		days = 30
	}
	clientID := int64(c.QueryInt("client", 0))
	now := s.now().UTC()
	to := now.Format(time.DateOnly)
	from := now.AddDate(0, 0, 1-days).Format(time.DateOnly)
	names, err := s.clientNames(c.UserContext())
	if err != nil {
		return err
	}
	if _, ok := names[clientID]; !ok {
		clientID = 0
	}
	rows, err := db.NewUsageStore(s.DB).Range(c.UserContext(), clientID, from, to)
	if err != nil {
		return err
	}
	v := views.UsageView{Days: days, From: from, To: to, Client: names[clientID]}
	if s.Gateway != nil {
		v.PriceSource = s.Gateway.PriceSource()
	}
	link := func(d int, id int64) string {
		q := url.Values{"days": {strconv.Itoa(d)}}
		if id != 0 {
			q.Set("client", strconv.FormatInt(id, 10))
		}
		return "/admin/usage?" + q.Encode()
	}
	for _, d := range usagePeriods {
		label := strconv.Itoa(d) + " days"
		if d == 1 {
			label = "Today"
		}
		v.Ranges = append(v.Ranges, views.UsageLink{Label: label, Href: link(d, clientID), Active: d == days})
	}
	v.Clients = append(v.Clients, views.UsageLink{Label: "Every client", Href: link(days, 0), Active: clientID == 0})
	ids := make([]int64, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return strings.Compare(names[a], names[b]) })
	for _, id := range ids {
		v.Clients = append(v.Clients, views.UsageLink{Label: names[id], Href: link(days, id), Active: id == clientID})
	}
	csv := url.Values{"from": {from}, "to": {to}, "group_by": {"day,client,model"}, "format": {"csv"}}
	if clientID != 0 {
		csv.Set("client_id", strconv.FormatInt(clientID, 10))
	}
	v.CSVURL = "/admin/api/v1/usage?" + csv.Encode()

	q := usageQuery{From: from, To: to, ClientID: clientID}
	v.Totals = usageRow("", usageTotal(groupUsage(rows, names, q)))
	byDay := groupUsage(rows, names, usageQuery{ByDay: true})
	v.Spend, v.Tokens, v.Requests = usageCharts(byDay, from, days)
	for _, l := range groupUsage(rows, names, usageQuery{ByModel: true}) {
		v.ByModel = append(v.ByModel, usageRow(l.Model, l.UsageDaily))
	}
	sortBySpend(v.ByModel)
	if clientID == 0 {
		for _, l := range groupUsage(rows, names, usageQuery{ByClient: true}) {
			v.ByClient = append(v.ByClient, usageRow(l.Client, l.UsageDaily))
		}
		sortBySpend(v.ByClient)
	}
	title := "Usage"
	if v.Client != "" {
		title = "Usage of " + v.Client
	}
	p := s.page(c, title, "usage")
	return render(c, fiber.StatusOK, views.Usage(p, v), views.UsageContent(p, v))
}

func usageRow(name string, u db.UsageDaily) views.UsageRow {
	return views.UsageRow{Name: name, Requests: u.Requests, Errors: u.Errors, Input: u.InputTokens, Output: u.OutputTokens,
		Cached: u.CachedTokens, Reasoning: u.ReasoningTokens, SpendMicros: u.CostMicros, Unpriced: u.Unpriced}
}

// sortBySpend orders rows by spend, then requests, most first.
func sortBySpend(rows []views.UsageRow) {
	slices.SortStableFunc(rows, func(a, b views.UsageRow) int {
		if a.SpendMicros != b.SpendMicros {
			return compareInt(b.SpendMicros, a.SpendMicros)
		}
		return compareInt(b.Requests, a.Requests)
	})
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// usageCharts draws one bar per day of the period, days without traffic included.
func usageCharts(byDay []usageLine, from string, days int) (spend, tokens, requests views.BarChart) {
	at := map[string]db.UsageDaily{}
	for _, l := range byDay {
		at[l.Day] = l.UsageDaily
	}
	start, _ := time.Parse(time.DateOnly, from)
	sp := make([]views.ChartPoint, days)
	tp := make([]views.ChartPoint, days)
	rp := make([]views.ChartPoint, days)
	var sum db.UsageDaily
	for i := range days {
		d := start.AddDate(0, 0, i)
		u := at[d.Format(time.DateOnly)]
		label := d.Format("Jan 2")
		sp[i] = views.ChartPoint{Label: label, Values: []int64{u.CostMicros}}
		tp[i] = views.ChartPoint{Label: label, Values: []int64{u.InputTokens, u.OutputTokens}}
		rp[i] = views.ChartPoint{Label: label, Values: []int64{max(u.Requests-u.Errors, 0), u.Errors}}
		sum.Add(&u)
	}
	every := max(days/6, 1)
	spend = views.NewDollarChart("usage-chart-spend", "Spend per day", views.USD(sum.CostMicros)+" in the period",
		[]views.ChartSeries{{Label: "spend", Class: "series-spend"}}, sp, every)
	tokens = views.NewBarChart("usage-chart-tokens", "Tokens per day",
		views.Thousands(sum.InputTokens)+" in, "+views.Thousands(sum.OutputTokens)+" out",
		[]views.ChartSeries{{Label: "input", Class: "series-input"}, {Label: "output", Class: "series-output"}}, tp, every)
	requests = views.NewBarChart("usage-chart-requests", "Requests per day",
		count(sum.Requests, "request", "requests")+", "+count(sum.Errors, "error", "errors"),
		[]views.ChartSeries{{Label: "requests", Class: "series-requests"}, {Label: "errors", Class: "series-errors"}}, rp, every)
	return spend, tokens, requests
}
