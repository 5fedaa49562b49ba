package routes

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers/anthropic"
	"github.com/aigateway/ai-gateway/providers/gemini"
	"github.com/aigateway/ai-gateway/providers/openai"
	"github.com/aigateway/ai-gateway/views"
)

// The client pages read the same fields as the admin JSON API (clientInput) and validate them
// with the same clientInput.apply; this file only turns the HTML form into that input and a
// client into the form's view model.

// limitTargets maps each limit field of the form to where clientInput keeps it.
func limitTargets(in *clientInput) map[string]**int64 {
	return map[string]**int64{
		"rate_limit.requests_per_minute":  &in.RateLimit.RequestsPerMinute,
		"rate_limit.requests_per_hour":    &in.RateLimit.RequestsPerHour,
		"rate_limit.requests_per_day":     &in.RateLimit.RequestsPerDay,
		"quota.max_input_tokens_per_day":  &in.Quota.MaxInputTokensPerDay,
		"quota.max_output_tokens_per_day": &in.Quota.MaxOutputTokensPerDay,
		"quota.max_requests_per_day":      &in.Quota.MaxRequestsPerDay,
		"quota.max_input_tokens":          &in.Quota.MaxInputTokens,
		"quota.max_output_tokens":         &in.Quota.MaxOutputTokens,
	}
}

// clientForm is a submitted client form: the input for apply, the values to show again, and the
// errors found before apply (numbers that are not numbers).
type clientForm struct {
	in     clientInput
	values views.ClientValues
	// selected is every whitelisted model: the ticked boxes and the free-text lines.
	selected []string
	// extra is the free-text box as typed.
	extra string
	bad   fieldErrors
}

// parseClientForm reads every field of the client form. A form always carries every field, so
// every field is set in the input (an unticked box means false); the upstream key only when a
// new one was typed or removal was asked for.
func parseClientForm(c *fiber.Ctx) clientForm {
	f := clientForm{bad: fieldErrors{}, in: clientInput{RateLimit: &rateLimitInput{}, Quota: &quotaInput{}, Budget: &budgetInput{}}}
	text := func(name string) *string {
		v := strings.Clone(c.FormValue(name))
		return &v
	}
	f.in.Name = text("name")
	f.in.Description = text("description")
	f.in.Backend = text("backend")
	f.in.BaseURL = text("base_url")
	f.in.AzureAPIVersion = text("azure_api_version")
	f.in.DefaultModel = text("default_model")
	f.in.SystemPrompt = text("system_prompt")
	f.in.ToolMode = text("tool_mode")
	if *f.in.ToolMode == "" {
		*f.in.ToolMode = db.ToolModePassthrough
	}
	f.in.PromptCache = text("prompt_cache")
	if *f.in.PromptCache == "" {
		*f.in.PromptCache = db.PromptCacheAuto
	}
	// The Responses API mode is shown only for the backends that have one; a value left in the
	// hidden select after switching to another backend is not the administrator's choice.
	f.in.ResponsesAPI = text("responses_api")
	if *f.in.ResponsesAPI == "" || !slices.Contains(responsesAPIBackends, *f.in.Backend) {
		*f.in.ResponsesAPI = db.ResponsesAPITranslate
	}
	active := c.FormValue("active") == "true"
	f.in.Active = &active
	servers := formValues(c, "mcp_servers")
	f.in.MCPServers = &servers

	remove := c.FormValue("remove_upstream_key") == "true"
	if k := strings.TrimSpace(c.FormValue("upstream_key")); k != "" {
		f.in.UpstreamKey = &k
	} else if remove {
		empty := ""
		f.in.UpstreamKey = &empty
	}

	f.extra = strings.Clone(c.FormValue("model_whitelist_extra"))
	f.selected = formValues(c, "model_whitelist")
	f.selected = append(f.selected, splitModels(f.extra)...)
	list := slices.Clone(f.selected)
	f.in.ModelWhitelist = &list

	f.values = views.ClientValues{
		Name: *f.in.Name, Description: *f.in.Description, Active: active, Backend: *f.in.Backend,
		BaseURL: *f.in.BaseURL, AzureAPIVersion: *f.in.AzureAPIVersion, DefaultModel: *f.in.DefaultModel,
		SystemPrompt: *f.in.SystemPrompt, ToolMode: *f.in.ToolMode, MCPServers: servers, PromptCache: *f.in.PromptCache, ResponsesAPI: *f.in.ResponsesAPI, KeyPrefix: strings.Clone(c.FormValue("key_prefix")),
		RemoveUpstreamKey: remove, Limits: map[string]string{},
	}
	for name, dst := range limitTargets(&f.in) {
		raw := strings.TrimSpace(c.FormValue(name))
		f.values.Limits[name] = strings.Clone(raw)
		if raw == "" {
			f.bad[name] = "enter a number (0 = no limit)"
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			f.bad[name] = "must be a whole number (0 = no limit)"
			continue
		}
		*dst = &n
	}
	for name, dst := range map[string]**float64{"budget.usd_per_day": &f.in.Budget.USDPerDay, "budget.usd_per_month": &f.in.Budget.USDPerMonth} {
		raw := strings.TrimSpace(c.FormValue(name))
		f.values.Limits[name] = strings.Clone(raw)
		if raw == "" {
			raw = "0" // an empty budget is no budget
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			f.bad[name] = "must be a dollar amount, e.g. 25 or 2.50 (0 = no budget)"
			continue
		}
		*dst = &v
	}
	return f
}

// formValues returns every value of a repeated form field (checkboxes), from a URL-encoded or a
// multipart body.
func formValues(c *fiber.Ctx, name string) []string {
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		if mf, err := c.MultipartForm(); err == nil {
			return slices.Clone(mf.Value[name])
		}
		return nil
	}
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// splitModels reads the free-text model box: one model per line (commas work too).
func splitModels(s string) []string {
	var out []string
	for _, m := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// mergeFieldErrors adds apply's errors to those found while parsing. Any other error is returned.
func mergeFieldErrors(bad fieldErrors, err error) error {
	var fe fieldErrors
	if errors.As(err, &fe) {
		for k, v := range fe {
			if _, ok := bad[k]; !ok {
				bad[k] = v
			}
		}
		return nil
	}
	return err
}

// keyPrefixes are the prefixes a client key may have (SPEC §3).
func keyPrefixes() []string { return []string{db.DefaultKeyPrefix, "sk-", "sk-ant-"} }

// baseURLHints is each backend's default base URL, shown as the base URL's placeholder.
func baseURLHints() map[string]string {
	m := map[string]string{"anthropic": anthropic.DefaultBaseURL, "gemini": gemini.DefaultBaseURL}
	for _, b := range backends() {
		if _, ok := m[b]; ok {
			continue
		}
		if u := openai.DefaultBaseURL(b); u != "" {
			m[b] = u
		} else {
			m[b] = "required for " + b
		}
	}
	return m
}

// clientValues is the form's view of a stored client.
func clientValues(cl *db.Client) views.ClientValues {
	return views.ClientValues{
		Name: cl.Name, Description: cl.Description, Active: cl.Active, Backend: cl.Backend, BaseURL: cl.BaseURL,
		AzureAPIVersion: cl.AzureAPIVersion, DefaultModel: cl.DefaultModel, SystemPrompt: cl.SystemPrompt,
		ToolMode: cl.ToolMode, MCPServers: cl.MCPServers, PromptCache: cl.PromptCache, ResponsesAPI: cl.ResponsesAPI, KeyPrefix: cl.KeyPrefix,
		Limits: map[string]string{
			"rate_limit.requests_per_minute":  i64s(cl.RequestsPerMinute),
			"rate_limit.requests_per_hour":    i64s(cl.RequestsPerHour),
			"rate_limit.requests_per_day":     i64s(cl.RequestsPerDay),
			"quota.max_input_tokens_per_day":  i64s(cl.MaxInputTokensPerDay),
			"quota.max_output_tokens_per_day": i64s(cl.MaxOutputTokensPerDay),
			"quota.max_requests_per_day":      i64s(cl.MaxRequestsPerDay),
			"quota.max_input_tokens":          i64s(cl.MaxInputTokens),
			"quota.max_output_tokens":         i64s(cl.MaxOutputTokens),
			"budget.usd_per_day":              strconv.FormatFloat(dollars(cl.BudgetDayMicros), 'f', -1, 64),
			"budget.usd_per_month":            strconv.FormatFloat(dollars(cl.BudgetMonthMicros), 'f', -1, 64),
		},
	}
}

func i64s(n int64) string { return strconv.FormatInt(n, 10) }

// modelPicker lays out the whitelist picker: every fetched model as a checkbox (ticked when
// selected), and the selected models the backend did not list as free text.
func modelPicker(id int64, fetched, selected []string, fetchedAt string) views.ModelPicker {
	p := views.ModelPicker{ClientID: id, FetchedAt: fetchedAt}
	for _, m := range fetched {
		p.Options = append(p.Options, views.ModelOption{Name: m, Checked: slices.Contains(selected, m)})
	}
	var extra []string
	for _, m := range selected {
		if !slices.Contains(fetched, m) && !slices.Contains(extra, m) {
			extra = append(extra, m)
		}
	}
	p.Extra = strings.Join(extra, "\n")
	return p
}

// clientFormView is the edit page of a stored client.
func (s *server) clientFormView(cl *db.Client) views.ClientForm {
	f := s.newClientFormView()
	f.ID = cl.ID
	f.Values = clientValues(cl)
	s.storedTargets(cl, &f.Values)
	f.UpstreamKeyHint = cl.UpstreamKeyHint
	f.KeyPrefix, f.KeyHint, f.Active = cl.KeyPrefix, cl.KeyHint, cl.Active
	f.Created = formatTime(cl.CreatedAt)
	f.Updated = formatTime(cl.UpdatedAt)
	f.LastUsed = formatTime(cl.LastUsedAt)
	f.Usage = s.usageMeters(cl.ID)
	f.Picker = modelPicker(cl.ID, cl.ModelsCache, cl.ModelWhitelist, formatTime(cl.ModelsFetchedAt))
	if cl.ModelsFetchedAt.IsZero() {
		f.Picker.FetchedAt = ""
	}
	return f
}

// newClientFormView is the form's frame: the choices it offers.
func (s *server) newClientFormView() views.ClientForm {
	return views.ClientForm{Backends: backends(), KeyPrefixes: keyPrefixes(), BaseURLHints: baseURLHints(),
		ResponsesAPIBackends: responsesAPIBackends, MCPServerChoices: s.mcpServerNames()}
}

// withSubmitted shows what was submitted instead of what is stored, so nothing typed is lost.
func withSubmitted(f views.ClientForm, cl *db.Client, sub clientForm) views.ClientForm {
	stored := f.Values
	f.Values = sub.values
	if sub.in.Fallbacks == nil { // a form without the targets' fields: show the stored ones
		f.Values.Keys, f.Values.Fallbacks = stored.Keys, stored.Fallbacks
	} else {
		// The keys' health, which the form does not send, comes from the stored view.
		for i := range f.Values.Keys {
			for _, k := range stored.Keys {
				if k.Index == f.Values.Keys[i].Index {
					f.Values.Keys[i].Status, f.Values.Keys[i].Bad, f.Values.Keys[i].Warn = k.Status, k.Bad, k.Warn
				}
			}
		}
		if len(stored.Keys) > 0 && stored.Keys[0].Index == -1 {
			f.Values.Keys = append([]views.KeyRow{stored.Keys[0]}, f.Values.Keys...)
		}
	}
	f.Picker = modelPicker(cl.ID, cl.ModelsCache, sub.selected, f.Picker.FetchedAt)
	return f
}

// usageMeters is a client's usage today against its daily quotas, as the gateway counts it.
func (s *server) usageMeters(id int64) []views.Meter {
	if s.Gateway == nil {
		return nil
	}
	gc := s.Gateway.ClientByID(id)
	if gc == nil {
		return nil
	}
	u := s.Gateway.Usage(gc)
	sp := s.Gateway.Spend(gc)
	return []views.Meter{
		{Key: "requests", Label: "requests", Used: u.Usage.Requests, Refused: u.Usage.Refused, Limit: u.Quota.MaxRequestsPerDay},
		{Key: "input", Label: "tokens in", Used: u.Usage.InputTokens, Limit: u.Quota.MaxInputTokensPerDay},
		{Key: "output", Label: "tokens out", Used: u.Usage.OutputTokens, Limit: u.Quota.MaxOutputTokensPerDay},
		{Key: "spend-day", Label: "spent today", Used: sp.DayMicros, Limit: gc.Budget.DayMicros, Dollars: true},
		{Key: "spend-month", Label: "spent this month", Used: sp.MonthMicros, Limit: gc.Budget.MonthMicros, Dollars: true},
	}
}
