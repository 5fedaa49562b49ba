package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/uptrace/bun"
)

// RequestLogStore writes the request log (and, in the same transaction, the usage rollups) for
// the gateway's background writer, and reads it back for the admin request history.
type RequestLogStore struct {
	db *bun.DB
	// mu guards values, the bound values of one SQLite insert, and times, the text of its rows'
	// times; both are kept from one statement and batch to the next.
	mu     sync.Mutex
	values []driver.NamedValue
	times  []byte
}

// NewRequestLogStore returns the request_log store over db.
func NewRequestLogStore(db *bun.DB) *RequestLogStore { return &RequestLogStore{db: db} }

// ModelsCacheUpdate replaces one client's cached backend model list.
type ModelsCacheUpdate struct {
	ClientID  int64
	Models    []string
	FetchedAt time.Time
}

// AccountingBatch is everything the background writer has gathered since its last write.
type AccountingBatch struct {
	// ID, when set, makes WriteBatch write the batch at most once: a batch whose ID was written
	// before is skipped. The writer gives each batch an ID, so that retrying a batch whose commit
	// reached the database but whose answer was lost counts nothing twice.
	ID   string
	Logs []RequestLog
	// Usage holds deltas: each row's counters are added to the stored row.
	Usage []UsageDaily
	// LastUsed is the time of each client's latest request (only moved forward).
	LastUsed map[int64]time.Time
	// ModelsCache holds model lists fetched from backends, to store in client.models_cache.
	ModelsCache []ModelsCacheUpdate
}

// Empty reports whether the batch holds nothing to write.
func (b *AccountingBatch) Empty() bool {
	return len(b.Logs) == 0 && len(b.Usage) == 0 && len(b.LastUsed) == 0 && len(b.ModelsCache) == 0
}

// WriteBatch writes b in one transaction: either all of it is stored or none of it, so the
// caller may retry the same batch after an error without counting anything twice.
func (s *RequestLogStore) WriteBatch(ctx context.Context, b AccountingBatch) error {
	if b.Empty() {
		return nil
	}
	// The transaction runs on a connection of its own, so that the request log insert can reach
	// the driver under it (insertLogsSQLite).
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write batch: %w", err)
	}
	defer conn.Close()
	return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if b.ID != "" {
			first, err := markWritten(ctx, tx, b.ID, time.Now().UTC())
			if err != nil || !first {
				return err
			}
		}
		if err := s.insertLogs(ctx, conn, tx, b.Logs); err != nil {
			return err
		}
		if err := addUsage(ctx, tx, b.Usage); err != nil {
			return err
		}
		ids := make([]int64, 0, len(b.LastUsed))
		for id := range b.LastUsed {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			t := b.LastUsed[id].UTC()
			_, err := tx.NewUpdate().Table("client").Set("last_used_at = ?", t).
				Where("id = ?", id).Where("(last_used_at IS NULL OR last_used_at < ?)", t).Exec(ctx)
			if err != nil {
				return fmt.Errorf("update client last use: %w", err)
			}
		}
		for _, m := range b.ModelsCache {
			_, err := tx.NewUpdate().Table("client").
				Set("models_cache = ?", Strings(m.Models)).
				Set("models_fetched_at = ?", m.FetchedAt.UTC()).
				Where("id = ?", m.ClientID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("update client model cache: %w", err)
			}
		}
		return nil
	})
}

// writtenBatchDays is how long a written batch's id is kept: longer than any retry of it lasts.
const writtenBatchDays = 7

// markWritten records batch id as written at now, and reports whether it is new: false when the
// batch was written before. It forgets the ids older than writtenBatchDays.
func markWritten(ctx context.Context, tx bun.Tx, id string, now time.Time) (first bool, err error) {
	res, err := tx.NewInsert().Model(&WrittenBatch{ID: id, WrittenAt: now}).On("CONFLICT (id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark batch written: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = tx.NewDelete().Model((*WrittenBatch)(nil)).
		Where("written_at < ?", now.Add(-writtenBatchDays*24*time.Hour)).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("forget old batches: %w", err)
	}
	return true, nil
}

// Rows are inserted logRowsPerInsert to a statement (the rest of a batch in one more): SQLite
// runs one statement's setup, and database/sql one call's, for all of them. 32 rows of
// logColumns values stay far below SQLite's limit on bound parameters (32766).
const (
	logRowsPerInsert = 32
	logColumns       = 29
)

// insertLogsSQL inserts n request_log rows. bun would spell every value into the statement's text
// and read the new ids back, which costs several times as much per row.
func insertLogsSQL(n int) string {
	row := "(" + strings.Repeat("?, ", logColumns-1) + "?)"
	return insertLogColumns + strings.Repeat(row+", ", n-1) + row
}

// fullLogInsert is insertLogsSQL(logRowsPerInsert), the statement of most rows, made once.
var fullLogInsert = insertLogsSQL(logRowsPerInsert)

const insertLogColumns = `INSERT INTO request_log (id, time, request_id, client_id, endpoint, model_requested,
	model_used, provider, stream, status, error_class, error_message, refused, input_tokens, output_tokens,
	cached_tokens, reasoning_tokens, estimated, latency_ms, ttft_ms, finish_reason, client_ip, trace_id,
	request_body, response_body, attempts, cache_write_tokens, cost_micros, tool_steps) VALUES `

// postgresLogChunk is how many rows one INSERT writes to PostgreSQL.
const postgresLogChunk = 500

// timeLayout is how bun writes a time (always in UTC), so that rows written here compare and
// scan like every other time column.
const timeLayout = "2006-01-02 15:04:05.999999-07:00"

func (s *RequestLogStore) insertLogs(ctx context.Context, conn bun.Conn, tx bun.Tx, rows []RequestLog) error {
	if len(rows) == 0 {
		return nil
	}
	if isPostgres(tx) {
		return insertLogsPostgres(ctx, tx, rows)
	}
	return s.insertLogsSQLite(ctx, conn, rows)
}

// insertLogsSQLite writes rows with prepared statements run on the driver itself, inside the
// transaction open on conn. bun's ExecContext would spell every value into the statement's text;
// database/sql's would convert the values into a new array of driver values for each statement
// (1.2 KB of garbage a row, the request log's largest cost); here one array is reused.
func (s *RequestLogStore) insertLogsSQLite(ctx context.Context, conn bun.Conn, rows []RequestLog) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { clear(s.values) }() // hold no row's strings between batches
	return conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("insert request log: the driver's %T cannot prepare a statement with a context", dc)
		}
		var stmt driver.StmtExecContext
		prepared := 0
		for len(rows) > 0 {
			n := min(len(rows), logRowsPerInsert)
			if n != prepared { // the first statement, and one for a shorter rest
				query := fullLogInsert
				if n != logRowsPerInsert {
					query = insertLogsSQL(n)
				}
				st, err := prep.PrepareContext(ctx, query)
				if err != nil {
					return fmt.Errorf("insert request log: %w", err)
				}
				defer st.Close()
				if stmt, ok = st.(driver.StmtExecContext); !ok {
					return fmt.Errorf("insert request log: the driver's %T cannot run a statement with a context", st)
				}
				prepared = n
			}
			var err error
			if s.values, s.times, err = appendLogValues(s.values[:0], s.times[:0], rows[:n]); err != nil {
				return fmt.Errorf("insert request log: %w", err)
			}
			if _, err := stmt.ExecContext(ctx, s.values); err != nil {
				return fmt.Errorf("insert request log: %w", err)
			}
			rows = rows[n:]
		}
		return nil
	})
}

// appendLogValues appends the values of rows in insertLogsSQL's column order, each of a type
// driver.Value allows, numbered from 1. Each row's time is written into times, and its value is
// a string over those bytes: the driver copies what it binds, and times is not written again
// before the statement has run.
func appendLogValues(values []driver.NamedValue, times []byte, rows []RequestLog) ([]driver.NamedValue, []byte, error) {
	for i := range rows {
		r := &rows[i]
		var id, cost driver.Value // NULL: SQLite picks the next id; no price
		if r.ID != 0 {
			id = r.ID
		}
		if r.CostMicros != nil {
			cost = *r.CostMicros
		}
		attempts, err := r.Attempts.Value()
		if err != nil {
			return values, times, fmt.Errorf("attempts: %w", err)
		}
		steps, err := r.ToolSteps.Value()
		if err != nil {
			return values, times, fmt.Errorf("tool steps: %w", err)
		}
		start := len(times)
		times = r.Time.UTC().AppendFormat(times, timeLayout)
		t := unsafe.String(unsafe.SliceData(times[start:]), len(times)-start)
		for _, v := range [logColumns]driver.Value{id, t, r.RequestID, r.ClientID,
			r.Endpoint, r.ModelRequested, r.ModelUsed, r.Provider, r.Stream, int64(r.Status), r.ErrorClass,
			r.ErrorMessage, r.Refused, r.InputTokens, r.OutputTokens, r.CachedTokens, r.ReasoningTokens, r.Estimated,
			r.LatencyMS, r.TTFTMS, r.FinishReason, r.ClientIP, r.TraceID, r.RequestBody, r.ResponseBody, attempts,
			r.CacheWriteTokens, cost, steps} {
			values = append(values, driver.NamedValue{Ordinal: len(values) + 1, Value: v})
		}
	}
	return values, times, nil
}

// insertLogsPostgres writes rows to PostgreSQL in multi-row INSERTs: a statement per row would
// cost a round trip to the server each, several times what the whole INSERT costs. The new ids
// are not read back (a zero id is the column's default, the next one).
func insertLogsPostgres(ctx context.Context, tx bun.Tx, rows []RequestLog) error {
	for start := 0; start < len(rows); start += postgresLogChunk {
		part := rows[start:min(start+postgresLogChunk, len(rows))]
		if _, err := tx.NewInsert().Model(&part).Returning("NULL").Exec(ctx); err != nil {
			return fmt.Errorf("insert request log: %w", err)
		}
	}
	return nil
}

// TrafficMinute is one minute of the request log's traffic (the dashboard's charts after a
// restart).
type TrafficMinute struct {
	Minute                                      time.Time
	Requests, Errors, InputTokens, OutputTokens int64
}

// TrafficSince sums the request log per minute from since on, oldest first. Errors are rows
// with a status of 400 or more, as the live stats count them. Rows of unknown keys (client 0)
// belong to no client and are not counted, as the live stats do not count them.
func (s *RequestLogStore) TrafficSince(ctx context.Context, since time.Time) ([]TrafficMinute, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+minuteOf(s.db)+`, count(*), sum(CASE WHEN status >= 400 THEN 1 ELSE 0 END),
		sum(input_tokens), sum(output_tokens) FROM request_log WHERE time >= ? AND client_id != 0 GROUP BY 1 ORDER BY 1`,
		since.UTC().Format(timeLayout))
	if err != nil {
		return nil, fmt.Errorf("request log traffic: %w", err)
	}
	defer rows.Close()
	var out []TrafficMinute
	for rows.Next() {
		var m TrafficMinute
		var minute string
		if err := rows.Scan(&minute, &m.Requests, &m.Errors, &m.InputTokens, &m.OutputTokens); err != nil {
			return nil, fmt.Errorf("request log traffic: %w", err)
		}
		t, ok := parseMinute(minute)
		if !ok {
			continue // not a time this store wrote
		}
		m.Minute = t
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request log traffic: %w", err)
	}
	return out, nil
}

// minuteOf is the SQL of a request_log row's minute as text, "YYYY-MM-DD HH:MM" in UTC. SQLite
// stores times as text in one UTC layout, whose first 16 characters are the minute; PostgreSQL
// stores them as TIMESTAMP in UTC.
func minuteOf(db bun.IDB) string {
	if isPostgres(db) {
		return "to_char(time, 'YYYY-MM-DD HH24:MI')"
	}
	return "substr(time, 1, 16)"
}

// parseMinute reads a minute as minuteOf spells it.
func parseMinute(minute string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02 15:04", minute)
	return t, err == nil
}

// ClientMinute is how many of one client's requests in one minute were forwarded upstream.
type ClientMinute struct {
	ClientID int64
	Minute   time.Time
	Requests int64
}

// ForwardedSince counts each client's forwarded (not refused) requests per minute from since on,
// oldest first, for the clients given: what the rate-limit windows held before a restart.
func (s *RequestLogStore) ForwardedSince(ctx context.Context, since time.Time, clientIDs []int64) ([]ClientMinute, error) {
	if len(clientIDs) == 0 {
		return nil, nil
	}
	var out []ClientMinute
	q := s.db.NewSelect().TableExpr("request_log").
		ColumnExpr("client_id, "+minuteOf(s.db)+" AS minute, count(*) AS n").
		Where("time >= ?", since.UTC().Format(timeLayout)).
		Where("client_id IN (?)", bun.In(clientIDs)).
		Where("NOT refused").
		GroupExpr("1, 2").OrderExpr("2, 1")
	rows, err := q.Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("request log rate windows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m ClientMinute
		var minute string
		if err := rows.Scan(&m.ClientID, &minute, &m.Requests); err != nil {
			return nil, fmt.Errorf("request log rate windows: %w", err)
		}
		t, ok := parseMinute(minute)
		if !ok {
			continue // not a time this store wrote
		}
		m.Minute = t
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("request log rate windows: %w", err)
	}
	return out, nil
}

// RequestLogFilter selects request log rows for the admin history. Zero fields select everything.
type RequestLogFilter struct {
	ClientID int64
	// Model is found anywhere in the requested or the used model ("4o" finds "gpt-4o-mini"),
	// ignoring case.
	Model string
	// Status matches one exact status; StatusClass one class (4 = 400–499).
	Status      int
	StatusClass int
	// From and To bound the time: From ≤ time < To.
	From, To time.Time
	// Before is the id cursor: only rows with a smaller id (the next page, newest first). After
	// keeps only rows with a larger id (rows newer than those shown).
	Before, After int64
	// Limit is the page size: 50 when 0, at most 1000 (callers cap their own pages lower and may
	// ask for one row more to learn whether there is a next page).
	Limit int
}

// likeEscaper makes text match itself in a LIKE pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// where adds the filter's conditions (all but the page size) to q. SQLite's LIKE ignores ASCII
// case; PostgreSQL's ILIKE ignores case.
func (f RequestLogFilter) where(q *bun.SelectQuery) *bun.SelectQuery {
	if f.ClientID != 0 {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.Model != "" {
		pattern := "%" + likeEscaper.Replace(f.Model) + "%"
		like := "LIKE"
		if isPostgres(q.DB()) {
			like = "ILIKE"
		}
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where(`model_requested `+like+` ? ESCAPE '\'`, pattern).WhereOr(`model_used `+like+` ? ESCAPE '\'`, pattern)
		})
	}
	if f.Status != 0 {
		q = q.Where("status = ?", f.Status)
	}
	if f.StatusClass != 0 {
		q = q.Where("status >= ?", f.StatusClass*100).Where("status < ?", (f.StatusClass+1)*100)
	}
	if !f.From.IsZero() {
		q = q.Where("time >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("time < ?", f.To.UTC())
	}
	if f.Before != 0 {
		q = q.Where("id < ?", f.Before)
	}
	if f.After != 0 {
		q = q.Where("id > ?", f.After)
	}
	return q
}

// List returns the rows f selects, newest first, without their bodies.
func (s *RequestLogStore) List(ctx context.Context, f RequestLogFilter) ([]RequestLog, error) {
	limit := int64(f.Limit)
	switch {
	case limit <= 0:
		limit = 50
	case limit > 1000:
		limit = 1000
	}
	var rows []RequestLog
	q := f.where(s.db.NewSelect().Model(&rows).ExcludeColumn("request_body", "response_body"))
	if err := q.OrderExpr("id DESC").Limit(limit).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list request log: %w", err)
	}
	return rows, nil
}

// Count returns how many rows f selects (its cursors and page size left out: every page).
func (s *RequestLogStore) Count(ctx context.Context, f RequestLogFilter) (int64, error) {
	f.Before, f.After = 0, 0
	n, err := f.where(s.db.NewSelect().TableExpr("request_log")).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count request log: %w", err)
	}
	return int64(n), nil
}

// Newest returns the id of the newest row, 0 when there is none.
func (s *RequestLogStore) Newest(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := s.db.NewSelect().TableExpr("request_log").ColumnExpr("max(id)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("newest request log id: %w", err)
	}
	return id.Int64, nil
}

// Get returns one row with its bodies, or an error wrapping ErrNotFound.
func (s *RequestLogStore) Get(ctx context.Context, id int64) (*RequestLog, error) {
	var row RequestLog
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("request log %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get request log %d: %w", id, err)
	}
	return &row, nil
}

// DeleteBefore deletes the rows older than t (the retention job) and returns how many it deleted.
// It deletes in chunks so that a large backlog never holds the write lock for long.
func (s *RequestLogStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	const chunk = 5000
	var total int64
	for {
		sub := s.db.NewSelect().Table("request_log").Column("id").
			Where("time < ?", t.UTC()).OrderExpr("id").Limit(chunk)
		res, err := s.db.NewDelete().Table("request_log").Where("id IN (?)", sub).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("delete old request log: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("delete old request log: %w", err)
		}
		total += n
		if n < chunk {
			return total, nil
		}
	}
}
