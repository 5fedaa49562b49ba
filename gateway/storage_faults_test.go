package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/db/pgtest"
	"github.com/aigateway/ai-gateway/providers"
)

// syncBuffer is a log sink safe for the writer goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The database breaks under a running gateway the two ways a disk does — it turns read-only, or
// it is full — on the real SQLite file (the gateway's one connection gets the pragma). Requests
// keep being admitted and settled, the failure is logged and counted, and once the database is
// back every settled request is in usage_daily and every log row is either written or counted as
// dropped.
func TestStorageFaultsKeepServingCountAndRecover(t *testing.T) {
	tests := []struct {
		name    string
		breakDB func(t *testing.T, e *testEnv)
		fixDB   string
		wantErr string
	}{
		{
			name:    "read-only",
			breakDB: func(t *testing.T, e *testEnv) { execSQL(t, e, "PRAGMA query_only = 1") },
			fixDB:   "PRAGMA query_only = 0",
			wantErr: "readonly",
		},
		{
			name: "full",
			breakDB: func(t *testing.T, e *testEnv) {
				var pages int64
				if err := e.db.NewRaw("PRAGMA page_count").Scan(context.Background(), &pages); err != nil {
					t.Fatal(err)
				}
				// The file may not grow by a single page any more.
				execSQL(t, e, "PRAGMA max_page_count = "+strconv.FormatInt(pages, 10))
			},
			fixDB:   "PRAGMA max_page_count = 1073741823",
			wantErr: "full",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			const queue, batch = 12, 5
			e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) {
				o.Logger = slog.New(slog.NewTextHandler(logs, nil))
				o.QueueSize, o.BatchSize = queue, batch
				o.StoreBodies = true // rows big enough that they need new pages
			})
			big := bytes.Repeat([]byte("b"), 16<<10)
			outcome := Outcome{Status: 200, Usage: providers.Usage{InputTokens: 3, OutputTokens: 2},
				FinishReason: "stop", RequestBody: big, ResponseBody: big}

			runCalls(t, e, "app", 2, outcome) // before the fault: written normally
			e.flush()
			tt.breakDB(t, e)

			const during = 20
			served := make(chan struct{})
			go func() {
				defer close(served)
				runCalls(t, e, "app", during, outcome)
			}()
			select {
			case <-served:
			case <-time.After(10 * time.Second):
				t.Fatal("requests stalled on the broken database")
			}
			err := e.gw.Flush(context.Background())
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), tt.wantErr) {
				t.Fatalf("Flush on the broken database = %v, want an error saying %q", err, tt.wantErr)
			}
			if v := testutil.ToFloat64(e.gw.metrics.dbWriteErrors); v < 1 {
				t.Errorf("ai_gateway_db_write_errors_total = %v, want the failure counted", v)
			}
			if out := logs.String(); !strings.Contains(out, "request log write failed") || !strings.Contains(strings.ToLower(out), tt.wantErr) {
				t.Errorf("the failure was not logged with its cause:\n%s", out)
			}
			// Meanwhile the gateway's own counters are right: admission still sees today's usage.
			if u := e.gw.Usage(e.auth("app")); u.Usage.Requests != 2+during || u.Usage.InputTokens != 3*(2+during) {
				t.Errorf("live usage while the database is down: %+v", u.Usage)
			}

			execSQL(t, e, tt.fixDB)
			e.flush()
			dropped := int(testutil.ToFloat64(e.gw.metrics.queueDropped))
			rows := e.logRows()
			if len(rows)+dropped != 2+during {
				t.Errorf("%d rows written + %d counted as dropped = %d, want every one of the %d requests", len(rows), dropped, len(rows)+dropped, 2+during)
			}
			if len(rows) < 2+queue {
				t.Errorf("only %d rows written after recovery; the queue holds %d", len(rows), queue)
			}
			if u := e.usageRows(); len(u) != 1 || u[0].Requests != 2+during || u[0].InputTokens != 3*(2+during) || u[0].OutputTokens != 2*(2+during) {
				t.Errorf("usage_daily after recovery %+v: want all %d requests exactly once (usage is never dropped)", u, 2+during)
			}
		})
	}
}

// PostgreSQL goes away under a running gateway (SPEC §17: "Postgres unreachable: … logs queued
// (bounded) and drops counted, as with SQLite faults"): a proxy between them cuts every connection
// and refuses new ones. Requests keep being admitted and settled, the failure is logged and
// counted, and once the server is reachable again every settled request is in usage_daily and
// every log row is either written or counted as dropped.
func TestPostgresOutageKeepsServingCountsAndRecovers(t *testing.T) {
	proxy := pgtest.NewProxy(t, pgtest.ServerAddr())
	bdb, _, err := db.Connect(context.Background(), db.Options{Driver: db.DriverPostgres, URL: proxy.Via(pgtest.Schema(t))})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	const queue, batch = 12, 5
	e := newEnvOn(t, bdb, "", []db.Client{clientRow(1, "app")}, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		o.QueueSize, o.BatchSize = queue, batch
	})
	outcome := Outcome{Status: 200, Usage: providers.Usage{InputTokens: 3, OutputTokens: 2}, FinishReason: "stop"}

	runCalls(t, e, "app", 2, outcome) // before the outage: written normally
	e.flush()
	proxy.Cut()

	const during = 20
	served := make(chan struct{})
	go func() {
		defer close(served)
		runCalls(t, e, "app", during, outcome)
	}()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("requests stalled on the unreachable database")
	}
	if err := e.gw.Flush(context.Background()); err == nil {
		t.Fatal("Flush with PostgreSQL unreachable succeeded")
	}
	if v := testutil.ToFloat64(e.gw.metrics.dbWriteErrors); v < 1 {
		t.Errorf("ai_gateway_db_write_errors_total = %v, want the failure counted", v)
	}
	if out := logs.String(); !strings.Contains(out, "request log write failed") {
		t.Errorf("the failure was not logged:\n%s", out)
	}
	if u := e.gw.Usage(e.auth("app")); u.Usage.Requests != 2+during || u.Usage.InputTokens != 3*(2+during) {
		t.Errorf("live usage while the database is unreachable: %+v", u.Usage)
	}

	proxy.Restore()
	// The pool's connections died with the cut; the first write after it may meet one.
	for attempt := 0; ; attempt++ {
		err := e.gw.Flush(context.Background())
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("Flush after PostgreSQL came back: %v", err)
		}
	}
	dropped := int(testutil.ToFloat64(e.gw.metrics.queueDropped))
	rows := e.logRows()
	if len(rows)+dropped != 2+during {
		t.Errorf("%d rows written + %d counted as dropped = %d, want every one of the %d requests", len(rows), dropped, len(rows)+dropped, 2+during)
	}
	if len(rows) < 2+queue {
		t.Errorf("only %d rows written after recovery; the queue holds %d", len(rows), queue)
	}
	if u := e.usageRows(); len(u) != 1 || u[0].Requests != 2+during || u[0].InputTokens != 3*(2+during) || u[0].OutputTokens != 2*(2+during) {
		t.Errorf("usage_daily after recovery %+v: want all %d requests exactly once (usage is never dropped)", u, 2+during)
	}
}

// The gateway's database handle has one connection, so a pragma applies to the writer's.
func execSQL(t *testing.T, e *testEnv, q string) {
	t.Helper()
	if _, err := e.db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
