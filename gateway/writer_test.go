package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// recordingStore wraps the real store: it records each batch's size and can be made to fail.
type recordingStore struct {
	LogStore
	mu      sync.Mutex
	batches []int // log rows per successful WriteBatch
	fail    atomic.Bool
	failed  atomic.Int64
}

func (s *recordingStore) WriteBatch(ctx context.Context, b db.AccountingBatch) error {
	if s.fail.Load() {
		s.failed.Add(1)
		return errors.New("disk I/O error")
	}
	if err := s.LogStore.WriteBatch(ctx, b); err != nil {
		return err
	}
	s.mu.Lock()
	s.batches = append(s.batches, len(b.Logs))
	s.mu.Unlock()
	return nil
}

func (s *recordingStore) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
}

// wrapLogs makes the env's gateway write through a recordingStore.
func wrapLogs(rec **recordingStore, edit func(*Options)) func(*Options) {
	return func(o *Options) {
		*rec = &recordingStore{LogStore: o.Logs}
		o.Logs = *rec
		if edit != nil {
			edit(o)
		}
	}
}

func runCalls(t *testing.T, e *testEnv, client string, n int, o Outcome) {
	t.Helper()
	c := e.auth(client)
	for range n {
		call, err := e.gw.Begin(c, Admission{Endpoint: "/v1/chat/completions", RequestID: "req"})
		if err != nil {
			t.Fatal(err)
		}
		call.End(o)
	}
}

// A filled batch wakes the writer, which writes full batches only: the rows arriving meanwhile
// wait for the tick (here: the flush) instead of going out a few at a time. The batches are the
// same however the writer goroutine and the requests interleave.
func TestWriterWritesInBatches(t *testing.T) {
	var rec *recordingStore
	e := newEnv(t, []db.Client{clientRow(1, "app")}, wrapLogs(&rec, func(o *Options) { o.BatchSize = 10 }))
	runCalls(t, e, "app", 25, ok200(3, 2))
	e.flush()
	if got := rec.sizes(); fmt.Sprint(got) != "[10 10 5]" {
		t.Fatalf("batches %v, want [10 10 5]", got)
	}
	if n := len(e.logRows()); n != 25 {
		t.Fatalf("%d rows, want 25", n)
	}
	u := e.usageRows()
	if len(u) != 1 || u[0].Requests != 25 || u[0].InputTokens != 75 || u[0].OutputTokens != 50 || u[0].Model != "gpt-4o-mini" {
		t.Fatalf("usage_daily %+v", u)
	}
}

func TestWriterFlushesOnClose(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	runCalls(t, e, "app", 7, ok200(1, 1))
	if n := len(e.logRows()); n != 0 {
		t.Fatalf("%d rows written before any flush (interval is an hour)", n)
	}
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.logRows()); n != 7 {
		t.Fatalf("%d rows after Close, want 7", n)
	}
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRestartKeepsTodaysUsage(t *testing.T) {
	row := clientRow(1, "app")
	row.MaxRequestsPerDay = 5
	row.MaxInputTokensPerDay = 1000
	e := newEnv(t, []db.Client{row}, nil)
	runCalls(t, e, "app", 3, ok200(300, 7))
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	e.start(nil) // a new process over the same database
	c := e.auth("app")
	u := e.gw.Usage(c)
	if u.Usage.Requests != 3 || u.Usage.InputTokens != 900 || u.Usage.OutputTokens != 21 || *u.Remaining.Requests != 2 {
		t.Fatalf("after restart: %+v remaining %+v", u.Usage, u.Remaining)
	}
	if s := e.gw.Stats(); s.Today.Requests != 3 || s.Today.InputTokens != 900 || len(s.Clients) != 1 || s.Clients[0].Name != "app" {
		t.Fatalf("dashboard after restart: %+v", s)
	}
	// 900 of 1000 input tokens used before the restart: an estimate of 200 no longer fits.
	if _, err := e.gw.Begin(c, Admission{InputTokens: 200}); err == nil {
		t.Fatal("restart reset the input token quota")
	}
	runCalls(t, e, "app", 2, ok200(10, 1))
	_, err := e.gw.Begin(c, Admission{})
	perr(t, err, providers.KindRateLimited)

	// Yesterday's usage does not count on a new day.
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(24 * time.Hour)
	e.start(nil)
	if u := e.gw.Usage(e.auth("app")); u.Usage.Requests != 0 {
		t.Fatalf("new day after restart: %+v", u.Usage)
	}
}

func TestConcurrentCallsAreAllAccounted(t *testing.T) {
	const n = 5000
	rows := []db.Client{clientRow(1, "a"), clientRow(2, "b"), clientRow(3, "c")}
	e := newEnv(t, rows, func(o *Options) { o.QueueSize = n })
	names := []string{"a", "b", "c"}
	models := []string{"m1", "m2"}
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.gw.Authenticate("key-" + names[i%3])
			if err != nil {
				failures.Add(1)
				return
			}
			call, err := e.gw.Begin(c, Admission{Model: models[i%2], RequestID: fmt.Sprint(i)})
			if err != nil {
				failures.Add(1)
				return
			}
			call.FirstByte()
			o := ok200(i%7+1, i%5+1)
			if i%10 == 0 {
				o = Outcome{Status: 502, Err: &providers.Error{Kind: providers.KindUnavailable, Message: "boom"}}
			}
			call.End(o)
		}()
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d calls failed", failures.Load())
	}
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	var wantIn, wantOut, wantErrs int64
	for i := range n {
		if i%10 == 0 {
			wantErrs++
			continue
		}
		wantIn += int64(i%7 + 1)
		wantOut += int64(i%5 + 1)
	}
	logs := e.logRows()
	if len(logs) != n {
		t.Fatalf("%d log rows, want %d", len(logs), n)
	}
	seen := make(map[string]bool, n)
	for _, r := range logs {
		seen[r.RequestID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct request ids in the log, want %d", len(seen), n)
	}
	var got db.UsageDaily
	for _, u := range e.usageRows() {
		got.Requests += u.Requests
		got.Errors += u.Errors
		got.InputTokens += u.InputTokens
		got.OutputTokens += u.OutputTokens
	}
	if got.Requests != n || got.Errors != wantErrs || got.InputTokens != wantIn || got.OutputTokens != wantOut {
		t.Fatalf("usage_daily totals %+v, want %d requests, %d errors, %d in, %d out", got, n, wantErrs, wantIn, wantOut)
	}
	if v := testutil.ToFloat64(e.gw.metrics.queueDropped); v != 0 {
		t.Fatalf("%v rows dropped", v)
	}
}

func TestFullQueueDropsLogRowsButNeverUsage(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, func(o *Options) { o.QueueSize = 5 })
	runCalls(t, e, "app", 8, ok200(2, 1))
	if v := testutil.ToFloat64(e.gw.metrics.queueDropped); v != 3 {
		t.Fatalf("ai_gateway_log_queue_dropped_total = %v, want 3", v)
	}
	e.flush()
	if n := len(e.logRows()); n != 5 {
		t.Fatalf("%d rows, want the 5 that fit", n)
	}
	if u := e.usageRows(); len(u) != 1 || u[0].Requests != 8 || u[0].InputTokens != 16 {
		t.Fatalf("usage %+v: every request must be accounted", u)
	}
}

func TestDatabaseFailureKeepsServingAndWritesAfterRecovery(t *testing.T) {
	var rec *recordingStore
	e := newEnv(t, []db.Client{clientRow(1, "app")}, wrapLogs(&rec, func(o *Options) { o.BatchSize = 4 }))
	rec.fail.Store(true)
	runCalls(t, e, "app", 6, ok200(5, 5))
	if err := e.gw.Flush(context.Background()); err == nil {
		t.Fatal("Flush with a failing database: want an error")
	}
	runCalls(t, e, "app", 4, ok200(5, 5)) // still admitted while the database is down
	if err := e.gw.Flush(context.Background()); err == nil {
		t.Fatal("want an error again")
	}
	if v := testutil.ToFloat64(e.gw.metrics.dbWriteErrors); v < 2 {
		t.Fatalf("ai_gateway_db_write_errors_total = %v, want ≥ 2", v)
	}
	if n := len(e.logRows()); n != 0 {
		t.Fatalf("%d rows written while failing", n)
	}

	rec.fail.Store(false)
	e.flush()
	if n := len(e.logRows()); n != 10 {
		t.Fatalf("%d rows after recovery, want 10", n)
	}
	if u := e.usageRows(); len(u) != 1 || u[0].Requests != 10 || u[0].InputTokens != 50 {
		t.Fatalf("usage after recovery %+v: want each request counted exactly once", u)
	}
}

func TestCloseGivesUpWhenTheDatabaseStaysDown(t *testing.T) {
	var rec *recordingStore
	e := newEnv(t, []db.Client{clientRow(1, "app")}, wrapLogs(&rec, nil))
	rec.fail.Store(true)
	runCalls(t, e, "app", 3, ok200(1, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown budget is spent
	err := e.gw.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "3 request log rows") {
		t.Fatalf("Close = %v, want it to say 3 rows were not written", err)
	}
}

func TestRequestLogRows(t *testing.T) {
	row := clientRow(1, "app")
	row.RequestsPerMinute = 1
	e := newEnv(t, []db.Client{row}, func(o *Options) { o.StoreBodies = true })
	c := e.auth("app")
	big := strings.Repeat("é", 40<<10) // 80 KiB of two-byte runes

	call, err := e.gw.Begin(c, Admission{Endpoint: "/v1/messages", FrontDoor: "anthropic", Model: "claude", Stream: true,
		RequestID: "r1", ClientIP: "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(300 * time.Millisecond)
	call.FirstByte()
	e.clock.Add(2 * time.Second)
	call.End(Outcome{Status: 200, Usage: providers.Usage{InputTokens: 12, OutputTokens: 34, CachedTokens: 5, ReasoningTokens: 6, Estimated: true},
		FinishReason: "stop", ModelUsed: "claude-3-7-sonnet-20250219",
		RequestBody:  []byte(`{"key":"upstream-secret-app","auth":"Bearer sk-ant-api03-abcdefghijklmnopqrstuvwxyz"}`),
		ResponseBody: []byte(big)})

	_, err = e.gw.Begin(c, Admission{Endpoint: "/v1/messages", Model: "claude", RequestID: "r2"})
	perr(t, err, providers.KindRateLimited)

	e.clock.Add(time.Minute)
	call, err = e.gw.Begin(c, Admission{Endpoint: "/v1/chat/completions", RequestID: "r3"})
	if err != nil {
		t.Fatal(err)
	}
	call.End(Outcome{Err: &providers.Error{Kind: providers.KindTimeout, Message: "upstream timed out: no response headers", Provider: "openai"}})
	e.gw.SetStoreBodies(false)
	e.clock.Add(2 * time.Minute)
	call, _ = e.gw.Begin(c, Admission{RequestID: "r4"})
	call.End(Outcome{Status: 200, RequestBody: []byte("body"), ResponseBody: []byte("body")})
	e.flush()

	logs := e.logRows()
	if len(logs) != 4 {
		t.Fatalf("%d rows", len(logs))
	}
	ok, limited, timeout, nobody := logs[0], logs[1], logs[2], logs[3]
	if ok.RequestID != "r1" || ok.Endpoint != "/v1/messages" || ok.ModelRequested != "claude" || ok.ModelUsed != "claude-3-7-sonnet-20250219" ||
		ok.Provider != "openai" || !ok.Stream || ok.Status != 200 || ok.InputTokens != 12 || ok.OutputTokens != 34 ||
		ok.CachedTokens != 5 || ok.ReasoningTokens != 6 || !ok.Estimated || ok.LatencyMS != 2300 || ok.TTFTMS != 300 ||
		ok.FinishReason != "stop" || ok.ClientIP != "10.0.0.1" || !ok.Time.Equal(day0) {
		t.Fatalf("success row %+v", ok)
	}
	if strings.Contains(ok.RequestBody, "upstream-secret-app") || strings.Contains(ok.RequestBody, "sk-ant-api03") ||
		strings.Count(ok.RequestBody, redacted) != 2 {
		t.Fatalf("request body not redacted: %s", ok.RequestBody)
	}
	if len(ok.ResponseBody) > maxBodyBytes || len(ok.ResponseBody) < maxBodyBytes-1 || !strings.HasPrefix(big, ok.ResponseBody) {
		t.Fatalf("response body %d bytes: want cut at 64 KiB on a rune boundary", len(ok.ResponseBody))
	}
	if limited.Status != 429 || limited.ErrorClass != "rate_limited" || !strings.Contains(limited.ErrorMessage, "per minute") || limited.ModelRequested != "claude" {
		t.Fatalf("rate-limited row %+v", limited)
	}
	if timeout.Status != 504 || timeout.ErrorClass != "timeout" || timeout.ErrorMessage != "upstream timed out: no response headers" || timeout.ModelUsed != "gpt-4o-mini" {
		t.Fatalf("timeout row %+v", timeout)
	}
	if nobody.RequestBody != "" || nobody.ResponseBody != "" {
		t.Fatal("bodies stored with body logging off")
	}
	// The refusal is logged, marked, and in usage_daily as a refused request.
	var requests, refused int64
	for _, u := range e.usageRows() {
		requests += u.Requests
		refused += u.Refused
	}
	if requests != 4 || refused != 1 || !limited.Refused || timeout.Refused {
		t.Fatalf("usage_daily requests = %d, refused %d; rows refused: %v, %v; want 4, 1, true, false", requests, refused, limited.Refused, timeout.Refused)
	}
}

func TestRetentionDeletesOldRows(t *testing.T) {
	e := newEnv(t, nil, nil)
	old := []db.RequestLog{
		{Time: day0.Add(-31 * 24 * time.Hour), RequestID: "old"},
		{Time: day0.Add(-29 * 24 * time.Hour), RequestID: "recent"},
	}
	if err := e.logs.WriteBatch(context.Background(), db.AccountingBatch{Logs: old}); err != nil {
		t.Fatal(err)
	}
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.start(func(o *Options) { o.RetentionDays = 30 })
	e.flush() // the job runs when the writer starts, before it serves the flush
	rows := e.logRows()
	if len(rows) != 1 || rows[0].RequestID != "recent" {
		t.Fatalf("rows after retention: %+v", rows)
	}
}

// TestRestartKeepsTheCharts: the dashboard's last-hour and last-day series are read back from
// the request log at start, so a restart shows the same charts as before it, and today's totals
// (restored from the usage rollups) are not counted twice.
func TestRestartKeepsTheCharts(t *testing.T) {
	withTraffic := func(o *Options) { o.Traffic = o.Logs.(TrafficLoader) }
	e := newEnv(t, []db.Client{clientRow(1, "app")}, withTraffic)
	runCalls(t, e, "app", 2, ok200(10, 1))
	e.clock.Add(7 * time.Minute)
	runCalls(t, e, "app", 1, Outcome{Status: 502, Err: &providers.Error{Kind: providers.KindUpstream, Message: "down"}})
	e.clock.Add(30 * time.Minute)
	runCalls(t, e, "app", 3, ok200(20, 2))
	before := e.gw.Stats()
	if err := e.gw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	e.start(withTraffic)
	<-e.gw.restored // the history is read in the background
	after := e.gw.Stats()
	if after.Today != before.Today {
		t.Errorf("today after restart %+v, before %+v", after.Today, before.Today)
	}
	var hourRequests, hourErrors int64
	for i := range before.LastHour {
		hourRequests += after.LastHour[i].Requests
		hourErrors += after.LastHour[i].Errors
		if after.LastHour[i] != before.LastHour[i] {
			t.Errorf("last hour, point %d: %+v after restart, %+v before", i, after.LastHour[i], before.LastHour[i])
		}
	}
	for i := range before.LastDay {
		if after.LastDay[i] != before.LastDay[i] {
			t.Errorf("last day, point %d: %+v after restart, %+v before", i, after.LastDay[i], before.LastDay[i])
		}
	}
	if hourRequests != 6 || hourErrors != 1 {
		t.Errorf("the last hour holds %d requests and %d errors, want 6 and 1", hourRequests, hourErrors)
	}
}

// expirerFunc records the cutoff the retention job asked for.
type expirerFunc func(time.Time) (int64, error)

func (f expirerFunc) DeleteBefore(_ context.Context, t time.Time) (int64, error) { return f(t) }

// Stored responses have their own retention period, applied by the same job; 0 keeps them.
func TestRetentionDeletesOldResponses(t *testing.T) {
	for _, days := range []int{7, 0} {
		var cutoffs []time.Time
		e := newEnv(t, nil, func(o *Options) {
			o.RetentionDays = 30
			o.Responses = expirerFunc(func(t time.Time) (int64, error) { cutoffs = append(cutoffs, t); return 1, nil })
			o.ResponsesRetentionDays = days
		})
		e.flush()
		if days == 0 {
			if len(cutoffs) != 0 {
				t.Fatalf("retention 0 deleted responses before %v", cutoffs)
			}
			continue
		}
		if want := day0.Add(-7 * 24 * time.Hour); len(cutoffs) != 1 || !cutoffs[0].Equal(want) {
			t.Fatalf("cutoffs %v, want [%v]", cutoffs, want)
		}
	}
}

// The writer reuses the memory of its queue and of the batch it last wrote: across many batches,
// full and partial, each row is stored once, in order, with its own values.
func TestWriterReusedMemoryKeepsRowsApart(t *testing.T) {
	var rec *recordingStore
	e := newEnv(t, []db.Client{clientRow(1, "app")}, wrapLogs(&rec, func(o *Options) { o.BatchSize = 10 }))
	c := e.auth("app")
	var want []string
	for round, n := range []int{25, 10, 3, 17, 40} {
		for i := range n {
			id := fmt.Sprintf("req-%d-%d", round, i)
			want = append(want, id)
			call, err := e.gw.Begin(c, Admission{Endpoint: "/v1/chat/completions", RequestID: id, Model: id})
			if err != nil {
				t.Fatal(err)
			}
			call.End(ok200(i, 1))
		}
		e.flush()
	}
	rows := e.logRows()
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if r.RequestID != want[i] || r.ModelRequested != want[i] {
			t.Fatalf("row %d: request %q, model %q, want %q", i, r.RequestID, r.ModelRequested, want[i])
		}
	}
}

// The writer keeps a queue array for the next rows only at a batch's size: one that grew while the
// writer fell behind is let go once drained, so a burst does not hold its memory for good. The
// other array takes its place at once.
func TestWriterLetsGoOfAGrownQueueArray(t *testing.T) {
	w := newWriter(nil, slog.New(slog.DiscardHandler), nil, time.Now, func() int { return 0 }, 100, 10, time.Hour)
	add := func(n int) {
		for i := range n {
			w.add(&pendingLog{row: db.RequestLog{RequestID: fmt.Sprint(i)}}, nil)
		}
	}
	add(10)
	w.take() // a batch-sized array, kept as the spare
	if cap(w.spareLogs) != 10 {
		t.Fatalf("spare array of %d rows after a batch-sized one was drained, want 10", cap(w.spareLogs))
	}
	add(45) // the spare grows past a batch: the writer fell behind
	for len(w.logs) > 0 {
		if b := w.take(); len(b.Logs) > 10 {
			t.Fatalf("a batch of %d rows, want at most 10", len(b.Logs))
		}
	}
	if w.spareLogs != nil {
		t.Errorf("a drained array of %d rows kept as the spare, want it let go", cap(w.spareLogs))
	}
	add(3)
	if cap(w.logs) != 10 {
		t.Errorf("new rows went into an array of %d, want a batch-sized one", cap(w.logs))
	}
}
