package mcpservers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aigateway/ai-gateway/db"
)

// memStore is a Store of fixed servers.
type memStore struct{ servers []db.MCPServer }

func (m *memStore) List(context.Context) ([]db.MCPServer, error) { return m.servers, nil }
func (m *memStore) SetTools(context.Context, int64, []db.MCPTool, time.Time) error {
	return nil
}

func pingServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "ping", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "ping"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, nil, nil
	})
	return srv
}

// A server that forgot the gateway's session (restarted) answers the next call after one
// reconnection; the call is not lost.
func TestCallReconnectsWhenTheSessionIsGone(t *testing.T) {
	var h atomic.Pointer[http.Handler]
	newHandler := func() {
		var hh http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return pingServer() }, nil)
		h.Store(&hh)
	}
	newHandler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	defer hs.Close()
	r := New(Options{Store: &memStore{[]db.MCPServer{{ID: 1, Name: "p", URL: hs.URL}}}, AllowPrivate: true, ToolTimeout: 10 * time.Second})
	defer r.Close()
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if i == 1 {
			newHandler() // the server restarts: every session it knew is gone
		}
		res := r.Call(context.Background(), []string{"p"}, "p__ping", nil)
		if res.IsError || res.Text != "pong" {
			t.Fatalf("call %d: %+v", i+1, res)
		}
	}
}

// A URL on a private address is refused when connecting, without mcp.allow_private.
func TestCallRefusesPrivateAddress(t *testing.T) {
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return pingServer() }, nil))
	defer hs.Close()
	r := New(Options{Store: &memStore{[]db.MCPServer{{ID: 1, Name: "p", URL: hs.URL}}}, ToolTimeout: 10 * time.Second})
	defer r.Close()
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := r.Call(context.Background(), []string{"p"}, "p__ping", nil)
	if !res.IsError || res.Status != StatusError || !strings.Contains(res.Text, "loopback, private") {
		t.Errorf("call to a loopback server: %+v", res)
	}
}

// A server whose tool list cannot be fetched is left out of requests for a while instead of
// being asked (and waited for) on every one; the admin's Fetch asks at once.
func TestToolsOfADownServerAreNotAskedOnEveryRequest(t *testing.T) {
	var hits atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	r := New(Options{Store: &memStore{[]db.MCPServer{{ID: 1, Name: "p", URL: hs.URL}}}, AllowPrivate: true, ToolTimeout: 10 * time.Second})
	defer r.Close()
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tools := r.Tools(context.Background(), []string{"p"}); len(tools) != 0 {
		t.Fatalf("tools of a down server: %v", tools)
	}
	asked := hits.Load()
	if asked == 0 {
		t.Fatal("the server was never asked")
	}
	r.Tools(context.Background(), []string{"p"})
	if hits.Load() != asked {
		t.Errorf("the down server was asked again at once (%d requests, then %d)", asked, hits.Load())
	}
	if _, err := r.Fetch(context.Background(), "p"); err == nil || hits.Load() == asked {
		t.Errorf("Fetch did not ask the server: %v", err)
	}
}

// A tool the server adds reaches the list once the cached one is five minutes old.
func TestToolListIsFetchedAgainWhenOld(t *testing.T) {
	srv := pingServer()
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	defer hs.Close()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := New(Options{Store: &memStore{[]db.MCPServer{{ID: 1, Name: "p", URL: hs.URL}}}, AllowPrivate: true,
		ToolTimeout: 10 * time.Second, Now: func() time.Time { return now }})
	defer r.Close()
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	names := func() (out []string) {
		for _, tool := range r.Tools(context.Background(), []string{"p"}) {
			out = append(out, tool.Name)
		}
		return out
	}
	if got := names(); len(got) != 1 || got[0] != "p__ping" {
		t.Fatalf("tools %v", got)
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "pong"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{}, nil, nil
	})
	now = now.Add(4 * time.Minute)
	if got := names(); len(got) != 1 {
		t.Errorf("a list younger than five minutes was fetched again: %v", got)
	}
	now = now.Add(2 * time.Minute)
	if got := names(); len(got) != 2 || got[1] != "p__pong" {
		t.Errorf("tools after six minutes %v, want the new one too", got)
	}
}
