package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/contrib/cputime"
)

// BenchmarkWriteBatch writes batches of 256 request log rows, reporting the cost per row: wall
// clock (ns/row) and the process's CPU time (cpu-ns/row, steadier on a shared machine).
func BenchmarkWriteBatch(b *testing.B) {
	ctx := context.Background()
	bdb := openTestDB(b)
	id := insertTestClient(b, bdb, "bench")
	s := NewRequestLogStore(bdb)
	rows := make([]RequestLog, 256)
	for i := range rows {
		rows[i] = RequestLog{Time: time.Now(), RequestID: fmt.Sprintf("req-%d", i), ClientID: id,
			Endpoint: "/v1/chat/completions", ModelRequested: "gpt-4o-mini", ModelUsed: "gpt-4o-mini-2024-07-18",
			Provider: "openai", Status: 200, InputTokens: 12, OutputTokens: 200, LatencyMS: 3, TTFTMS: 2,
			FinishReason: "stop", ClientIP: "127.0.0.1"}
	}
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		for i := range rows {
			rows[i].ID = 0
		}
		if err := s.WriteBatch(ctx, AccountingBatch{Logs: rows}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
	if cpu := cputime.Self() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(rows)), "cpu-ns/row")
	}
}
