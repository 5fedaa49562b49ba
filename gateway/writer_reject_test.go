package gateway

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
)

// poisonMark in the model an upstream says answered makes rejectingStore's database refuse the
// row; the row's plain form (ASCII only) no longer has it. (A model the caller names cannot hold
// it: admission refuses such ids, see providers.CheckModelID.)
const poisonMark = "☠"

// alwaysRejected as a request id makes rejectingStore refuse the row in any form.
const alwaysRejected = "always-rejected"

// pgInvalidText is the error PostgreSQL gives for a NUL in text (SQLSTATE 22021).
type pgInvalidText struct{}

func (pgInvalidText) Error() string {
	return `ERROR: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)`
}
func (pgInvalidText) SQLState() string { return "22021" }

// rejectingStore is the real store behind a database that refuses some values: a log row with
// poisonMark in its model used or alwaysRejected as its request id gets PostgreSQL's refusal. With down set, every
// write fails as a database that is down does.
type rejectingStore struct {
	LogStore
	down     atomic.Bool
	attempts atomic.Int64
}

func (s *rejectingStore) WriteBatch(ctx context.Context, b db.AccountingBatch) error {
	s.attempts.Add(1)
	if s.down.Load() {
		return errDiskIO
	}
	for _, r := range b.Logs {
		if strings.Contains(r.ModelUsed, poisonMark) || r.RequestID == alwaysRejected {
			return pgInvalidText{}
		}
	}
	return s.LogStore.WriteBatch(ctx, b)
}

type diskIOError struct{}

func (diskIOError) Error() string { return "disk I/O error" }

var errDiskIO = diskIOError{}

// One batch of 25 requests holds a row the database refuses in its own form but takes in plain
// form, and one it refuses in any form. The writer splits the batch: the 23 good rows are
// written as they are, the first bad row in plain form, the second is dropped; each is counted
// and logged, and every request is in usage_daily.
func TestWriterSplitsARejectedBatchAndWritesTheRest(t *testing.T) {
	var store *rejectingStore
	logs := &syncBuffer{}
	e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) {
		store = &rejectingStore{LogStore: o.Logs}
		o.Logs = store
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		o.BatchSize = 100
		o.StoreBodies = true
	})
	c := e.auth("app")
	for i := range 25 {
		a := Admission{Endpoint: "/v1/chat/completions", RequestID: "req"}
		o := ok200(3, 2)
		switch i {
		case 7:
			o.ModelUsed = "bad" + poisonMark + "model"
		case 15:
			a.RequestID = alwaysRejected
		}
		call, err := e.gw.Begin(c, a)
		if err != nil {
			t.Fatal(err)
		}
		o.RequestBody = []byte(`{"model":"x"}`)
		call.End(o)
	}
	e.flush()

	rows := e.logRows()
	if len(rows) != 24 {
		t.Fatalf("%d request log rows, want the 23 good ones and the one stored in plain form", len(rows))
	}
	var plain []db.RequestLog
	for _, r := range rows {
		if r.RequestID == alwaysRejected {
			t.Errorf("the row rejected in any form was written: %+v", r)
		}
		if r.ModelUsed != "gpt-4o-mini" && r.ModelUsed != "" {
			plain = append(plain, r)
		}
	}
	if len(plain) != 1 || plain[0].ModelUsed != "bad?model" || plain[0].RequestBody != "" || plain[0].Status != 200 ||
		plain[0].InputTokens != 3 {
		t.Errorf("the rejected row in plain form: %+v; want model \"bad?model\", no body, its status and tokens", plain)
	}
	usage := map[string]int64{}
	for _, u := range e.usageRows() {
		usage[u.Model] += u.Requests
	}
	if usage["gpt-4o-mini"] != 25 || len(usage) != 1 {
		t.Errorf("usage_daily requests by model %v: want all 25 requests", usage)
	}
	if v := testutil.ToFloat64(e.gw.metrics.rowsRejected.WithLabelValues(rejectedPlain)); v != 1 {
		t.Errorf(`ai_gateway_db_rows_rejected_total{outcome="stored_plain"} = %v, want 1 (the log row)`, v)
	}
	if v := testutil.ToFloat64(e.gw.metrics.rowsRejected.WithLabelValues(rejectedDropped)); v != 1 {
		t.Errorf(`ai_gateway_db_rows_rejected_total{outcome="dropped"} = %v, want 1`, v)
	}
	if v := testutil.ToFloat64(e.gw.metrics.dbWriteErrors); v != 0 {
		t.Errorf("ai_gateway_db_write_errors_total = %v: a rejected row is not a database failure", v)
	}
	out := logs.String()
	if !strings.Contains(out, "stored it in plain form") || !strings.Contains(out, "dropped it") || !strings.Contains(out, "22021") {
		t.Errorf("the rejected rows were not logged with the database's reason:\n%s", out)
	}

	// Later requests are written as usual: nothing is stuck.
	runCalls(t, e, "app", 3, ok200(1, 1))
	e.flush()
	if n := len(e.logRows()); n != 27 {
		t.Errorf("%d rows after 3 more requests, want 27", n)
	}
}

// A database that is down fails every row alike: nothing is split off, dropped or stored in
// plain form, and once it is back every row is written, the poisoned one in plain form.
func TestWriterRetriesWholeBatchesWhileTheDatabaseIsDown(t *testing.T) {
	var store *rejectingStore
	e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) {
		store = &rejectingStore{LogStore: o.Logs}
		o.Logs = store
	})
	store.down.Store(true)
	c := e.auth("app")
	for i := range 6 {
		a := Admission{Endpoint: "/v1/chat/completions", RequestID: "req"}
		o := ok200(1, 1)
		if i == 2 {
			o.ModelUsed = "bad" + poisonMark
		}
		call, err := e.gw.Begin(c, a)
		if err != nil {
			t.Fatal(err)
		}
		call.End(o)
	}
	for range 2 {
		if err := e.gw.Flush(context.Background()); err == nil {
			t.Fatal("Flush with the database down: want an error")
		}
	}
	if n := store.attempts.Load(); n != 2 {
		t.Errorf("%d write attempts for 2 flushes while down: want one each (a failing database is not split)", n)
	}
	for _, o := range []string{rejectedPlain, rejectedDropped} {
		if v := testutil.ToFloat64(e.gw.metrics.rowsRejected.WithLabelValues(o)); v != 0 {
			t.Errorf("rows %s while the database was down: %v", o, v)
		}
	}
	store.down.Store(false)
	e.flush()
	if n := len(e.logRows()); n != 6 {
		t.Errorf("%d rows after recovery, want all 6", n)
	}
	var total int64
	for _, u := range e.usageRows() {
		total += u.Requests
	}
	if total != 6 {
		t.Errorf("usage_daily counts %d requests after recovery, want 6", total)
	}
}

// lostAnswerStore is the real store behind a connection that breaks after the database committed
// a batch but before the answer came back: the first write is stored, and still fails.
type lostAnswerStore struct {
	LogStore
	lost atomic.Bool
}

func (s *lostAnswerStore) WriteBatch(ctx context.Context, b db.AccountingBatch) error {
	if err := s.LogStore.WriteBatch(ctx, b); err != nil {
		return err
	}
	if s.lost.CompareAndSwap(false, true) {
		return errors.New("read tcp 127.0.0.1:50000->127.0.0.1:5432: connection reset by peer")
	}
	return nil
}

// A batch whose commit succeeded but whose answer was lost is retried, and the retry counts
// nothing twice: every request is once in the log and once in usage_daily.
func TestWriterRetryAfterALostCommitAnswerCountsOnce(t *testing.T) {
	store := &lostAnswerStore{}
	e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) {
		store.LogStore = o.Logs
		o.Logs = store
	})
	runCalls(t, e, "app", 7, ok200(3, 2))
	if err := e.gw.Flush(context.Background()); err == nil {
		t.Fatal("the first write's lost answer was not reported")
	}
	e.flush() // the retry
	if rows := e.logRows(); len(rows) != 7 {
		t.Errorf("%d log rows, want 7", len(rows))
	}
	if u := e.usageRows(); len(u) != 1 || u[0].Requests != 7 || u[0].InputTokens != 21 || u[0].OutputTokens != 14 {
		t.Errorf("usage_daily %+v: want the 7 requests once", u)
	}
}

// A database that stays down is logged when a write first fails, then once per failLogEvery
// however often the writer retries, and once more when writes work again; the metric counts
// every failure, and nothing is lost.
func TestWriterLogsAnOutageAtARate(t *testing.T) {
	logs := &syncBuffer{}
	store := &rejectingStore{}
	e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) {
		store.LogStore = o.Logs
		o.Logs = store
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	store.down.Store(true)
	runCalls(t, e, "app", 3, ok200(3, 2))
	for range 5 { // five retries within one period: one line
		if err := e.gw.Flush(context.Background()); err == nil {
			t.Fatal("a write to the database that is down succeeded")
		}
	}
	e.clock.Add(failLogEvery)
	for range 3 { // the next period: one more line
		e.gw.Flush(context.Background()) //nolint:errcheck
	}
	store.down.Store(false)
	e.flush()

	out := logs.String()
	if n := strings.Count(out, "request log write failed"); n != 2 {
		t.Errorf("%d failure lines for 8 failed writes in two periods, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "failed_writes=6") || !strings.Contains(out, `msg="request log writes work again" failed_writes=8`) {
		t.Errorf("the lines do not count the failed writes, or the recovery is not logged:\n%s", out)
	}
	if v := testutil.ToFloat64(e.gw.metrics.dbWriteErrors); v != 8 {
		t.Errorf("ai_gateway_db_write_errors_total = %v, want 8", v)
	}
	if rows := e.logRows(); len(rows) != 3 {
		t.Errorf("%d log rows after recovery, want 3", len(rows))
	}
}
