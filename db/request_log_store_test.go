package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

func openTestDB(t testing.TB) *bun.DB {
	t.Helper()
	bdb, err := Open(context.Background(), filepath.Join(t.TempDir(), "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bdb.Close() })
	return bdb
}

func insertTestClient(t testing.TB, bdb *bun.DB, name string) int64 {
	t.Helper()
	now := time.Now().UTC()
	c := &Client{Name: name, Active: true, KeyHash: HashKey(name), KeyPrefix: "gm_", KeyHint: "abcd",
		Backend: "openai", ToolMode: "passthrough", CreatedAt: now, UpdatedAt: now}
	if _, err := bdb.NewInsert().Model(c).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestWriteBatchStoresLogsUsageLastUseAndModelCache(t *testing.T) {
	eachDB(t, testWriteBatchStoresLogsUsageLastUseAndModelCache)
}

func testWriteBatchStoresLogsUsageLastUseAndModelCache(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	id := insertTestClient(t, bdb, "app")
	s := NewRequestLogStore(bdb)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	batch := AccountingBatch{
		Logs: []RequestLog{
			{Time: t0, RequestID: "r1", ClientID: id, Endpoint: "chat", ModelUsed: "m", Status: 200, InputTokens: 10, OutputTokens: 5},
			{Time: t0.Add(time.Second), RequestID: "r2", ClientID: id, Endpoint: "chat", ModelUsed: "m", Status: 502, ErrorClass: "unavailable"},
		},
		Usage: []UsageDaily{
			{ClientID: id, Day: "2026-03-01", Model: "m", Requests: 1, InputTokens: 10, OutputTokens: 5},
			{ClientID: id, Day: "2026-03-01", Model: "m", Requests: 1, Errors: 1}, // same key twice in one batch
		},
		LastUsed:    map[int64]time.Time{id: t0.Add(time.Second)},
		ModelsCache: []ModelsCacheUpdate{{ClientID: id, Models: []string{"a", "b"}, FetchedAt: t0}},
	}
	if err := s.WriteBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// The same deltas again add up instead of replacing.
	if err := s.WriteBatch(ctx, AccountingBatch{Usage: batch.Usage}); err != nil {
		t.Fatal(err)
	}

	rows, err := NewUsageStore(bdb).ForDay(ctx, "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	want := []UsageDaily{{ClientID: id, Day: "2026-03-01", Model: "m", Requests: 4, Errors: 2, InputTokens: 20, OutputTokens: 10}}
	if !slices.Equal(rows, want) {
		t.Fatalf("usage = %+v, want %+v", rows, want)
	}
	logs, err := s.List(ctx, RequestLogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[0].RequestID != "r2" || logs[1].RequestID != "r1" {
		t.Fatalf("logs = %+v, want r2 then r1", logs)
	}
	var c Client
	if err := bdb.NewSelect().Model(&c).Where("id = ?", id).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.LastUsedAt.Equal(t0.Add(time.Second)) || !slices.Equal(c.ModelsCache, Strings{"a", "b"}) || !c.ModelsFetchedAt.Equal(t0) {
		t.Fatalf("client = last used %v, cache %v fetched %v", c.LastUsedAt, c.ModelsCache, c.ModelsFetchedAt)
	}
	// last_used_at never moves backwards (batches can be retried out of order).
	if err := s.WriteBatch(ctx, AccountingBatch{LastUsed: map[int64]time.Time{id: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := bdb.NewSelect().Model(&c).Where("id = ?", id).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.LastUsedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("last used moved back to %v", c.LastUsedAt)
	}
}

func TestWriteBatchIsAllOrNothing(t *testing.T) { eachDB(t, testWriteBatchIsAllOrNothing) }

func testWriteBatchIsAllOrNothing(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	// Two rows with the same primary key: the insert fails after the usage would have been added.
	batch := AccountingBatch{
		Logs:  []RequestLog{{ID: 7, Time: time.Now(), RequestID: "a"}, {ID: 7, Time: time.Now(), RequestID: "b"}},
		Usage: []UsageDaily{{ClientID: 1, Day: "2026-03-01", Model: "m", Requests: 1}},
	}
	if err := s.WriteBatch(ctx, batch); !Rejected(err) {
		t.Fatalf("duplicate ids: err %v, want one that Rejected recognises", err)
	}
	n, err := bdb.NewSelect().Table("request_log").Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("request_log rows after failed batch = %d, %v; want 0", n, err)
	}
	rows, err := NewUsageStore(bdb).ForDay(ctx, "2026-03-01")
	if err != nil || len(rows) != 0 {
		t.Fatalf("usage after failed batch = %+v, %v; want none", rows, err)
	}
}

func TestListFilters(t *testing.T) { eachDB(t, testListFilters) }

func testListFilters(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var logs []RequestLog
	for i := range 20 {
		status := 200
		switch i % 4 {
		case 1:
			status = 429
		case 2:
			status = 502
		}
		logs = append(logs, RequestLog{
			Time: t0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("r%02d", i),
			ClientID: int64(1 + i%2), ModelRequested: []string{"", "alias"}[i%2], ModelUsed: []string{"gpt", "claude"}[i%3%2],
			Status: status, RequestBody: "secret body",
		})
	}
	if err := s.WriteBatch(ctx, AccountingBatch{Logs: logs}); err != nil {
		t.Fatal(err)
	}
	ids := func(rows []RequestLog) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.RequestID)
		}
		return out
	}
	tests := []struct {
		name string
		f    RequestLogFilter
		want []string
	}{
		{"page of 3 newest first", RequestLogFilter{Limit: 3}, []string{"r19", "r18", "r17"}},
		{"next page by cursor (id of r17 is 18)", RequestLogFilter{Limit: 3, Before: 18}, []string{"r16", "r15", "r14"}},
		{"client", RequestLogFilter{ClientID: 2, Limit: 3}, []string{"r19", "r17", "r15"}},
		{"exact status", RequestLogFilter{Status: 429}, []string{"r17", "r13", "r09", "r05", "r01"}},
		{"status class 5xx", RequestLogFilter{StatusClass: 5}, []string{"r18", "r14", "r10", "r06", "r02"}},
		{"time range [2m,5m)", RequestLogFilter{From: t0.Add(2 * time.Minute), To: t0.Add(5 * time.Minute)}, []string{"r04", "r03", "r02"}},
		{"model used or requested", RequestLogFilter{Model: "alias", To: t0.Add(6 * time.Minute)}, []string{"r05", "r03", "r01"}},
		{"combined", RequestLogFilter{ClientID: 1, StatusClass: 2, Model: "claude"}, []string{"r16", "r04"}},
		{"part of a model, any case", RequestLogFilter{Model: "LIA", To: t0.Add(6 * time.Minute)}, []string{"r05", "r03", "r01"}},
		{"LIKE wildcards are text", RequestLogFilter{Model: "%"}, nil},
		{"newer than a row", RequestLogFilter{After: 18}, []string{"r19", "r18"}},
		{"nothing", RequestLogFilter{ClientID: 99}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rows); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for _, r := range rows {
				if r.RequestBody != "" {
					t.Fatal("List must not load bodies")
				}
			}
		})
	}

	if n, err := s.Count(ctx, RequestLogFilter{StatusClass: 5, Before: 3, Limit: 1}); n != 5 || err != nil {
		t.Fatalf("Count(5xx) = %d, %v; want 5 (every page)", n, err)
	}
	if n, err := s.Newest(ctx); n != 20 || err != nil {
		t.Fatalf("Newest() = %d, %v", n, err)
	}

	row, err := s.Get(ctx, 1)
	if err != nil || row.RequestID != "r00" || row.RequestBody != "secret body" {
		t.Fatalf("Get(1) = %+v, %v", row, err)
	}
	if _, err := s.Get(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(999) error = %v, want ErrNotFound", err)
	}
}

func TestDeleteBefore(t *testing.T) { eachDB(t, testDeleteBefore) }

func testDeleteBefore(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var logs []RequestLog
	for i := range 12001 { // more than two delete chunks
		logs = append(logs, RequestLog{Time: t0.Add(time.Duration(i) * time.Second), RequestID: "r"})
	}
	if err := s.WriteBatch(ctx, AccountingBatch{Logs: logs}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteBefore(ctx, t0.Add(11000*time.Second))
	if err != nil || n != 11000 {
		t.Fatalf("DeleteBefore = %d, %v; want 11000", n, err)
	}
	left, err := bdb.NewSelect().Table("request_log").Count(ctx)
	if err != nil || left != 1001 {
		t.Fatalf("left = %d, %v; want 1001", left, err)
	}
	var oldest RequestLog
	if err := bdb.NewSelect().Model(&oldest).OrderExpr("time").Limit(1).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if !oldest.Time.Equal(t0.Add(11000 * time.Second)) {
		t.Fatalf("oldest kept row at %v", oldest.Time)
	}
}

// A caller paging 500 rows at a time asks for 501 to learn whether there is a next page: the
// store must not cut that probe row.
func TestRequestLogListAllowsTheNextPageProbe(t *testing.T) {
	ctx := context.Background()
	bdb, err := Open(ctx, filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	store := NewRequestLogStore(bdb)
	logs := make([]RequestLog, 600)
	for i := range logs {
		logs[i] = RequestLog{Time: time.Unix(int64(i), 0).UTC(), RequestID: "r", ClientID: 1, Endpoint: "/v1/chat/completions", Status: 200}
	}
	if err := store.WriteBatch(ctx, AccountingBatch{Logs: logs}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ limit, want int }{{501, 501}, {0, 50}, {5000, 600}} {
		rows, err := store.List(ctx, RequestLogFilter{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != tt.want {
			t.Errorf("Limit %d: %d rows, want %d", tt.limit, len(rows), tt.want)
		}
	}
}

// TestWriteBatchRoundTripsEveryColumn reads back each field the writer's prepared insert binds.
func TestWriteBatchRoundTripsEveryColumn(t *testing.T) {
	eachDB(t, testWriteBatchRoundTripsEveryColumn)
}

func testWriteBatchRoundTripsEveryColumn(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	want := RequestLog{
		Time: time.Date(2026, 3, 1, 10, 11, 12, 345678000, time.FixedZone("CET", 3600)), RequestID: "req-1",
		ClientID: 42, Endpoint: "/v1/chat/completions", ModelRequested: "gpt-4o", ModelUsed: "gpt-4o-2024-08-06",
		Provider: "openai", Stream: true, Status: 502, ErrorClass: "upstream", ErrorMessage: "it's \"down\"" + nul(bdb) + "!",
		InputTokens: 1, OutputTokens: 2, CachedTokens: 3, ReasoningTokens: 4, Estimated: true, LatencyMS: 5,
		TTFTMS: 6, FinishReason: "length", ClientIP: "::1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		RequestBody: `{"a":"ü"}`, ResponseBody: "{}", Refused: true, CacheWriteTokens: 7, CostMicros: new(int64(1234)),
		Attempts: Attempts{{Provider: "anthropic", BaseURL: "https://a.example", Status: 529, LatencyMS: 8, Error: "overloaded"},
			{Provider: "openai", BaseURL: "https://o.example", Status: 502, LatencyMS: 9, OmittedTools: []string{"web_search"}}},
		ToolSteps: ToolSteps{{Tool: "docs.search", DurationMS: 10, Status: "ok", ResultBytes: 11, Arguments: `{"q":"x"}`, Result: "r"}},
	}
	if err := s.WriteBatch(ctx, AccountingBatch{Logs: []RequestLog{want}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, RequestLogFilter{ClientID: 42, From: want.Time.Add(-time.Millisecond), To: want.Time.Add(time.Millisecond)})
	if err != nil || len(list) != 1 {
		t.Fatalf("List found %d rows, %v; want the one written", len(list), err)
	}
	got, err := s.Get(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("time read back as %v, want %v", got.Time, want.Time)
	}
	want.ID, want.Time = got.ID, got.Time
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", *got, want)
	}
}

// A batch longer than one statement's rows is written whole, each row with its own values, and a
// row without a price stores none.
func TestWriteBatchSpansStatements(t *testing.T) { eachDB(t, testWriteBatchSpansStatements) }

func testWriteBatchSpansStatements(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	const n = 2*logRowsPerInsert + 5 // two full statements and a shorter rest
	rows := make([]RequestLog, n)
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = RequestLog{Time: base.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("req-%d", i), ClientID: 3,
			InputTokens: int64(1000 + i), Status: 200 + i%3}
		if i%2 == 0 {
			rows[i].CostMicros = new(int64(i))
		}
	}
	for range 2 { // the second batch runs on the same connection as the first
		if err := s.WriteBatch(ctx, AccountingBatch{Logs: rows}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List(ctx, RequestLogFilter{ClientID: 3, Limit: 3 * n})
	if err != nil || len(list) != 2*n {
		t.Fatalf("List found %d rows, %v; want %d", len(list), err, 2*n)
	}
	seen := map[string]int{}
	for _, r := range list {
		var i int
		if _, err := fmt.Sscanf(r.RequestID, "req-%d", &i); err != nil {
			t.Fatalf("request id %q", r.RequestID)
		}
		seen[r.RequestID]++
		if !r.Time.Equal(base.Add(time.Duration(i)*time.Second)) || r.InputTokens != int64(1000+i) || r.Status != 200+i%3 || (r.CostMicros == nil) != (i%2 == 1) ||
			(r.CostMicros != nil && *r.CostMicros != int64(i)) {
			t.Errorf("row %s read back as time %v, input %d, status %d, cost %v", r.RequestID, r.Time, r.InputTokens, r.Status, r.CostMicros)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct rows, want %d", len(seen), n)
	}
}

func TestTrafficSinceSumsPerMinute(t *testing.T) { eachDB(t, testTrafficSinceSumsPerMinute) }

func testTrafficSinceSumsPerMinute(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	logs := []RequestLog{
		{ClientID: 1, Time: t0.Add(-2 * time.Minute), Status: 200, InputTokens: 1000}, // before since: left out
		{ClientID: 1, Time: t0.Add(5 * time.Second), Status: 200, InputTokens: 10, OutputTokens: 1},
		{ClientID: 2, Time: t0.Add(59*time.Second + 999*time.Millisecond), Status: 429, InputTokens: 20, Refused: true},
		{ClientID: 1, Time: t0.Add(61 * time.Second).In(time.FixedZone("CET", 3600)), Status: 499, OutputTokens: 7},
		{ClientID: 0, Time: t0.Add(62 * time.Second), Status: 401, Refused: true}, // an unknown key: no client's traffic
		{ClientID: 2, Time: t0.Add(3 * time.Minute), Status: 502},
	}
	if err := s.WriteBatch(ctx, AccountingBatch{Logs: logs}); err != nil {
		t.Fatal(err)
	}
	got, err := s.TrafficSince(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []TrafficMinute{
		{Minute: t0, Requests: 2, Errors: 1, InputTokens: 30, OutputTokens: 1},
		{Minute: t0.Add(time.Minute), Requests: 1, Errors: 1, OutputTokens: 7},
		{Minute: t0.Add(3 * time.Minute), Requests: 1, Errors: 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("traffic\n%+v\nwant\n%+v", got, want)
	}
	// The rate-limit windows: forwarded requests only, per client and minute, of the clients asked.
	fwd, err := s.ForwardedSince(ctx, t0, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	wantFwd := []ClientMinute{{ClientID: 1, Minute: t0, Requests: 1}, {ClientID: 1, Minute: t0.Add(time.Minute), Requests: 1},
		{ClientID: 2, Minute: t0.Add(3 * time.Minute), Requests: 1}}
	if !slices.Equal(fwd, wantFwd) {
		t.Fatalf("forwarded\n%+v\nwant\n%+v", fwd, wantFwd)
	}
}

// nul is a NUL character where the database stores one in text (SQLite), else nothing: PostgreSQL
// text cannot hold it (rows from outside are made storable before they are written).
func nul(d *bun.DB) string {
	if isPostgres(d) {
		return ""
	}
	return "\x00"
}

// A batch written again under the same ID (a retry after the answer to its commit was lost) is
// not counted twice; a batch with another ID, or none, is.
func TestWriteBatchWritesAnIDOnce(t *testing.T) { eachDB(t, testWriteBatchWritesAnIDOnce) }

func testWriteBatchWritesAnIDOnce(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	batch := func(id string) AccountingBatch {
		return AccountingBatch{ID: id, Logs: []RequestLog{{Time: time.Now(), RequestID: "r", ClientID: 1, Status: 200}},
			Usage: []UsageDaily{{ClientID: 1, Day: "2026-03-01", Model: "m", Requests: 1, InputTokens: 5}}}
	}
	for _, id := range []string{"batch-a", "batch-a", "batch-b", "", ""} {
		if err := s.WriteBatch(ctx, batch(id)); err != nil {
			t.Fatal(err)
		}
	}
	u, err := NewUsageStore(bdb).ForDay(ctx, "2026-03-01")
	if err != nil || len(u) != 1 || u[0].Requests != 4 || u[0].InputTokens != 20 {
		t.Fatalf("usage %+v, %v: want 4 requests (batch-a once, batch-b, two without an id)", u, err)
	}
	if n, err := s.Count(ctx, RequestLogFilter{}); n != 4 || err != nil {
		t.Fatalf("%d log rows, %v: want 4", n, err)
	}
}
