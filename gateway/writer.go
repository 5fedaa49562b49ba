package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

// LogStore is where the background writer puts the request log and usage rollups
// (db.RequestLogStore). WriteBatch must be all-or-nothing so a failed batch can be retried.
type LogStore interface {
	WriteBatch(ctx context.Context, b db.AccountingBatch) error
	// DeleteBefore deletes request log rows older than t (the retention job).
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
}

// TrafficLoader reads back the request log at start (db.RequestLogStore): its traffic per minute
// for the charts, and each client's forwarded requests per minute for the rate-limit windows.
type TrafficLoader interface {
	TrafficSince(ctx context.Context, since time.Time) ([]db.TrafficMinute, error)
	ForwardedSince(ctx context.Context, since time.Time, clientIDs []int64) ([]db.ClientMinute, error)
}

// UsageLoader reads back one day of usage_daily at start (db.UsageStore).
type UsageLoader interface {
	ForDay(ctx context.Context, day string) ([]db.UsageDaily, error)
}

// Expirer deletes what was stored before t (db.Responses): a retention job's other half.
type Expirer interface {
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
}

// expiry is one more store the retention job keeps within its retention period.
type expiry struct {
	what  string
	store Expirer
	days  func() int
}

// pendingLog is one request log row waiting for the writer, with what it needs to redact it.
type pendingLog struct {
	row db.RequestLog
	// secrets are the client's upstream keys, to be redacted from the bodies.
	secrets []string
}

type usageKey struct {
	client int64
	day    string
	model  string
}

// writer is the one goroutine that writes accounting to the database.
//
// Usage deltas and last-use times are merged in memory by key, so they are bounded by the number
// of (client, day, model) combinations, never by traffic, and are never dropped. Request log rows
// wait in a bounded queue: when it is full, new rows are dropped and counted. A write the
// database fails as a whole (full, read-only, down) is logged, counted and retried with the same
// batch; meanwhile rows keep queueing up to the bound, so memory stays within queueSize +
// batchSize rows. A write the database rejects for the values in it is split until the rows at
// fault are found (write); the rest is written, so one bad row never holds up the others.
type writer struct {
	store     LogStore
	log       *slog.Logger
	m         *metrics
	now       func() time.Time
	retention func() int
	// expire lists the other stores the retention job trims (stored responses).
	expire    []expiry
	queueSize int
	batchSize int
	interval  time.Duration

	mu       sync.Mutex
	logs     []pendingLog
	usage    map[usageKey]*db.UsageDaily
	lastUsed map[int64]time.Time
	models   map[int64]db.ModelsCacheUpdate

	wake  chan struct{}
	flush chan flushRequest
	stop  chan flushRequest
	done  chan struct{}

	// spareLogs is a queue array the writer has emptied, for add to fill again (under mu):
	// the queue's memory is reused instead of allocated anew for every batch.
	spareLogs []pendingLog
	// spareRows are the rows of the last batch written, reused by the next one; only the
	// writer goroutine touches them.
	spareRows []db.RequestLog

	// retry is the batch that failed last; only the writer goroutine touches it.
	retry *db.AccountingBatch
	// failing is set after a failed write: wake-ups are ignored until the next tick, so a
	// broken database is retried once per interval instead of once per request.
	failing bool
	// failures counts the failed writes since the last success; failLogged is when one was last
	// logged. A database that stays down is logged once per failLogEvery, not once per retry.
	failures   int
	failLogged time.Time
}

// failLogEvery is how often a database that stays down is logged again.
const failLogEvery = 10 * time.Second

// writeTimeout bounds one write attempt.
const writeTimeout = 30 * time.Second

type flushRequest struct {
	ctx   context.Context
	reply chan error
}

func newWriter(store LogStore, log *slog.Logger, m *metrics, now func() time.Time, retention func() int,
	queueSize, batchSize int, interval time.Duration) *writer {
	return &writer{
		store: store, log: log, m: m, now: now, retention: retention,
		queueSize: queueSize, batchSize: batchSize, interval: interval,
		usage:    map[usageKey]*db.UsageDaily{},
		lastUsed: map[int64]time.Time{},
		models:   map[int64]db.ModelsCacheUpdate{},
		wake:     make(chan struct{}, 1),
		flush:    make(chan flushRequest),
		stop:     make(chan flushRequest),
		done:     make(chan struct{}),
	}
}

// add queues one request's accounting; it never blocks on the database.
func (w *writer) add(l *pendingLog, usage *db.UsageDaily) {
	w.mu.Lock()
	if usage != nil {
		k := usageKey{usage.ClientID, usage.Day, usage.Model}
		if u := w.usage[k]; u != nil {
			u.Add(usage)
		} else {
			u := *usage
			w.usage[k] = &u
		}
	}
	if l.row.ClientID != 0 && l.row.Time.After(w.lastUsed[l.row.ClientID]) { // 0: an unknown key
		w.lastUsed[l.row.ClientID] = l.row.Time
	}
	dropped := len(w.logs) >= w.queueSize
	if !dropped {
		if w.logs == nil { // room for a batch at once, rather than growing to it by doubling
			w.logs, w.spareLogs = w.spareLogs, nil
			if w.logs == nil {
				w.logs = make([]pendingLog, 0, min(w.batchSize, w.queueSize))
			}
		}
		w.logs = append(w.logs, *l)
	}
	full := len(w.logs) >= w.batchSize
	w.mu.Unlock()
	if dropped {
		w.m.queueDropped.Inc()
	}
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// addModels queues a client's fetched model list for client.models_cache.
func (w *writer) addModels(u db.ModelsCacheUpdate) {
	w.mu.Lock()
	w.models[u.ClientID] = u
	w.mu.Unlock()
}

func (w *writer) queueLength() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return float64(len(w.logs))
}

// take moves up to batchSize log rows and everything else pending into a batch.
func (w *writer) take() *db.AccountingBatch {
	w.mu.Lock()
	b := &db.AccountingBatch{}
	var logs, emptied []pendingLog
	if n := min(len(w.logs), w.batchSize); n > 0 {
		// The head goes to the batch; appends to the tail never touch it again.
		all := w.logs
		logs = w.logs[:n:n]
		w.logs = w.logs[n:]
		if len(w.logs) == 0 {
			// All of the array is taken: once the rows are copied out, add may fill it again.
			// Meanwhile add fills the spare one, which the last batch left (nil before there is
			// one: add then makes it). Two arrays take turns, none is made for a batch.
			emptied = all[:0]
			w.logs, w.spareLogs = w.spareLogs, nil
		}
	}
	// Every row is made storable here, on its way to the database: its text came from clients
	// and upstreams, and may hold NUL, invalid UTF-8 or more than a column's width.
	if len(w.usage) > 0 {
		b.Usage = make([]db.UsageDaily, 0, len(w.usage))
		for _, u := range w.usage {
			b.Usage = append(b.Usage, u.Storable())
		}
		clear(w.usage)
	}
	if len(w.lastUsed) > 0 {
		b.LastUsed = w.lastUsed
		w.lastUsed = map[int64]time.Time{}
	}
	for _, m := range w.models {
		b.ModelsCache = append(b.ModelsCache, m.Storable())
	}
	clear(w.models)
	w.mu.Unlock()
	// Redaction scans up to 64 KiB per body: done outside the lock that End takes. It cuts on a
	// UTF-8 boundary, so it comes after Storable has made the text valid UTF-8.
	if len(logs) > 0 {
		if cap(w.spareRows) >= len(logs) {
			b.Logs, w.spareRows = w.spareRows[:len(logs)], nil
		} else {
			b.Logs = make([]db.RequestLog, len(logs))
		}
		for i := range logs {
			b.Logs[i] = logs[i].row.Storable()
			redactRow(&b.Logs[i], logs[i].secrets)
		}
	}
	// The queue's array is reused (emptied, or its head left in front of the tail): no request's
	// text stays referenced from it.
	clear(logs)
	// Only a whole batch-sized array is kept. One that grew past a batch while the writer fell
	// behind is left to the collector (two kept at that size would hold their memory for good),
	// and so is the tail of one taken a batch at a time (it would keep the whole array alive for
	// the few rows of room it has left).
	if emptied != nil && cap(emptied) == min(w.batchSize, w.queueSize) {
		w.mu.Lock()
		w.spareLogs = emptied
		w.mu.Unlock()
	}
	if b.Empty() {
		return nil
	}
	// Retried as it is, the batch keeps its id, so a retry after a lost answer to its commit
	// writes nothing twice. The parts of a split batch have none: the database refused the
	// whole, so none of it was written.
	b.ID = db.RandomString(batchIDLength)
	return b
}

// batchIDLength is the length of a batch's random id (base62: about 160 bits).
const batchIDLength = 27

// writeOnce writes the retried batch, or else the next one. It reports whether there was
// anything to write.
func (w *writer) writeOnce(ctx context.Context) (bool, error) {
	b := w.retry
	if b == nil {
		b = w.take()
	}
	if b == nil {
		return false, nil
	}
	rest, err := w.write(ctx, *b)
	if err != nil {
		w.retry = &rest
		w.failing = true
		w.failures++
		w.m.dbWriteErrors.Inc()
		if now := w.now(); w.failures == 1 || now.Sub(w.failLogged) >= failLogEvery {
			w.failLogged = now
			w.log.Error("request log write failed; will retry", "rows", len(rest.Logs), "usage_rows", len(rest.Usage),
				"failed_writes", w.failures, "err", err)
		}
		return true, err
	}
	if w.failures > 0 {
		w.log.Info("request log writes work again", "failed_writes", w.failures)
	}
	w.retry = nil
	w.failing = false
	w.failures = 0
	// Written: the rows' array serves the next batch (cleared, so no text stays referenced).
	if b.Logs != nil {
		clear(b.Logs)
		w.spareRows = b.Logs[:0]
	}
	return true, nil
}

// attempt is one WriteBatch. Each attempt gets its own deadline: a flush at shutdown is tried
// even when the shutdown budget is already spent; ctx only decides whether to keep retrying.
func (w *writer) attempt(ctx context.Context, b db.AccountingBatch) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	return w.store.WriteBatch(wctx, b)
}

// drain writes until nothing is pending, or until a write fails.
func (w *writer) drain(ctx context.Context) error {
	for {
		more, err := w.writeOnce(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// drainFull writes full batches while a full batch of log rows is queued, or until a write
// fails. A wake-up (a batch filled) writes only full batches: the rows that arrive meanwhile
// wait for the next tick instead of going out in a transaction of their own each.
func (w *writer) drainFull(ctx context.Context) error {
	for w.queueLength() >= float64(w.batchSize) {
		if _, err := w.writeOnce(ctx); err != nil {
			return err
		}
	}
	return nil
}

// pendingRows counts the log rows not written yet (queued and in a failed batch).
func (w *writer) pendingRows() int {
	n := int(w.queueLength())
	if w.retry != nil {
		n += len(w.retry.Logs)
	}
	return n
}

func (w *writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	retention := time.NewTicker(time.Hour)
	defer retention.Stop()
	w.deleteOld()
	for {
		select {
		case <-w.wake:
			if !w.failing {
				_ = w.drainFull(context.Background())
			}
		case <-tick.C:
			_ = w.drain(context.Background())
		case <-retention.C:
			w.deleteOld()
		case req := <-w.flush:
			req.reply <- w.drain(req.ctx)
		case req := <-w.stop:
			req.reply <- w.drainUntilDone(req.ctx, tick.C)
			return
		}
	}
}

// drainUntilDone writes everything pending, retrying failed writes every interval, until it is
// all written or ctx ends.
func (w *writer) drainUntilDone(ctx context.Context, tick <-chan time.Time) error {
	for {
		err := w.drain(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-tick:
		case <-ctx.Done():
			n := w.pendingRows()
			w.log.Error("request log rows not written at shutdown", "rows", n, "err", err)
			return fmt.Errorf("%d request log rows and their usage not written: %w", n, errors.Join(err, ctx.Err()))
		}
	}
}

// deleteOld is the retention job: request log rows older than the retention period go, and
// so does whatever else is kept for a period of its own (stored responses).
func (w *writer) deleteOld() {
	w.expireOld(expiry{what: "request log", store: w.store, days: w.retention})
	for _, e := range w.expire {
		w.expireOld(e)
	}
}

func (w *writer) expireOld(e expiry) {
	days := e.days()
	if days <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cutoff := w.now().Add(-time.Duration(days) * 24 * time.Hour)
	n, err := e.store.DeleteBefore(ctx, cutoff)
	if err != nil {
		w.m.dbWriteErrors.Inc()
		w.log.Error(e.what+" retention failed", "err", err)
		return
	}
	if n > 0 {
		w.log.Info(e.what+" retention", "deleted", n, "retention_days", days)
	}
}

// request asks the writer goroutine to drain (flush) or to drain and stop, and waits for the
// answer. The writer is never blocked for longer than one write attempt, so the wait is bounded
// even when ctx is already done.
func (w *writer) request(ctx context.Context, ch chan flushRequest) error {
	req := flushRequest{ctx: ctx, reply: make(chan error, 1)}
	select {
	case ch <- req:
	case <-w.done:
		return errors.New("the request log writer has stopped")
	}
	return <-req.reply
}
