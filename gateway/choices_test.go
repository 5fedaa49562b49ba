package gateway

import (
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// The output cap is per choice; a request for n choices reserves cap × n of the daily output
// quota, and the cap is lowered (never the number of choices) when the quota has less room.
func TestReserveMultipliesTheCapByTheChoices(t *testing.T) {
	q := Quota{MaxOutputTokensPerDay: 100}
	tests := []struct {
		name         string
		used         int64 // output already settled today
		out, choices int64
		wantRes      int64 // reserved output tokens
		wantRefused  bool
	}{
		{name: "one choice", out: 10, choices: 1, wantRes: 10},
		{name: "zero choices means one", out: 10, choices: 0, wantRes: 10},
		{name: "eight choices fit", out: 10, choices: 8, wantRes: 80},
		{name: "ten choices fill the quota", out: 10, choices: 10, wantRes: 100},
		{name: "cap lowered to the room per choice", used: 80, out: 10, choices: 8, wantRes: 16},
		{name: "room not divisible: the remainder stays free", used: 3, out: 50, choices: 3, wantRes: 96},
		{name: "less than a token per choice", used: 90, out: 10, choices: 11, wantRefused: true},
		{name: "128 choices of 10 on a 100 quota", out: 10, choices: 128, wantRefused: true},
		{name: "exactly one token per choice", used: 92, out: 10, choices: 8, wantRes: 8},
		{name: "no cap: nothing reserved", out: 0, choices: 8, wantRes: 0},
		{name: "no cap, less room than choices", used: 95, out: 0, choices: 8, wantRefused: true},
		{name: "huge cap cannot overflow", out: 1 << 62, choices: 128, wantRes: 0, wantRefused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemoryCounters()
			m.Restore("c", "2026-03-14", DayUsage{OutputTokens: tt.used})
			r, refused, u := m.Reserve("c", "2026-03-14", q, 0, tt.out, tt.choices)
			if tt.wantRefused {
				if refused != QuotaOutputTokens {
					t.Fatalf("refusal %v with reservation %+v, want QuotaOutputTokens", refused, r)
				}
				if g := m.Get("c", "2026-03-14"); g.Requests != 0 || g.ReservedOutput != 0 {
					t.Fatalf("a refused request changed the counters: %+v", g)
				}
				return
			}
			if refused != QuotaAdmitted || r.OutputTokens != tt.wantRes {
				t.Fatalf("refusal %v, reserved %d; want admitted with %d", refused, r.OutputTokens, tt.wantRes)
			}
			if u.OutputTokens+u.ReservedOutput > q.MaxOutputTokensPerDay {
				t.Fatalf("usage %+v: settled plus reserved exceeds the quota of %d", u, q.MaxOutputTokensPerDay)
			}
		})
	}
	t.Run("no quota: the whole product is reserved", func(t *testing.T) {
		r, refused, _ := NewMemoryCounters().Reserve("c", "2026-03-14", Quota{}, 0, 1<<40, 128)
		if refused != QuotaAdmitted || r.OutputTokens != (1<<31-1)*128 {
			t.Fatalf("refusal %v, reserved %d", refused, r.OutputTokens)
		}
	})
}

// Begin hands the per-choice cap to the front door, counts cap × choices against the daily
// output quota, refuses in the 429 shape when a choice would get no token, and bounds the
// number of choices with a 400.
func TestBeginCapsOutputPerChoice(t *testing.T) {
	row := clientRow(1, "app")
	row.MaxOutputTokens = 10
	row.MaxOutputTokensPerDay = 100
	e := newEnv(t, []db.Client{row}, nil)
	c := e.auth("app")

	_, err := e.gw.Begin(c, Admission{Choices: 128})
	pe := perr(t, err, providers.KindRateLimited)
	if pe.Status() != 429 || pe.RetryAfter == "" || !strings.Contains(pe.Message, "128 choices") {
		t.Fatalf("n=128 on a 100-token quota: status %d, Retry-After %q, message %q", pe.Status(), pe.RetryAfter, pe.Message)
	}

	_, err = e.gw.Begin(c, Admission{Choices: MaxChoices + 1})
	if pe := perr(t, err, providers.KindBadRequest); !strings.Contains(pe.Message, "129") || !strings.Contains(pe.Message, "128") {
		t.Fatalf("n=129: message %q", pe.Message)
	}

	first, err := e.gw.Begin(c, Admission{Choices: 8, MaxOutputTokens: 50})
	if err != nil {
		t.Fatal(err)
	}
	if first.MaxOutputTokens() != 10 {
		t.Fatalf("8 choices on an empty quota: cap %d per choice, want 10 (the client's max_output_tokens)", first.MaxOutputTokens())
	}
	second, err := e.gw.Begin(c, Admission{Choices: 8})
	if err != nil {
		t.Fatal(err)
	}
	if second.MaxOutputTokens() != 2 {
		t.Fatalf("8 choices with 20 tokens left: cap %d per choice, want 2", second.MaxOutputTokens())
	}
	if u := e.gw.Usage(c).Usage; u.InFlight != 2 {
		t.Fatalf("usage %+v", u)
	}
	_, err = e.gw.Begin(c, Admission{Choices: 8})
	perr(t, err, providers.KindRateLimited)

	// Settlement counts what the upstream really produced, every choice's tokens.
	first.End(ok200(5, 80))
	second.End(ok200(5, 16))
	if u := e.gw.Usage(c).Usage; u.OutputTokens != 96 || u.InFlight != 0 || u.Requests-u.Refused != 2 {
		t.Fatalf("after both calls: %+v, want 96 output tokens from 2 forwarded requests", u)
	}
}
