package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

func TestBeginResolvesTheModel(t *testing.T) {
	open := clientRow(1, "open")
	listed := clientRow(2, "listed")
	listed.ModelWhitelist = db.Strings{"gpt-4o", "gpt-4o-mini"}
	none := clientRow(3, "none")
	none.DefaultModel = ""
	stale := clientRow(4, "stale") // a default stored before model ids were checked
	stale.DefaultModel = "../../v1/files"
	e := newEnv(t, []db.Client{open, listed, none, stale}, nil)

	tests := []struct {
		client, model string
		want          string
		kind          providers.ErrorKind // when the request is refused
		code          string
	}{
		{client: "open", model: "", want: "gpt-4o-mini"},
		{client: "open", model: "anything-at-all", want: "anything-at-all"},
		{client: "listed", model: "gpt-4o", want: "gpt-4o"},
		{client: "listed", model: "", want: "gpt-4o-mini"},
		{client: "listed", model: "o3", kind: providers.KindPermission, code: "model_not_allowed"},
		{client: "none", model: "", kind: providers.KindBadRequest},
		{client: "none", model: "m", want: "m"},
		{client: "open", model: "../x", kind: providers.KindBadRequest, code: "invalid_model"},
		{client: "stale", model: "", kind: providers.KindBadRequest, code: "invalid_model"},
		{client: "stale", model: "m", want: "m"},
	}
	for _, tt := range tests {
		t.Run(tt.client+"/"+tt.model, func(t *testing.T) {
			call, err := e.gw.Begin(e.auth(tt.client), Admission{Model: tt.model})
			if tt.want == "" {
				pe := perr(t, err, tt.kind)
				if pe.Code != tt.code {
					t.Fatalf("code = %q, want %q", pe.Code, tt.code)
				}
				if tt.kind == providers.KindPermission && (pe.Status() != 403 || !strings.Contains(pe.Message, tt.model)) {
					t.Fatalf("status %d message %q: want 403 naming the model", pe.Status(), pe.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer call.End(ok200(1, 1))
			if call.Model() != tt.want {
				t.Fatalf("Model() = %q, want %q", call.Model(), tt.want)
			}
		})
	}
}

func TestBeginOutputAndInputCaps(t *testing.T) {
	capped := clientRow(1, "capped")
	capped.MaxOutputTokens = 1000
	capped.MaxInputTokens = 5000
	free := clientRow(2, "free")
	e := newEnv(t, []db.Client{capped, free}, nil)

	tests := []struct {
		name      string
		client    string
		in, asked int64
		wantCap   int
		wantErr   bool
	}{
		{name: "clamped to max_output_tokens", client: "capped", asked: 4000, wantCap: 1000},
		{name: "kept when below", client: "capped", asked: 200, wantCap: 200},
		{name: "set when the client sent none", client: "capped", asked: 0, wantCap: 1000},
		{name: "no cap configured, none sent", client: "free", asked: 0, wantCap: 0},
		{name: "no cap configured, kept", client: "free", asked: 123456, wantCap: 123456},
		{name: "input at the limit", client: "capped", in: 5000, wantCap: 1000},
		{name: "input above the limit", client: "capped", in: 5001, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call, err := e.gw.Begin(e.auth(tt.client), Admission{InputTokens: tt.in, MaxOutputTokens: tt.asked})
			if tt.wantErr {
				pe := perr(t, err, providers.KindBadRequest)
				if pe.Status() != 400 || !strings.Contains(pe.Message, "5001") || !strings.Contains(pe.Message, "5000") {
					t.Fatalf("status %d, message %q: want 400 naming the estimate and the limit", pe.Status(), pe.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer call.End(ok200(0, 0))
			if call.MaxOutputTokens() != tt.wantCap {
				t.Fatalf("MaxOutputTokens() = %d, want %d", call.MaxOutputTokens(), tt.wantCap)
			}
		})
	}
	// The refused oversized request is a request of the day, not counted against the daily quota.
	if u := e.gw.Usage(e.auth("capped")); u.Usage.Requests != 5 || u.Usage.Refused != 1 || u.Usage.InFlight != 0 {
		t.Fatalf("usage after the table = %+v, want 5 requests of which 1 refused (not counted), none in flight", u.Usage)
	}
}

func TestBeginRateLimitRefusalCarriesRetryAfterAndHeaders(t *testing.T) {
	row := clientRow(1, "app")
	row.RequestsPerMinute = 2
	row.RequestsPerHour = 100
	e := newEnv(t, []db.Client{row}, nil)
	c := e.auth("app")

	for i := range 2 {
		call, err := e.gw.Begin(c, Admission{})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		h := headerMap(call.RateLimitHeaders())
		if h["x-ratelimit-limit-requests"] != "2" || h["x-ratelimit-remaining-requests"] != []string{"1", "0"}[i] {
			t.Fatalf("request %d headers %v", i, h)
		}
		call.End(ok200(1, 1))
	}
	e.clock.Add(10 * time.Second)
	_, err := e.gw.Begin(c, Admission{})
	pe := perr(t, err, providers.KindRateLimited)
	// Counted in second 0 of the minute: free again at 61s, i.e. 51s from now.
	if pe.Status() != 429 || pe.RetryAfter != "51" || !strings.Contains(pe.Message, "2 requests per minute") {
		t.Fatalf("refusal = %d, Retry-After %q, %q", pe.Status(), pe.RetryAfter, pe.Message)
	}
	h := headerMap(e.gw.RateLimitHeaders(c))
	if h["x-ratelimit-limit-requests"] != "2" || h["x-ratelimit-remaining-requests"] != "0" || h["x-ratelimit-reset-requests"] != "51s" {
		t.Fatalf("headers on the refusal: %v", h)
	}
	e.clock.Add(51 * time.Second)
	call, err := e.gw.Begin(c, Admission{})
	if err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	call.End(ok200(1, 1))
}

func TestDailyQuotasPreCheckAndSettlement(t *testing.T) {
	t.Run("requests", func(t *testing.T) {
		row := clientRow(1, "app")
		row.MaxRequestsPerDay = 3
		e := newEnv(t, []db.Client{row}, nil)
		c := e.auth("app")
		var calls []*Call
		for range 3 { // in flight at the same time: each counts at admission
			call, err := e.gw.Begin(c, Admission{})
			if err != nil {
				t.Fatal(err)
			}
			calls = append(calls, call)
		}
		_, err := e.gw.Begin(c, Admission{})
		pe := perr(t, err, providers.KindRateLimited)
		// 12:00 UTC: the quota resets in 12 hours.
		if pe.RetryAfter != "43200" || !strings.Contains(pe.Message, "00:00 UTC") {
			t.Fatalf("Retry-After %q, message %q", pe.RetryAfter, pe.Message)
		}
		h := headerMap(e.gw.RateLimitHeaders(c))
		if h["x-ratelimit-limit-requests"] != "3" || h["x-ratelimit-remaining-requests"] != "0" || h["x-ratelimit-reset-requests"] != "12h0m0s" {
			t.Fatalf("headers %v", h)
		}
		for _, call := range calls {
			call.End(Outcome{Status: 502, Err: &providers.Error{Kind: providers.KindUnavailable, Message: "down"}})
		}
		if _, err := e.gw.Begin(c, Admission{}); err == nil {
			t.Fatal("failed requests still count against the request quota")
		}
		e.clock.Set(time.Date(2026, 3, 15, 0, 0, 1, 0, time.UTC))
		call, err := e.gw.Begin(c, Admission{})
		if err != nil {
			t.Fatalf("next UTC day: %v", err)
		}
		call.End(ok200(1, 1))
	})

	t.Run("input tokens: estimate reserved, real usage settled", func(t *testing.T) {
		row := clientRow(1, "app")
		row.MaxInputTokensPerDay = 1000
		e := newEnv(t, []db.Client{row}, nil)
		c := e.auth("app")
		a, err := e.gw.Begin(c, Admission{InputTokens: 600})
		if err != nil {
			t.Fatal(err)
		}
		// 600 reserved: a second estimate of 500 does not fit while the first is in flight.
		_, err = e.gw.Begin(c, Admission{InputTokens: 500})
		if pe := perr(t, err, providers.KindRateLimited); !strings.Contains(pe.Message, "600 of 1000") {
			t.Fatalf("message %q", pe.Message)
		}
		// The first one really used 300: the reservation is replaced by the real usage.
		a.End(ok200(300, 10))
		b, err := e.gw.Begin(c, Admission{InputTokens: 500})
		if err != nil {
			t.Fatalf("after settlement 300+500 ≤ 1000 must fit: %v", err)
		}
		b.End(ok200(650, 10)) // the estimate was low: the real usage counts
		u := e.gw.Usage(c)
		if u.Usage.InputTokens != 950 || *u.Remaining.InputTokens != 50 {
			t.Fatalf("usage %+v remaining %d", u.Usage, *u.Remaining.InputTokens)
		}
		if _, err := e.gw.Begin(c, Admission{InputTokens: 51}); err == nil {
			t.Fatal("51 tokens over 50 remaining admitted")
		}
		call, err := e.gw.Begin(c, Admission{InputTokens: 0}) // unknown estimate, quota not yet exhausted
		if err != nil {
			t.Fatal(err)
		}
		call.End(ok200(100, 1)) // 1050 > 1000: the quota is now exhausted
		if _, err := e.gw.Begin(c, Admission{}); err == nil {
			t.Fatal("exhausted input quota admitted a request without an estimate")
		}
	})

	t.Run("output tokens: cap lowered to what is left, streamed usage settled", func(t *testing.T) {
		row := clientRow(1, "app")
		row.MaxOutputTokensPerDay = 1000
		row.MaxOutputTokens = 400
		e := newEnv(t, []db.Client{row}, nil)
		c := e.auth("app")
		a, _ := e.gw.Begin(c, Admission{Stream: true})
		b, _ := e.gw.Begin(c, Admission{Stream: true})
		third, err := e.gw.Begin(c, Admission{Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		if a.MaxOutputTokens() != 400 || b.MaxOutputTokens() != 400 || third.MaxOutputTokens() != 200 {
			t.Fatalf("caps %d %d %d, want 400 400 200 (1000 shared)", a.MaxOutputTokens(), b.MaxOutputTokens(), third.MaxOutputTokens())
		}
		if _, err := e.gw.Begin(c, Admission{}); err == nil {
			t.Fatal("admitted with the whole output quota reserved")
		}
		// Streams report usage at the end; the real output replaces each reservation.
		a.End(Outcome{Status: 200, Usage: providers.Usage{InputTokens: 5, OutputTokens: 50}})
		b.End(Outcome{Status: 200, Usage: providers.Usage{InputTokens: 5, OutputTokens: 60}})
		third.End(Outcome{Status: 200, Usage: providers.Usage{InputTokens: 5, OutputTokens: 90}})
		d, err := e.gw.Begin(c, Admission{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.End(ok200(0, 0))
		if d.MaxOutputTokens() != 400 {
			t.Fatalf("cap = %d, want 400 (800 left)", d.MaxOutputTokens())
		}
		h := headerMap(d.RateLimitHeaders())
		if h["x-ratelimit-limit-output-tokens"] != "1000" || h["x-ratelimit-remaining-output-tokens"] != "400" {
			t.Fatalf("headers %v: 1000 - 200 used - 400 reserved = 400", h)
		}
	})
}

func TestRateLimitHeadersPickTheTightestLimit(t *testing.T) {
	row := clientRow(1, "app")
	row.RequestsPerMinute = 10
	row.MaxRequestsPerDay = 3
	row.MaxInputTokensPerDay = 1000
	e := newEnv(t, []db.Client{row}, nil)
	call, err := e.gw.Begin(e.auth("app"), Admission{InputTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer call.End(ok200(100, 1))
	got := headerMap(call.RateLimitHeaders())
	want := map[string]string{
		"x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "12h0m0s",
		"x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "900", "x-ratelimit-reset-tokens": "12h0m0s",
		"x-ratelimit-limit-input-tokens": "1000", "x-ratelimit-remaining-input-tokens": "900", "x-ratelimit-reset-input-tokens": "12h0m0s",
	}
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	unlimited := newEnv(t, []db.Client{clientRow(1, "free")}, nil)
	if h := unlimited.gw.RateLimitHeaders(unlimited.auth("free")); len(h) != 0 {
		t.Fatalf("no limits set, headers %v", h)
	}
}

func TestEndIsIdempotentAndReleasesInFlight(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	c := e.auth("app")
	call, err := e.gw.Begin(c, Admission{})
	if err != nil {
		t.Fatal(err)
	}
	if s := e.gw.Stats(); s.InFlight != 1 {
		t.Fatalf("in flight = %d", s.InFlight)
	}
	call.End(ok200(10, 5))
	call.End(ok200(10, 5))
	e.flush()
	u := e.gw.Usage(c)
	if u.Usage.Requests != 1 || u.Usage.InputTokens != 10 || u.Usage.InFlight != 0 || e.gw.Stats().InFlight != 0 {
		t.Fatalf("usage after two Ends: %+v", u.Usage)
	}
	if n := len(e.logRows()); n != 1 {
		t.Fatalf("%d log rows, want 1", n)
	}
}

func TestBeginRefusesAClientWhoseProviderCannotBeBuilt(t *testing.T) {
	broken := clientRow(1, "broken")
	broken.UpstreamKey = []byte("not-decryptable")
	unknown := clientRow(2, "unknown")
	unknown.Backend = "nope"
	e := newEnv(t, []db.Client{broken, unknown}, nil)
	for _, name := range []string{"broken", "unknown"} {
		_, err := e.gw.Begin(e.auth(name), Admission{})
		pe := perr(t, err, providers.KindInternal)
		if strings.Contains(pe.Message, "not-decryptable") || strings.Contains(pe.Message, "upstream-secret") {
			t.Fatalf("message leaks a secret: %q", pe.Message)
		}
	}
}

func headerMap(hs []Header) map[string]string {
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[h.Name] = h.Value
	}
	return m
}
