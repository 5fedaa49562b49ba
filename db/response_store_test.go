package db

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// A stored response is its client's only: another client reads nothing and deletes nothing;
// the retention job deletes what is older than the cutoff; deleting the client deletes its
// responses.
func TestResponsesPerClient(t *testing.T) { eachDB(t, testResponsesPerClient) }

func testResponsesPerClient(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	clients, s := NewClients(d), NewResponses(d)
	a, b := &Client{Name: "a", Backend: "anthropic"}, &Client{Name: "b", Backend: "anthropic"}
	for _, c := range []*Client{a, b} {
		if _, err := clients.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	for _, r := range []*StoredResponse{
		{ID: "resp_1", ClientID: a.ID, Input: "[]", Body: `{"id":"resp_1"}`},
		{ID: "resp_old", ClientID: a.ID, Input: "[]", Body: "{}", CreatedAt: old},
		{ID: "resp_b", ClientID: b.ID, Input: "[]", Body: "{}"},
	} {
		if err := s.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.Get(ctx, a.ID, "resp_1"); err != nil || r == nil || r.Body != `{"id":"resp_1"}` {
		t.Fatalf("own response: %v %v", r, err)
	}
	if r, err := s.Get(ctx, b.ID, "resp_1"); err != nil || r != nil {
		t.Fatalf("another client's response: %v %v", r, err)
	}
	if ok, err := s.Delete(ctx, b.ID, "resp_1"); err != nil || ok {
		t.Fatalf("another client deleted it: %v %v", ok, err)
	}
	if n, err := s.DeleteBefore(ctx, time.Now().Add(-30*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("retention deleted %d: %v", n, err)
	}
	if err := clients.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Get(ctx, a.ID, "resp_1"); r != nil {
		t.Fatal("a deleted client's response is still stored")
	}
	if r, _ := s.Get(ctx, b.ID, "resp_b"); r == nil {
		t.Fatal("another client's response went with it")
	}
}

// A stored turn's text comes from the client and the upstream: JSON whose strings hold invalid
// UTF-8 (which encoding/json lets through) is stored with U+FFFD in its place on every database,
// still valid JSON, instead of being refused by PostgreSQL and the continuation lost.
func TestResponsesStoreOutsideText(t *testing.T) { eachDB(t, testResponsesStoreOutsideText) }

func testResponsesStoreOutsideText(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	c := &Client{Name: "a", Backend: "anthropic"}
	if _, err := NewClients(d).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	s := NewResponses(d)
	in := "[{\"type\":\"message\",\"role\":\"user\",\"content\":\"caf\xe9\"}]"
	if err := s.Add(ctx, &StoredResponse{ID: "resp_x", ClientID: c.ID, Input: in, Body: "{\"text\":\"\xff\"}"}); err != nil {
		t.Fatalf("invalid UTF-8 in a stored turn: %v", err)
	}
	r, err := s.Get(ctx, c.ID, "resp_x")
	if err != nil || r == nil {
		t.Fatalf("read back: %v %v", r, err)
	}
	if r.Input != `[{"type":"message","role":"user","content":"caf�"}]` || r.Body != `{"text":"�"}` {
		t.Errorf("stored input %q, body %q: want the invalid bytes replaced", r.Input, r.Body)
	}
}

// BenchmarkResponsesAdd measures the synchronous insert a stored response costs at the end of
// its answer (a 20 KB Response object, 8 KB of input).
func BenchmarkResponsesAdd(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, b.TempDir()+"/gw.db")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	c := &Client{Name: "a", Backend: "anthropic"}
	if _, err := NewClients(d).Create(ctx, c); err != nil {
		b.Fatal(err)
	}
	s := NewResponses(d)
	body, input := strings.Repeat("x", 20<<10), strings.Repeat("y", 8<<10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Add(ctx, &StoredResponse{ID: "resp_" + strconv.Itoa(i), ClientID: c.ID, Input: input, Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}
