package gateway

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aigateway/ai-gateway/db"
)

// blockingStore holds every write until released, and says when the first one started.
type blockingStore struct {
	LogStore
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) WriteBatch(ctx context.Context, b db.AccountingBatch) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.LogStore.WriteBatch(ctx, b)
}

// While the writer is stuck inside a database write, requests keep flowing: nothing on the
// request path waits for the database.
func TestRequestPathNeverWaitsForTheDatabase(t *testing.T) {
	var store *blockingStore
	e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) {
		store = &blockingStore{LogStore: o.Logs, entered: make(chan struct{}, 1), release: make(chan struct{})}
		o.Logs = store
		o.BatchSize = 10
	})
	runCalls(t, e, "app", 10, ok200(1, 1)) // a full batch wakes the writer
	<-store.entered                        // the writer is now blocked in WriteBatch
	runCalls(t, e, "app", 1000, ok200(1, 1))
	if u := e.gw.Usage(e.auth("app")); u.Usage.Requests != 1010 {
		t.Fatalf("in-memory usage %+v", u.Usage)
	}
	close(store.release)
	e.flush()
	if n := len(e.logRows()); n != 1010 {
		t.Fatalf("%d rows after the database came back, want 1010", n)
	}
}

// With the database closed after start, requests are admitted and accounted in memory as before.
func TestRequestPathWorksWithTheDatabaseClosed(t *testing.T) {
	row := clientRow(1, "app")
	row.MaxRequestsPerDay = 600
	e := newEnv(t, []db.Client{row}, nil)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	runCalls(t, e, "app", 600, ok200(2, 3))
	u := e.gw.Usage(e.auth("app"))
	if u.Usage.Requests != 600 || u.Usage.InputTokens != 1200 || *u.Remaining.Requests != 0 {
		t.Fatalf("usage %+v", u.Usage)
	}
	if err := e.gw.Flush(context.Background()); err == nil {
		t.Fatal("flush to a closed database succeeded")
	}
}

// BenchmarkRequestPath measures Authenticate + Begin + Context + End, the gateway's whole share
// of a request (run with -benchmem for allocations), with Do's tracing hooks (request span,
// attempt span). "db-open": the background writer drains to SQLite on the other core as in
// production. "db-closed": the database is closed after warm-up; the request path does no
// database I/O, so nothing changes for requests (rows beyond the queue bound are dropped and
// counted, usage still accounted in memory). Tracing is off in both: its hooks must cost nothing.
// "db-closed-traced": tracing on, every request sampled (ratio 1.0), spans batched to an
// exporter that drops them.
func BenchmarkRequestPath(b *testing.B) {
	for _, bc := range []struct {
		name           string
		closed, traced bool
	}{{"db-open", false, false}, {"db-closed", true, false}, {"db-closed-traced", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			closed := bc.closed
			row := clientRow(1, "app")
			row.RequestsPerMinute = 1 << 40
			row.MaxRequestsPerDay = 1 << 40
			row.MaxInputTokensPerDay = 1 << 40
			row.MaxOutputTokens = 4096
			row.ModelWhitelist = db.Strings{"gpt-4o", "gpt-4o-mini"}
			e := newEnv(b, []db.Client{row}, func(o *Options) {
				o.FlushInterval = 0
				if bc.traced {
					tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
						sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(1))))
					b.Cleanup(func() { tp.Shutdown(context.Background()) })
					o.Tracer = tp.Tracer("bench")
				}
			})
			adm := Admission{Endpoint: "/v1/chat/completions", FrontDoor: "openai", Model: "gpt-4o", InputTokens: 120,
				MaxOutputTokens: 1000, RequestID: "req-1", ClientIP: "127.0.0.1"}
			out := ok200(120, 40)
			// The parent of every upstream context, as in main (cancelled at shutdown).
			parent, stop := context.WithCancelCause(context.Background())
			defer stop(nil)
			one := func() {
				c, err := e.gw.Authenticate("key-app")
				if err != nil {
					b.Fatal(err)
				}
				x := Exchange{Client: c, Admission: adm}
				ctx, span := e.gw.startRequest(parent, &x)
				call, err := e.gw.Begin(c, x.Admission)
				if err != nil {
					b.Fatal(err)
				}
				call.traced(span)
				ctx, cancel := call.Context(ctx)
				call.Upstream()
				_ = call.startAttempt(ctx)
				call.FirstByte()
				_ = call.RateLimitHeaders()
				cancel()
				call.End(out)
			}
			for range 100 {
				one()
			}
			e.flush()
			if closed {
				if err := e.db.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				one()
			}
			b.StopTimer()
			if u := e.gw.Usage(e.auth("app")); u.Usage.Requests != int64(b.N)+100 {
				b.Fatalf("%d requests accounted, want %d", u.Usage.Requests, b.N+100)
			}
		})
	}
}
