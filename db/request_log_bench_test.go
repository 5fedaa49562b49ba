package db

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkWriteBatch writes batches of 256 request log rows (the writer's batch), reporting
// the cost per row.
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
	b.ResetTimer()
	for b.Loop() {
		for i := range rows {
			rows[i].ID = 0
		}
		if err := s.WriteBatch(ctx, AccountingBatch{Logs: rows}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}
