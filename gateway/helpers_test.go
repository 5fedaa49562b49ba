package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// The db package's stores satisfy what the gateway declares.
var (
	_ ClientSource = (*db.Clients)(nil)
	_ Decrypter    = (*db.Keyring)(nil)
)

// testClock is an injectable clock; safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// fakeClients is a ClientSource the test edits like the admin UI would edit the database.
type fakeClients struct {
	mu   sync.Mutex
	rows []db.Client
	err  error
}

func (f *fakeClients) List(context.Context) ([]db.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := make([]db.Client, len(f.rows))
	copy(out, f.rows)
	return out, nil
}

func (f *fakeClients) put(c db.Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rows {
		if f.rows[i].ID == c.ID {
			f.rows[i] = c
			return
		}
	}
	f.rows = append(f.rows, c)
}

func (f *fakeClients) remove(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = slices.DeleteFunc(f.rows, func(c db.Client) bool { return c.ID == id })
}

func hashKey(k string) string {
	s := sha256.Sum256([]byte(k))
	return hex.EncodeToString(s[:])
}

// clientRow is an active openai client with key "key-<name>" and no limits.
func clientRow(id int64, name string) db.Client {
	return db.Client{
		ID: id, Name: name, Active: true, KeyHash: hashKey("key-" + name), KeyPrefix: "gm_", KeyHint: "abcd",
		Backend: "openai", UpstreamKey: []byte("enc:upstream-secret-" + name), DefaultModel: "gpt-4o-mini",
		ToolMode: "passthrough", UpdatedAt: time.Unix(1, 0),
	}
}

// fakeDecrypter "decrypts" enc:X to X.
type fakeDecrypter struct{}

func (fakeDecrypter) Decrypt(b []byte) (string, error) {
	s, ok := strings.CutPrefix(string(b), "enc:")
	if !ok {
		return "", errors.New("cipher: message authentication failed")
	}
	return s, nil
}

// fakeProvider is an upstream that only lists models; the gateway never calls Chat or Stream.
type fakeProvider struct {
	cfg    providers.Config
	models []providers.Model
	err    error
	calls  atomic.Int64
	// block, when set, holds Models until it is closed.
	block chan struct{}
}

func (p *fakeProvider) Chat(context.Context, *providers.Request) (*providers.Response, error) {
	return nil, errors.New("not used")
}

func (p *fakeProvider) Stream(context.Context, *providers.Request) (providers.Stream, error) {
	return nil, errors.New("not used")
}

func (p *fakeProvider) Models(ctx context.Context) ([]providers.Model, error) {
	p.calls.Add(1)
	if p.block != nil {
		<-p.block
	}
	return p.models, p.err
}

// factories records every provider built, by backend.
type factories struct {
	mu    sync.Mutex
	built []*fakeProvider
	// models is what every new provider lists.
	models []providers.Model
}

func (f *factories) factory(cfg providers.Config) (providers.Provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &fakeProvider{cfg: cfg, models: f.models}
	f.built = append(f.built, p)
	return p, nil
}

func (f *factories) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.built)
}

func (f *factories) last() *fakeProvider {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.built[len(f.built)-1]
}

func (f *factories) providers() map[string]ProviderFactory {
	return map[string]ProviderFactory{"openai": f.factory, "mistral": f.factory}
}

// testEnv is a gateway over a real database (a SQLite file unless said otherwise), a fake client
// source and a test clock.
type testEnv struct {
	t       testing.TB
	db      *bun.DB
	path    string
	clients *fakeClients
	clock   *testClock
	reg     *prometheus.Registry
	fac     *factories
	gw      *Gateway
	logs    LogStore
}

var day0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openDB(t testing.TB, path string) *bun.DB {
	t.Helper()
	bdb, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return bdb
}

// newEnv starts a gateway over a new SQLite file; edit(opts) may change the options before New.
func newEnv(t testing.TB, rows []db.Client, edit func(*Options)) *testEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.db")
	bdb := openDB(t, path)
	return newEnvOn(t, bdb, path, rows, edit)
}

// newEnvOn starts a gateway over bdb (the SQLite file at path, or "" for another database), which
// it closes at the test's end.
func newEnvOn(t testing.TB, bdb *bun.DB, path string, rows []db.Client, edit func(*Options)) *testEnv {
	t.Helper()
	t.Cleanup(func() { bdb.Close() })
	e := &testEnv{t: t, db: bdb, path: path, clients: &fakeClients{rows: rows}, clock: newClock(day0),
		fac: &factories{}}
	e.logs = db.NewRequestLogStore(bdb)
	e.start(edit)
	return e
}

// start builds and starts a new gateway over the env's database (again after a restart).
func (e *testEnv) start(edit func(*Options)) {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	opts := Options{
		Clients: e.clients, Secrets: fakeDecrypter{}, Providers: e.fac.providers(),
		Logs: e.logs, Usage: db.NewUsageStore(e.db),
		Registry: e.reg, Now: e.clock.Now, Logger: quietLogger(),
		FlushInterval: time.Hour, // tests flush explicitly
	}
	if edit != nil {
		edit(&opts)
	}
	gw, err := New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.gw = gw
	e.t.Cleanup(func() {
		// An already-ended context: one last write attempt, no retrying (some tests break the database).
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		gw.Close(ctx) //nolint:errcheck
	})
}

func (e *testEnv) auth(name string) *Client {
	e.t.Helper()
	c, err := e.gw.Authenticate("key-" + name)
	if err != nil {
		e.t.Fatalf("Authenticate(%s): %v", name, err)
	}
	return c
}

func (e *testEnv) flush() {
	e.t.Helper()
	if err := e.gw.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) logRows() []db.RequestLog {
	e.t.Helper()
	var rows []db.RequestLog
	if err := e.db.NewSelect().Model(&rows).OrderExpr("id").Scan(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func (e *testEnv) usageRows() []db.UsageDaily {
	e.t.Helper()
	rows, err := db.NewUsageStore(e.db).ForDay(context.Background(), dayOf(e.clock.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// perr asserts err is a *providers.Error of kind.
func perr(t *testing.T, err error, kind providers.ErrorKind) *providers.Error {
	t.Helper()
	var e *providers.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *providers.Error", err, err)
	}
	if e.Kind != kind {
		t.Fatalf("error kind = %d (%q), want %d", e.Kind, e.Message, kind)
	}
	return e
}

// ok200 is a successful outcome with usage.
func ok200(in, out int) Outcome {
	return Outcome{Status: 200, Usage: providers.Usage{InputTokens: in, OutputTokens: out}, FinishReason: "stop"}
}
