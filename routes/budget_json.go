package routes

import (
	"math"

	"github.com/aigateway/ai-gateway/db"
)

// budgetJSON is a client's dollar budgets as the admin API and /v1/usage show them (SPEC §16);
// 0 means none.
type budgetJSON struct {
	USDPerDay   float64 `json:"usd_per_day"`
	USDPerMonth float64 `json:"usd_per_month"`
}

type budgetInput struct {
	USDPerDay   *float64 `json:"usd_per_day"`
	USDPerMonth *float64 `json:"usd_per_month"`
}

// maxBudgetUSD bounds a budget: far above any real one, far below an int64 of micro-dollars.
const maxBudgetUSD = 1e9

func toBudgetJSON(c *db.Client) budgetJSON {
	return budgetJSON{USDPerDay: dollars(c.BudgetDayMicros), USDPerMonth: dollars(c.BudgetMonthMicros)}
}

// dollars converts micro-dollars to dollars.
func dollars(micros int64) float64 { return float64(micros) / 1e6 }

// micros converts dollars to micro-dollars, rounded to the nearest.
func micros(usd float64) int64 { return int64(math.Round(usd * 1e6)) }

// apply validates in and writes it onto c, recording changed fields and errors as clientInput.apply does.
func (in *budgetInput) apply(c *db.Client, bad fieldErrors, changed *[]string) {
	if in == nil {
		return
	}
	set := func(field string, dst *int64, src *float64) {
		if src == nil {
			return
		}
		v := *src
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > maxBudgetUSD {
			bad[field] = "must be 0 (no budget) or a dollar amount up to 1000000000"
			return
		}
		if m := micros(v); *dst != m {
			*dst = m
			*changed = append(*changed, field)
		}
	}
	set("budget.usd_per_day", &c.BudgetDayMicros, in.USDPerDay)
	set("budget.usd_per_month", &c.BudgetMonthMicros, in.USDPerMonth)
}
