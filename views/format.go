package views

import (
	"fmt"
	"strconv"
	"strings"
)

// Thousands formats n with thousands separators: 1234567 → "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Compact formats n in at most four characters or so, for axes and tight cells: 950, 1.2k, 34k,
// 5.6M, 7.8B.
func Compact(n int64) string {
	abs := n
	if abs < 0 {
		abs = -abs
	}
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if float64(abs) >= u.div {
			v := float64(n) / u.div
			if v >= 10 || v <= -10 {
				return strconv.FormatFloat(v, 'f', 0, 64) + u.suffix
			}
			return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// Meter is a used-of-limit figure, e.g. today's requests against the daily quota.
type Meter struct {
	// Key names the meter for tests and styling ("requests", "input", "output").
	Key   string
	Label string
	Used  int64
	// Refused is how many of Used the gateway refused: they are in the total, not in what counts
	// against Limit.
	Refused int64
	// Limit 0 means no limit.
	Limit int64
	// Dollars means Used and Limit are micro-dollars (spend against a budget).
	Dollars bool
}

// Text is "1,204 / 10,000", or "1,204 · no limit"; "$3.20 / $10.00" for dollars; with refused
// requests "1,213 (9 refused) · 1,204 / 10,000 counted".
func (m Meter) Text() string {
	f := Thousands
	if m.Dollars {
		f = USD
	}
	if m.Refused > 0 {
		s := f(m.Used) + " (" + Thousands(m.Refused) + " refused)"
		if m.Limit <= 0 {
			return s + " · no limit"
		}
		return s + " · " + f(m.counted()) + " / " + f(m.Limit) + " counted"
	}
	if m.Limit <= 0 {
		return f(m.Used) + " · no limit"
	}
	return f(m.Used) + " / " + f(m.Limit)
}

// USD formats micro-dollars as dollars: cents from a cent up ("$1,204.50"), four decimals below
// ("$0.0044"), "$0.00" for nothing.
func USD(micros int64) string {
	neg := micros < 0
	if neg {
		micros = -micros
	}
	var s string
	switch {
	case micros == 0 || micros >= 10_000:
		cents := (micros + 5_000) / 10_000
		s = "$" + Thousands(cents/100) + "." + fmt.Sprintf("%02d", cents%100)
	default:
		s = fmt.Sprintf("$0.%04d", (micros+50)/100)
	}
	if neg {
		return "-" + s
	}
	return s
}

func (m Meter) counted() int64 { return m.Used - m.Refused }

// Fill is the share of the limit counted against it in percent, 0–100 (0 without a limit).
func (m Meter) Fill() int {
	used := m.counted()
	if m.Limit <= 0 || used <= 0 {
		return 0
	}
	if used >= m.Limit {
		return 100
	}
	p := int(used * 100 / m.Limit)
	if p == 0 {
		p = 1 // something was used: show it
	}
	return p
}

// Level names how close to the limit the meter is, for its colour: "ok", "warn" (≥ 80%), "full".
func (m Meter) Level() string {
	switch f := m.Fill(); {
	case m.Limit > 0 && m.counted() >= m.Limit:
		return "full"
	case f >= 80:
		return "warn"
	}
	return "ok"
}

func itoa(n int) string  { return strconv.Itoa(n) }
func i64(n int64) string { return strconv.FormatInt(n, 10) }
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
