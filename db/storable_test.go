package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/aigateway/ai-gateway/db/pgtest"
)

func TestStorableText(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"gpt-4o", 0, "gpt-4o"},
		{"x\x00y", 0, "x\uFFFDy"},
		{"x\xffy", 0, "x\uFFFDy"},
		{"x\xff\xfe\x00y", 0, "x\uFFFD\uFFFDy"},
		{"ü€😀", 0, "ü€😀"},
		{"abcdef", 3, "abc"},
		{"üüüü", 2, "üü"}, // characters, not bytes: PostgreSQL counts characters
		{"ab\x00cd", 3, "ab\uFFFD"},
		{"üü", 2, "üü"},
		{"", 5, ""},
	}
	for _, tt := range tests {
		got := StorableText(tt.in, tt.width)
		if got != tt.want {
			t.Errorf("StorableText(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 {
			t.Errorf("StorableText(%q, %d) = %q is not storable", tt.in, tt.width, got)
		}
	}
}

// A row's lists are shared with the call that made them: Storable fixes a copy and leaves the
// caller's list as it was, and a list with nothing to fix is not copied at all.
func TestStorableNeverWritesToTheCallersLists(t *testing.T) {
	clean := Attempts{{Provider: "openai", BaseURL: "https://o.example", Status: 200}}
	dirty := Attempts{clean[0], {Provider: "gemini", Error: "x\x00y"}}
	steps := ToolSteps{{Tool: "t", Result: "r\xff"}}
	r := RequestLog{Attempts: clean, ToolSteps: steps}.Storable()
	if &r.Attempts[0] != &clean[0] {
		t.Error("attempts with nothing to fix were copied")
	}
	if r.ToolSteps[0].Result != "r\uFFFD" || steps[0].Result != "r\xff" {
		t.Errorf("tool step result %q, the caller's %q: want the copy fixed and the caller's kept", r.ToolSteps[0].Result, steps[0].Result)
	}
	r = RequestLog{Attempts: dirty}.Storable()
	if r.Attempts[1].Error != "x\uFFFDy" || dirty[1].Error != "x\x00y" || &r.Attempts[0] == &dirty[0] {
		t.Errorf("attempt error %q, the caller's %q: want a copy fixed and the caller's kept", r.Attempts[1].Error, dirty[1].Error)
	}
	if r.Attempts[0].Provider != "openai" || len(r.Attempts) != 2 {
		t.Errorf("attempts %+v: want the unchanged one kept in the copy", r.Attempts)
	}
	models := []string{"a", "b\x00"}
	m := (ModelsCacheUpdate{Models: models}).Storable()
	if m.Models[1] != "b\uFFFD" || models[1] != "b\x00" {
		t.Errorf("models %q, the caller's %q", m.Models, models)
	}
}

// The widths StorableText cuts to are the widths the migrations give the columns.
func TestColumnWidthsMatchTheSchema(t *testing.T) { eachDB(t, testColumnWidthsMatchTheSchema) }

func testColumnWidthsMatchTheSchema(t *testing.T, bdb *bun.DB) {
	want := map[string]int{
		"request_log.request_id": RequestIDWidth, "request_log.endpoint": EndpointWidth,
		"request_log.model_requested": ModelWidth, "request_log.model_used": ModelWidth,
		"request_log.provider": ProviderWidth, "request_log.error_class": ErrorClassWidth,
		"request_log.finish_reason": FinishReasonWidth, "request_log.client_ip": ClientIPWidth,
		"request_log.trace_id": TraceIDWidth,
		"usage_daily.day":      DayWidth, "usage_daily.model": ModelWidth,
	}
	got := map[string]int{}
	if isPostgres(bdb) {
		var cols []struct {
			Table  string `bun:"table_name"`
			Column string `bun:"column_name"`
			Width  int    `bun:"character_maximum_length"`
		}
		err := bdb.NewSelect().Table("information_schema.columns").
			ColumnExpr("table_name::text, column_name::text, character_maximum_length").
			Where("table_schema = current_schema() AND table_name IN ('request_log', 'usage_daily')").
			Where("data_type = 'character varying'").Scan(context.Background(), &cols)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			got[c.Table+"."+c.Column] = c.Width
		}
	}
	varchar := regexp.MustCompile(`(?i)(\w+)\s+VARCHAR\((\d+)\)`)
	for _, table := range []string{"request_log", "usage_daily"} {
		if isPostgres(bdb) {
			break
		}
		var schema string
		if err := bdb.NewRaw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).
			Scan(context.Background(), &schema); err != nil {
			t.Fatal(err)
		}
		for _, m := range varchar.FindAllStringSubmatch(schema, -1) {
			n, _ := strconv.Atoi(m[2])
			got[table+"."+m[1]] = n
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("VARCHAR columns of the schema\n%v\nwidths in storable.go\n%v", got, want)
	}
}

// Rows with NUL, invalid UTF-8 and overlong values in every text field are written once made
// storable, and read back as stored; without it the usage row is rejected, and Rejected says so.
func TestStorableRowsAreWritten(t *testing.T) { eachDB(t, testStorableRowsAreWritten) }

func testStorableRowsAreWritten(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	bad := "x\x00y\xff" + strings.Repeat("m", 300)
	usage := UsageDaily{ClientID: 1, Day: "2026-03-01", Model: bad, Requests: 1}
	err := s.WriteBatch(ctx, AccountingBatch{Usage: []UsageDaily{usage}})
	if err == nil || !Rejected(err) {
		t.Fatalf("usage row with a NUL in its model: err %v, want one that Rejected recognises", err)
	}

	row := RequestLog{Time: time.Now(), RequestID: bad, ClientID: 1, Endpoint: bad, ModelRequested: bad,
		ModelUsed: bad, Provider: bad, Status: 200, ErrorClass: bad, ErrorMessage: bad, FinishReason: bad,
		ClientIP: bad, TraceID: bad, RequestBody: bad, ResponseBody: bad}
	b := AccountingBatch{Logs: []RequestLog{row.Storable()}, Usage: []UsageDaily{usage.Storable()},
		ModelsCache: []ModelsCacheUpdate{(ModelsCacheUpdate{ClientID: 1, Models: []string{"ok", bad}}).Storable()}}
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatalf("storable rows: %v", err)
	}
	var got RequestLog
	if err := bdb.NewSelect().Model(&got).Limit(1).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	want := "x\uFFFDy\uFFFD" + strings.Repeat("m", 200-4)
	if got.ModelRequested != want || got.FinishReason != want[:len("x\uFFFDy\uFFFD")+40-4] {
		t.Errorf("model_requested %q, finish_reason %q: want them cut to their widths", got.ModelRequested, got.FinishReason)
	}
	if got.TraceID != want[:len("x\uFFFDy\uFFFD")+32-4] {
		t.Errorf("trace_id %q: want it cut to its width", got.TraceID)
	}
	if got.ErrorMessage != StorableText(bad, 0) || got.RequestBody != StorableText(bad, 0) {
		t.Errorf("error_message %q: want the whole text with NUL and the invalid byte replaced", got.ErrorMessage)
	}
	u, err := NewUsageStore(bdb).ForDay(ctx, "2026-03-01")
	if err != nil || len(u) != 1 || u[0].Model != want {
		t.Errorf("usage %+v, %v: want one row with model %q", u, err, want)
	}
}

// readOnly returns a handle on bdb's database that may read but not write.
func readOnly(t *testing.T, bdb *bun.DB) *bun.DB {
	t.Helper()
	ctx := context.Background()
	if !isPostgres(bdb) {
		if _, err := bdb.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil { // its one connection
			t.Fatal(err)
		}
		return bdb
	}
	var schema string
	if err := bdb.NewRaw("SELECT current_schema()").Scan(ctx, &schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	ro, err := connectPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return ro
}

type sqlStateError string

func (e sqlStateError) Error() string    { return "pg: " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

func TestRejectedTellsRefusedValuesFromAnUnavailableDatabase(t *testing.T) {
	eachDB(t, testRejectedTellsRefusedValuesFromAnUnavailableDatabase)
}

func testRejectedTellsRefusedValuesFromAnUnavailableDatabase(t *testing.T, bdb *bun.DB) {
	ctx := context.Background()
	s := NewRequestLogStore(bdb)
	nul := AccountingBatch{Usage: []UsageDaily{{ClientID: 1, Day: "2026-03-01", Model: "x\x00y", Requests: 1}}}
	if err := s.WriteBatch(ctx, nul); !Rejected(err) {
		t.Errorf("NUL in a usage model: Rejected(%v) = false", err)
	}
	s = NewRequestLogStore(readOnly(t, bdb))
	ok := AccountingBatch{Usage: []UsageDaily{{ClientID: 1, Day: "2026-03-01", Model: "m", Requests: 1}}}
	if err := s.WriteBatch(ctx, ok); err == nil || Rejected(err) {
		t.Errorf("read-only database: Rejected(%v) = true, want a failure of the database", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.WriteBatch(canceled, ok); err == nil || Rejected(err) {
		t.Errorf("canceled write: Rejected(%v) = true", err)
	}
	for code, want := range map[string]bool{"22021": true, "22001": true, "23505": true, "54000": true,
		"42601": true, "08006": false, "53100": false, "57P01": false, "40001": false, "25006": false} {
		if got := Rejected(fmt.Errorf("insert: %w", sqlStateError(code))); got != want {
			t.Errorf("PostgreSQL SQLSTATE %s: Rejected = %v, want %v", code, got, want)
		}
	}
	if Rejected(errors.New("disk I/O error")) || Rejected(nil) {
		t.Error("an error that names no refused value counts as rejected")
	}
}
