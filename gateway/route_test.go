package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// scriptedUpstream answers Chat with the next scripted error (nil: an answer); past the end of
// the script it answers. The key it was built with is recorded on every call.
type scriptedUpstream struct {
	mu     sync.Mutex
	script []error
	calls  []string // the key of each call
	caps   []int    // the output cap (MaxTokens) of each call
	// hold, when set, blocks every call until it is closed.
	hold chan struct{}
}

func (s *scriptedUpstream) next(key string) error {
	s.mu.Lock()
	s.calls = append(s.calls, key)
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return err
}

func (s *scriptedUpstream) callKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

type scriptedProvider struct {
	up  *scriptedUpstream
	cfg providers.Config
}

func (p *scriptedProvider) Chat(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	p.up.mu.Lock()
	p.up.caps = append(p.up.caps, req.MaxTokens)
	p.up.mu.Unlock()
	if err := p.up.next(p.cfg.APIKey); err != nil {
		return nil, err
	}
	return &providers.Response{Model: req.Model, Choices: []providers.Choice{{Message: providers.Message{
		Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("hi from " + p.cfg.Backend)}},
		FinishReason: "stop"}}, Usage: providers.Usage{InputTokens: 5, OutputTokens: 2}}, nil
}

func (p *scriptedProvider) Stream(context.Context, *providers.Request) (providers.Stream, error) {
	return nil, errors.New("not used")
}

func (p *scriptedProvider) Models(context.Context) ([]providers.Model, error) { return nil, nil }

// routeEnv is a gateway whose "openai" and "mistral" backends are scripted upstreams.
func routeEnv(t *testing.T, row db.Client, r Routing) (*testEnv, map[string]*scriptedUpstream) {
	t.Helper()
	ups := map[string]*scriptedUpstream{"openai": {}, "mistral": {}}
	e := newEnv(t, []db.Client{row}, func(o *Options) {
		o.Routing = r
		o.Providers = map[string]ProviderFactory{}
		for b, up := range ups {
			o.Providers[b] = func(cfg providers.Config) (providers.Provider, error) {
				return &scriptedProvider{up: up, cfg: cfg}, nil
			}
		}
	})
	return e, ups
}

func (e *testEnv) chat(name string) (*Answer, error) {
	e.t.Helper()
	return e.gw.Do(context.Background(), &Exchange{
		Client:    e.auth(name),
		Admission: Admission{Endpoint: "/v1/chat/completions", FrontDoor: "openai"},
		Door:      openai.Door{},
		Body:      []byte(`{"messages":[{"role":"user","content":"hello"}]}`),
		Decode: func() (*providers.Request, error) {
			return &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser,
				Content: []providers.Part{providers.TextPart("hello")}}}}, nil
		},
	})
}

func unavailable503() error {
	return providers.UpstreamError("openai", 503, "overloaded", "", "", "")
}

func (e *testEnv) breakerOf(name string) HealthStatus {
	e.t.Helper()
	hs := e.gw.TargetHealth(e.auth(name).ID)
	if len(hs) == 0 {
		e.t.Fatal("no target health")
	}
	return hs[0].HealthStatus
}

// The breaker of a target: closed; open after breaker.failures consecutive failed attempts,
// refusing calls without asking the upstream; half-open after the cooldown, letting exactly one
// probe through; open again when the probe fails, closed when it succeeds. Its state is in
// ai_gateway_breaker_open.
func TestBreakerOpensRejectsHalfOpensAndCloses(t *testing.T) {
	row := clientRow(1, "app")
	e, ups := routeEnv(t, row, Routing{Retries: 0, BreakerFailures: 2, BreakerCooldown: 30 * time.Second})
	up := ups["openai"]
	up.script = []error{unavailable503(), unavailable503(), unavailable503()}
	gauge := func() float64 {
		return testutil.ToFloat64(e.gw.routing.breakerOpen.WithLabelValues(e.breakerOf("app").Target))
	}

	if s := e.breakerOf("app"); s.Breaker != BreakerClosed {
		t.Fatalf("new target: breaker %s, want %s", s.Breaker, BreakerClosed)
	}
	for i := range 2 {
		if _, err := e.chat("app"); perr(t, err, providers.KindUpstream).Status() != 503 {
			t.Fatalf("call %d: %v, want the upstream's 503", i, err)
		}
	}
	s := e.breakerOf("app")
	if s.Breaker != BreakerOpen || !s.OpenUntil.Equal(day0.Add(30*time.Second)) || gauge() != 1 {
		t.Fatalf("after 2 failures: %+v gauge %v, want %s until +30s, gauge 1", s, gauge(), BreakerOpen)
	}
	// Open: refused without a call, with the upstream's last answer.
	_, err := e.chat("app")
	if got := perr(t, err, providers.KindUpstream); got.Status() != 503 || got.Message != "overloaded" {
		t.Fatalf("open breaker answered %+v, want the last 503", got)
	}
	if n := len(up.callKeys()); n != 2 {
		t.Fatalf("open breaker: upstream called %d times, want 2", n)
	}

	e.clock.Add(31 * time.Second)
	if s := e.breakerOf("app"); s.Breaker != BreakerHalfOpen {
		t.Fatalf("after the cooldown: breaker %s, want %s", s.Breaker, BreakerHalfOpen)
	}
	// The probe fails: open again for a new cooldown.
	if _, err := e.chat("app"); err == nil {
		t.Fatal("the failing probe succeeded")
	}
	if s := e.breakerOf("app"); s.Breaker != BreakerOpen || len(up.callKeys()) != 3 {
		t.Fatalf("after a failed probe: breaker %s, %d calls; want %s, 3 calls", s.Breaker, len(up.callKeys()), BreakerOpen)
	}

	e.clock.Add(31 * time.Second)
	// Half-open: one probe in flight; a second request meanwhile is refused without a call.
	up.hold = make(chan struct{})
	probe := make(chan error, 1)
	go func() { _, err := e.chat("app"); probe <- err }()
	waitFor(t, func() bool { return len(up.callKeys()) == 4 })
	if _, err := e.chat("app"); err == nil || len(up.callKeys()) != 4 {
		t.Fatalf("a second request while the probe runs: err %v, %d calls; want refused, 4 calls", err, len(up.callKeys()))
	}
	close(up.hold)
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s := e.breakerOf("app"); s.Breaker != BreakerClosed || s.Failures != 0 || gauge() != 0 {
		t.Fatalf("after a good probe: %+v gauge %v, want %s, gauge 0", s, gauge(), BreakerClosed)
	}
	if _, err := e.chat("app"); err != nil || len(up.callKeys()) != 5 {
		t.Fatalf("closed again: err %v, %d calls; want an answer, 5 calls", err, len(up.callKeys()))
	}
	e.flush()
	rows := e.logRows()
	if len(rows) != 7 || rows[2].Attempts[0].Error == "" || rows[2].Status != 503 {
		t.Fatalf("log rows %d; the refused one %+v", len(rows), rows[2])
	}
}

// A key answering 401 is benched (with the time and the error, for the UI) and the same request
// moves on to the next key; later requests use only the good keys, in turn. Saving the client's
// connection settings puts the benched key back.
func TestKeysInTurnAndBenchedOn401(t *testing.T) {
	row := clientRow(1, "app") // key upstream-secret-app
	row.UpstreamKeys = db.SealedKeys{{Ciphertext: []byte("enc:second-key-0123"), Hint: "0123"},
		{Ciphertext: []byte("enc:third-key-4567"), Hint: "4567"}}
	e, ups := routeEnv(t, row, Routing{Retries: 1})
	up := ups["openai"]
	up.script = []error{providers.UpstreamError("openai", 401, "invalid key", "", "", "")}
	for range 5 {
		if _, err := e.chat("app"); err != nil {
			t.Fatal(err)
		}
	}
	// 6 calls: the first key once (401), then only the two good keys, taking turns.
	got := up.callKeys()
	if len(got) != 6 || got[0] != "upstream-secret-app" {
		t.Fatalf("keys used %v: want 6 calls, the first with the first key", got)
	}
	for i, k := range got[1:] {
		if k == "upstream-secret-app" {
			t.Fatalf("keys used %v: the benched key was used again", got)
		}
		if i >= 2 && k == got[i] {
			t.Fatalf("keys used %v: the good keys do not take turns", got)
		}
	}
	hs := e.gw.TargetHealth(1)
	if len(hs) != 3 || hs[0].BenchedAt.IsZero() || hs[0].BenchError != "401: invalid key" || !hs[1].BenchedAt.IsZero() {
		t.Fatalf("health %+v: want the first key benched with its error", hs)
	}
	// The admin saves new settings: every key gets a new chance.
	row.BaseURL, row.UpdatedAt = "https://example.test/v1", time.Unix(2, 0)
	e.clients.put(row)
	if err := e.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hs := e.gw.TargetHealth(1); !hs[0].BenchedAt.IsZero() {
		t.Fatalf("after a save the key is still benched: %+v", hs[0])
	}
}

// waitFor polls cond for a few seconds (a hang detector, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A failing own backend moves the call to the fallback, which is asked for its own model; the
// metrics count every attempt by outcome and the fallback by client. Two clients reaching the
// same target with the same key share its breaker.
func TestFallbackMetricsAndSharedBreaker(t *testing.T) {
	row := clientRow(1, "app")
	row.Fallbacks = db.Targets{{Backend: "mistral", Model: "mistral-large", Keys: []db.SealedKey{{Ciphertext: []byte("enc:mistral-key-0000"), Hint: "0000"}}}}
	other := clientRow(2, "other")
	other.UpstreamKey = row.UpstreamKey // the same target and key as app's own backend
	ups := map[string]*scriptedUpstream{"openai": {}, "mistral": {}}
	e := newEnv(t, []db.Client{row, other}, func(o *Options) {
		o.Routing = Routing{Retries: 1, BreakerFailures: 2, BreakerCooldown: time.Minute}
		o.Providers = map[string]ProviderFactory{}
		for b, up := range ups {
			o.Providers[b] = func(cfg providers.Config) (providers.Provider, error) {
				return &scriptedProvider{up: up, cfg: cfg}, nil
			}
		}
	})
	ups["openai"].script = []error{unavailable503(), unavailable503()}
	a, err := e.chat("app")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.Body), `"model":"mistral-large"`) || !strings.Contains(string(a.Body), "hi from mistral") {
		t.Fatalf("answer %s: want the fallback's, for its own model", a.Body)
	}
	m := e.gw.routing
	for _, c := range []struct {
		provider, outcome string
		want              float64
	}{{"openai", outcomeServerError, 2}, {"mistral", outcomeOK, 1}} {
		if got := testutil.ToFloat64(m.attempts.WithLabelValues(c.provider, c.outcome)); got != c.want {
			t.Errorf("attempts{%s,%s} = %v, want %v", c.provider, c.outcome, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.fallbacks.WithLabelValues("app")); got != 1 {
		t.Errorf("fallbacks{app} = %v, want 1", got)
	}
	// app's two failures opened the breaker of the target other uses too: refused without a call.
	if s := e.breakerOf("other"); s.Breaker != BreakerOpen {
		t.Fatalf("other's breaker %s, want %s (shared)", s.Breaker, BreakerOpen)
	}
	if _, err := e.chat("other"); err == nil || len(ups["openai"].callKeys()) != 2 {
		t.Fatalf("other: %v after %d calls; want refused without a call", err, len(ups["openai"].callKeys()))
	}
	if got := testutil.ToFloat64(m.attempts.WithLabelValues("openai", outcomeBreakerOpen)); got != 1 {
		t.Errorf("attempts{openai,breaker_open} = %v, want 1", got)
	}
	e.flush()
	rows := e.logRows()
	if len(rows) != 2 || rows[0].Provider != "mistral" || len(rows[0].Attempts) != 3 || rows[0].ModelUsed != "mistral-large" {
		t.Fatalf("log rows %+v", rows)
	}
}

// A client whose own backend cannot be used (its key no longer decrypts) is still served by its
// fallback; the request log says why the first target was skipped.
func TestBrokenOwnBackendFallsBack(t *testing.T) {
	row := clientRow(1, "app")
	row.UpstreamKey = []byte("sealed with a lost master key")
	row.Fallbacks = db.Targets{{Backend: "mistral", Keys: []db.SealedKey{{Ciphertext: []byte("enc:mistral-key-0000"), Hint: "0000"}}}}
	e, ups := routeEnv(t, row, Routing{Retries: 1})
	a, err := e.chat("app")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.Body), "hi from mistral") || len(ups["openai"].callKeys()) != 0 {
		t.Fatalf("answer %s after %d calls to the broken backend", a.Body, len(ups["openai"].callKeys()))
	}
	e.flush()
	rows := e.logRows()
	if len(rows) != 1 || len(rows[0].Attempts) != 2 || !strings.Contains(rows[0].Attempts[0].Error, "invalid") ||
		rows[0].Attempts[1].Provider != "mistral" {
		t.Fatalf("log %+v", rows)
	}
	if hs := e.gw.TargetHealth(1); hs[0].BuildError == "" {
		t.Errorf("health %+v: the broken key is not flagged", hs[0])
	}
}
