package main

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds a client key to every request of an MCP client.
type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// connectMCP connects the go-sdk client to the gateway's /mcp with key.
func connectMCP(t *testing.T, base, key string) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{key}}, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func callText(r *mcp.CallToolResult) string {
	var sb strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String()
}

// stdioYAML is the mcp.stdio entry that runs this test binary as the "local" MCP server.
func stdioYAML(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return "  stdio:\n    - name: local\n      command: " + jsonStr(exe) + "\n      env: {" + stdioServerEnv + ": \"1\"}\n"
}

// /mcp, driven by the official Go SDK's client: it lists the client's allowed tools across its
// servers (HTTP and stdio) as server__tool, proxies calls, returns a tool's error as one,
// knows no tools of servers outside the allowlist, logs each call with its step, and
// rate-limits calls like requests. A wrong key gets no session.
func TestMCPEndpoint(t *testing.T) {
	g := startMCPGateway(t, stdioYAML(t), []string{"weather", "local"})
	h := g.openDB()
	cs, err := connectMCP(t, g.url, g.keys[beOpenAI])
	if err != nil {
		t.Fatalf("connect to /mcp: %v", err)
	}
	ctx := context.Background()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	want := []string{"local__echo", "weather__big", "weather__broken", "weather__forecast", "weather__hang", "weather__structured"}
	if !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}

	for _, tc := range []struct {
		tool, want string
		isError    bool
	}{
		{"weather__forecast", "sunny-42 in Rome", false},
		{"local__echo", "echo-from-stdio: Rome", false},
		{"weather__structured", `{"sky":"clear-77","temp":21}`, false},
		{"weather__broken", "weather service down", true},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: map[string]any{"city": "Rome"}})
		if err != nil {
			t.Errorf("tools/call %s: %v", tc.tool, err)
			continue
		}
		if got := callText(res); got != tc.want || res.IsError != tc.isError {
			t.Errorf("tools/call %s: %q (error %t), want %q (error %t)", tc.tool, got, res.IsError, tc.want, tc.isError)
		}
	}

	// A tool of a server outside the allowlist is not on this client's server at all.
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "vault__secret"}); err == nil || !strings.Contains(err.Error(), `unknown tool "vault__secret"`) {
		t.Errorf("tools/call of a tool outside the allowlist: %+v, %v", res, err)
	}

	var logged []string
	relWaitFor(t, "the /mcp calls in the request log", 10*time.Second, func() bool {
		logged = nil
		for _, r := range h.requestLogs() {
			if r.Endpoint == "/mcp" && len(r.ToolSteps) == 1 {
				logged = append(logged, r.ToolSteps[0].Tool+":"+r.ToolSteps[0].Status)
			}
		}
		return len(logged) == 4
	})
	if !slices.Equal(logged, []string{"weather__forecast:ok", "local__echo:ok", "weather__structured:ok", "weather__broken:error"}) {
		t.Errorf("logged calls %v", logged)
	}

	t.Run("rate limit", func(t *testing.T) {
		g.createClient(beOpenAI, "http://127.0.0.1:1", map[string]any{"name": "limited", "mcp_servers": []string{"weather"},
			"rate_limit": map[string]int{"requests_per_minute": 2}})
		cs, err := connectMCP(t, g.url, g.keys[beOpenAI])
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for range 3 {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "weather__forecast", Arguments: map[string]any{"city": "Oslo"}})
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, callText(res))
		}
		if texts[0] != "sunny-42 in Oslo" || texts[1] != "sunny-42 in Oslo" || !strings.Contains(texts[2], "rate limit reached") {
			t.Errorf("three calls with 2 per minute allowed: %q", texts)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		if _, err := connectMCP(t, g.url, "gm_not-a-key-0000000000000000"); err == nil {
			t.Error("a wrong key got an MCP session")
		}
	})
}

// A stdio server of config.yaml runs tools in the tool loop too.
func TestMCPToolLoopStdio(t *testing.T) {
	g := startMCPGateway(t, stdioYAML(t), []string{"local"})
	resp, body := g.call(relOpenAI, beOpenAI, false, promptBody(relOpenAI, false, "use:local__echo"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.500s", resp.StatusCode, body)
	}
	if got := answerText(t, relOpenAI, false, body); got != "Result: echo-from-stdio: Paris" {
		t.Errorf("answer %q", got)
	}
}
