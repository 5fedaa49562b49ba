package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

func TestMCPServerStore(t *testing.T) { eachDB(t, testMCPServerStore) }

// The registry's store on both databases: sealed headers kept byte for byte, unique names, the
// tool cache set and cleared by an edit, and a deleted server gone.
func testMCPServerStore(t *testing.T, d *bun.DB) {
	ctx := context.Background()
	s := NewMCPServers(d)
	sealed := []byte{0, 1, 2, 0xff, 'k'}
	docs := &MCPServer{Name: "docs", URL: "https://mcp.example.com/mcp", Headers: sealed, HeaderNames: Strings{"Authorization"}}
	if err := s.Create(ctx, docs); err != nil || docs.ID == 0 {
		t.Fatalf("create: %v (id %d)", err, docs.ID)
	}
	if err := s.Create(ctx, &MCPServer{Name: "docs", URL: "https://other.example.com/mcp"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("a second server named docs: %v, want ErrNameTaken", err)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tools := []MCPTool{{Name: "search", Description: "find pages", InputSchema: json.RawMessage(`{"type":"object"}`)}}
	if err := s.SetTools(ctx, docs.ID, tools, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, docs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Headers, sealed) || len(got.HeaderNames) != 1 || got.HeaderNames[0] != "Authorization" {
		t.Fatalf("headers %x names %v, want %x [Authorization]", got.Headers, got.HeaderNames, sealed)
	}
	if len(got.Tools) != 1 || got.Tools[0].Name != "search" || string(got.Tools[0].InputSchema) != `{"type":"object"}` || !got.ToolsFetchedAt.Equal(at) {
		t.Fatalf("tools %+v fetched %v", got.Tools, got.ToolsFetchedAt)
	}
	got.URL = "https://mcp.example.com/v2/mcp"
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Get(ctx, docs.ID); again.URL != got.URL || len(again.Tools) != 0 || !again.ToolsFetchedAt.IsZero() {
		t.Fatalf("after an edit: url %q tools %v fetched %v; want the new URL and no cached tools", again.URL, again.Tools, again.ToolsFetchedAt)
	}
	if err := s.Delete(ctx, docs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, docs.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("list after delete: %v %v", list, err)
	}
}
