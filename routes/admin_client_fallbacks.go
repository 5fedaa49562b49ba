package routes

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/views"
)

// The client form's upstream keys and fallbacks (SPEC §15). The form knows stored keys only by
// their hints: each row says which stored keys it keeps, by index, and which it adds.

// maxFormKeys bounds the keys one textarea may add.
const maxFormKeys = maxTargetKeys

// parseTargetsForm reads the form's further keys and fallback rows into f, against the stored
// client cl. A form without the fallback fields (the new-client page) changes neither.
func parseTargetsForm(c *fiber.Ctx, cl *db.Client, f *clientForm) {
	if c.FormValue("fallback_count") == "" {
		return
	}
	keep := keptKeys(formValues(c, "keep_key"), cl.UpstreamKeys)
	f.in.formKeys = &formKeyEdit{kept: keep, add: splitKeys(c.FormValue("new_keys"))}
	f.values.NewKeys = strings.Clone(c.FormValue("new_keys"))
	f.values.Keys = keyRows(cl.UpstreamKeys, nil, indexesOf(formValues(c, "keep_key")))

	n, _ := strconv.Atoi(c.FormValue("fallback_count"))
	n = min(max(n, 0), maxFallbacks)
	var rows []views.FallbackRow
	var inputs []fallbackInput
	for i := range n {
		v := func(field string) string {
			return strings.TrimSpace(strings.Clone(c.FormValue("fallback_" + strconv.Itoa(i) + "_" + field)))
		}
		origin, err := strconv.Atoi(v("origin"))
		if err != nil || origin < 0 || origin >= len(cl.Fallbacks) {
			origin = -1
		}
		var stored []db.SealedKey
		if origin >= 0 {
			stored = cl.Fallbacks[origin].Keys
		}
		keepIdx := formValues(c, "fallback_"+strconv.Itoa(i)+"_keep")
		row := views.FallbackRow{Origin: origin, Backend: v("backend"), BaseURL: v("base_url"),
			AzureAPIVersion: v("azure_api_version"), Model: v("model"), NewKeys: v("new_keys"),
			Keys: keyRows(stored, nil, indexesOf(keepIdx))}
		rows = append(rows, row)
		inputs = append(inputs, fallbackInput{Backend: row.Backend, BaseURL: row.BaseURL,
			AzureAPIVersion: row.AzureAPIVersion, Model: row.Model,
			keys: &formKeyEdit{kept: keptKeys(keepIdx, stored), add: splitKeys(row.NewKeys)}})
	}
	f.values.Fallbacks = rows
	f.in.Fallbacks = &inputs
}

// keptKeys are the stored keys whose indexes the form kept.
func keptKeys(indexes []string, stored []db.SealedKey) []db.SealedKey {
	var out []db.SealedKey
	for _, i := range indexesOf(indexes) {
		if i < len(stored) {
			out = append(out, stored[i])
		}
	}
	return out
}

func indexesOf(values []string) []int {
	var out []int
	for _, v := range values {
		if i, err := strconv.Atoi(v); err == nil && i >= 0 && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

func splitKeys(s string) []string {
	keys := strings.Fields(s)
	return keys[:min(len(keys), maxFormKeys)]
}

// keyRows are stored keys as the form lists them, kept when keep is nil or names them, with the
// health the gateway knows (health[i] for key i, when given).
func keyRows(keys []db.SealedKey, health []gateway.TargetHealth, keep []int) []views.KeyRow {
	var out []views.KeyRow
	for i, k := range keys {
		r := views.KeyRow{Index: i, Hint: k.Hint, Keep: keep == nil || slices.Contains(keep, i), Status: "in rotation"}
		if i < len(health) {
			keyStatus(&r, health[i])
		}
		out = append(out, r)
	}
	return out
}

// keyStatus describes one key's health for the form.
func keyStatus(r *views.KeyRow, h gateway.TargetHealth) {
	const at = "2006-01-02 15:04:05 UTC"
	switch {
	case h.BuildError != "":
		r.Status, r.Bad = h.BuildError, true
	case !h.BenchedAt.IsZero():
		r.Status, r.Bad = "benched "+h.BenchedAt.UTC().Format(at)+" — "+h.BenchError, true
	case !h.RestUntil.IsZero():
		r.Status, r.Warn = "resting until "+h.RestUntil.UTC().Format(at), true
	case h.Breaker == gateway.BreakerOpen:
		r.Status, r.Warn = "breaker open until "+h.OpenUntil.UTC().Format(at), true
	case h.Breaker == gateway.BreakerHalfOpen:
		r.Status, r.Warn = "breaker half-open", true
	}
}

// storedTargets fills the form's view of cl's keys and fallbacks, with their health.
func (s *server) storedTargets(cl *db.Client, v *views.ClientValues) {
	var health []gateway.TargetHealth
	if s.Gateway != nil {
		health = s.Gateway.TargetHealth(cl.ID)
	}
	byTarget := func(pos int) []gateway.TargetHealth {
		var out []gateway.TargetHealth
		for _, h := range health {
			if h.Position == pos {
				out = append(out, h)
			}
		}
		return out
	}
	first := byTarget(0)
	if len(cl.UpstreamKey) > 0 {
		r := views.KeyRow{Index: -1, Hint: cl.UpstreamKeyHint, Status: "in rotation"}
		if len(first) > 0 {
			keyStatus(&r, first[0])
			first = first[1:]
		}
		v.Keys = append(v.Keys, r)
	}
	v.Keys = append(v.Keys, keyRows(cl.UpstreamKeys, first, nil)...)
	for i, fb := range cl.Fallbacks {
		v.Fallbacks = append(v.Fallbacks, views.FallbackRow{Origin: i, Backend: fb.Backend, BaseURL: fb.BaseURL,
			AzureAPIVersion: fb.AzureAPIVersion, Model: fb.Model, Keys: keyRows(fb.Keys, byTarget(i+1), nil)})
	}
}

// applyFallbackOp adds, moves or removes a fallback row as the button asked ("add", "up_N",
// "down_N", "remove_N").
func applyFallbackOp(rows []views.FallbackRow, op string) []views.FallbackRow {
	if op == "add" {
		if len(rows) >= maxFallbacks {
			return rows
		}
		return append(rows, views.FallbackRow{Origin: -1, Backend: "openai"})
	}
	verb, num, _ := strings.Cut(op, "_")
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || i >= len(rows) {
		return rows
	}
	switch verb {
	case "up":
		if i > 0 {
			rows[i-1], rows[i] = rows[i], rows[i-1]
		}
	case "down":
		if i+1 < len(rows) {
			rows[i], rows[i+1] = rows[i+1], rows[i]
		}
	case "remove":
		rows = slices.Delete(rows, i, i+1)
	}
	return rows
}

// clientFallbacksSubmit answers the fallback rows' buttons: the form comes back with a row added,
// moved or removed and everything else as typed. Nothing is stored until the form is saved.
func (s *server) clientFallbacksSubmit(c *fiber.Ctx) error {
	cl, err := s.adminClient(c)
	if err != nil {
		return err
	}
	view := s.clientFormView(cl)
	form := parseClientForm(c)
	parseTargetsForm(c, cl, &form)
	f := withSubmitted(view, cl, form)
	f.Values.Fallbacks = applyFallbackOp(f.Values.Fallbacks, c.FormValue("fallback_op"))
	p := s.page(c, view.Values.Name, "clients")
	return render(c, fiber.StatusOK, views.ClientFormPage(p, f), views.Fallbacks(f.ID, f.Values.Fallbacks, f.Backends, f.Errors))
}
