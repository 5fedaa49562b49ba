package gateway

import (
	"testing"
	"time"
)

// TestResetHeadersReadLikeOpenAIs: the reset headers are written as time.Duration writes the
// whole seconds the wait rounds up to ("1s", "6m0s", "23h59m59s"), as OpenAI's are.
func TestResetHeadersReadLikeOpenAIs(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, 0, time.Nanosecond, 999 * time.Millisecond, time.Second,
		1500 * time.Millisecond, 59 * time.Second, time.Minute, 6 * time.Minute, 61*time.Minute + 500*time.Millisecond,
		time.Hour, 23*time.Hour + 59*time.Minute + 59*time.Second + 1, 24 * time.Hour, 1000 * time.Hour} {
		want := "0s"
		if d > 0 {
			want = ceilSeconds(d).String()
		}
		if got := string(appendReset(nil, d)); got != want {
			t.Errorf("reset after %v: got %q, want %q", d, got, want)
		}
	}
}

// TestRateLimitHeadersWriteEveryGroupWithoutAllocating: every group of headers a client's limits
// call for, with its numbers, and no more garbage for writing them than the one scratch buffer
// the values are formatted in.
func TestRateLimitHeadersWriteEveryGroupWithoutAllocating(t *testing.T) {
	l := RateLimits{rateState{reqLimit: 600, reqRemaining: 599, reqReset: 1500 * time.Millisecond,
		inLimit: 1000000, inRemaining: 999000, outLimit: 500000, outRemaining: 123456, dayReset: 3*time.Hour + 1}}
	want := []Header{
		{"x-ratelimit-limit-requests", "600"}, {"x-ratelimit-remaining-requests", "599"}, {"x-ratelimit-reset-requests", "2s"},
		{"x-ratelimit-limit-tokens", "1000000"}, {"x-ratelimit-remaining-tokens", "999000"}, {"x-ratelimit-reset-tokens", "3h0m1s"},
		{"x-ratelimit-limit-input-tokens", "1000000"}, {"x-ratelimit-remaining-input-tokens", "999000"},
		{"x-ratelimit-reset-input-tokens", "3h0m1s"},
		{"x-ratelimit-limit-output-tokens", "500000"}, {"x-ratelimit-remaining-output-tokens", "123456"},
		{"x-ratelimit-reset-output-tokens", "3h0m1s"},
	}
	got := l.Headers()
	if len(got) != len(want) {
		t.Fatalf("got %d headers %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("header %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if (RateLimits{}).Headers() != nil {
		t.Error("no limits should write no headers")
	}
	var n int
	set := func(name string, value []byte) { n += len(name) + len(value) }
	if a := testing.AllocsPerRun(100, func() { l.Each(set) }); a > 1 {
		t.Errorf("writing the headers allocated %v times", a)
	}
}
