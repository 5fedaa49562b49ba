package main

// The harness of the MCP tests (SPEC §18): real MCP servers built on the go-sdk (Streamable
// HTTP through httptest, stdio by running this test binary again), and an upstream mock of
// each wire protocol that calls the tool its prompt names and answers from the tool's result.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// stdioServerEnv, set to 1, makes this test binary an MCP server on stdin/stdout (TestMain).
const stdioServerEnv = "AIGW_TEST_MCP_STDIO"

func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) == "1" {
		srv := mcp.NewServer(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil)
		mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "echoes the city"},
			func(_ context.Context, _ *mcp.CallToolRequest, in cityArgs) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo-from-stdio: " + in.City}}}, nil, nil
			})
		if err := srv.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// mcpHeaderSecret is the header value registered with the weather server; it must never be
// shown back.
const mcpHeaderSecret = "mcp-header-secret-5521"

type cityArgs struct {
	City string `json:"city" jsonschema:"the city"`
}

type weather struct {
	Sky  string `json:"sky"`
	Temp int    `json:"temp"`
}

// startWeatherMCP starts the "weather" MCP server over Streamable HTTP: forecast answers
// "sunny-42 in <city>", broken reports a tool error, hang never answers (until the caller gives
// up), structured answers with structured content only, big with 300 KB of text.
func startWeatherMCP(t *testing.T) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "forecast", Description: "the weather in a city"},
		func(_ context.Context, _ *mcp.CallToolRequest, in cityArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sunny-42 in " + in.City}}}, nil, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "broken", Description: "always fails"},
		func(_ context.Context, _ *mcp.CallToolRequest, in cityArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "weather service down"}}}, nil, nil
		})
	release := make(chan struct{})
	mcp.AddTool(srv, &mcp.Tool{Name: "hang", Description: "never answers"},
		func(ctx context.Context, _ *mcp.CallToolRequest, in cityArgs) (*mcp.CallToolResult, any, error) {
			select {
			case <-ctx.Done():
			case <-release:
			}
			return nil, nil, fmt.Errorf("gave up")
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "structured", Description: "structured weather"},
		func(_ context.Context, _ *mcp.CallToolRequest, in cityArgs) (*mcp.CallToolResult, weather, error) {
			return nil, weather{Sky: "clear-77", Temp: 21}, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "big", Description: "a very long answer"},
		func(_ context.Context, _ *mcp.CallToolRequest, in cityArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "big-start " + strings.Repeat("x", 300<<10)}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The header registered with the server must come with every request.
		if r.Header.Get("X-Token") != mcpHeaderSecret {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(release) }) // before Close: a hung handler must return
	return hs.URL
}

// startSecretMCP starts the "vault" MCP server, whose tool no test client is allowed.
func startSecretMCP(t *testing.T) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "vault", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "secret", Description: "the vault's secret"},
		func(_ context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "vault-secret-99"}}}, nil, nil
		})
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(hs.Close)
	return hs.URL
}

// toolMock is an upstream of every wire protocol that plays a model using tools: a prompt with
// "use:NAME" makes it call tool NAME (with {"city":"Paris"}), "use:A+B" both at once; once the
// request carries a tool result it answers "Result: <the tool's result>". "loop" makes it call
// the tool again every time; told to call none, it answers "no more tools". "failsecond" makes
// it refuse (400) the request that carries the tool's result, "cutsecond" cut the streamed
// answer to it after its first piece. Asked to stream, it streams: an
// answer's text in the three pieces of mockPieces, tool calls with their arguments in two
// fragments (Gemini: whole). It reports 10 input and 5 output tokens per answer.
type toolMock struct {
	t        testing.TB
	mu       sync.Mutex
	requests []upstreamtest.Request
	// gate, when set, holds a streamed answer after its first piece until it is closed (at most
	// gateWait); gated records whether it was closed in time.
	gate  chan struct{}
	gated bool
}

// gateWait is how long a gated answer waits for its first piece to reach the caller; a gateway
// that holds the piece back makes the test fail, not hang.
const gateWait = 10 * time.Second

var (
	useTool = regexp.MustCompile(`use:([a-zA-Z0-9_+-]+)`)
	// toolResults are the results the mock recognises, as they appear in a request.
	toolResults = regexp.MustCompile(`sunny-42 in Paris|weather service down|did not answer within [0-9a-z.]+|echo-from-stdio: Paris|\{\\?"sky\\?":\\?"clear-77\\?",\\?"temp\\?":21\}|result truncated by the gateway|is not available to this key`)
)

func (m *toolMock) handler(w http.ResponseWriter, _ *http.Request, u upstreamtest.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, u)
	m.mu.Unlock()
	body := string(u.Body)
	text := func(s string) {
		m.mu.Lock()
		gate := m.gate
		m.mu.Unlock()
		if u.Stream && gate != nil {
			m.writeGated(w, u.Proto, mockPieces(s), gate)
			return
		}
		if u.Stream {
			upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: mockPieces(s), Input: 10, Output: 5})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mockText(u.Proto, s))
	}
	noTools := strings.Contains(body, `"tool_choice":"none"`) || strings.Contains(body, `"tool_choice":{"type":"none"}`) ||
		strings.Contains(body, `"mode":"NONE"`)
	if noTools {
		text("no more tools")
		return
	}
	if toolResults.MatchString(body) && strings.Contains(body, "failsecond") {
		upstreamtest.WriteError(w, u.Proto, http.StatusBadRequest, "", "the second turn is refused")
		return
	}
	if toolResults.MatchString(body) && strings.Contains(body, "cutsecond") && u.Stream {
		upstreamtest.WriteStreamHead(w, u.Proto, 10)
		upstreamtest.WriteStreamText(w, u.Proto, "Result: ", 10, 1)
		upstreamtest.Reset(m.t, w)
		return
	}
	if res := toolResults.FindString(body); res != "" && !strings.Contains(body, "loop") {
		text("Result: " + strings.ReplaceAll(res, `\"`, `"`))
		return
	}
	mt := useTool.FindStringSubmatch(body)
	if mt == nil {
		text("plain answer")
		return
	}
	if u.Stream {
		streamToolCalls(w, u.Proto, strings.Split(mt[1], "+"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, mockToolCalls(u.Proto, strings.Split(mt[1], "+")))
}

// writeGated streams pieces, waiting after the first one until gate is closed.
func (m *toolMock) writeGated(w http.ResponseWriter, proto string, pieces []string, gate chan struct{}) {
	upstreamtest.WriteStreamHead(w, proto, 10)
	upstreamtest.WriteStreamText(w, proto, pieces[0], 10, 1)
	select {
	case <-gate:
		m.mu.Lock()
		m.gated = true
		m.mu.Unlock()
	case <-time.After(gateWait):
	}
	for i, p := range pieces[1:] {
		upstreamtest.WriteStreamText(w, proto, p, 10, i+2)
	}
	upstreamtest.WriteStreamTail(w, proto, 10, 5)
}

// mockPieces is text in the three pieces a streamed answer carries it in.
func mockPieces(text string) []string {
	a, b := len(text)/3, 2*len(text)/3
	return []string{text[:a], text[a:b], text[b:]}
}

// streamToolCalls streams a turn that calls the tools names, each with {"city":"Paris"}.
func streamToolCalls(w http.ResponseWriter, proto string, names []string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	args := []string{`{"city":`, `"Paris"}`}
	switch proto {
	case beOpenAI:
		chunk := func(delta, finish, usage string) {
			upstreamtest.WriteEvent(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":`+
				delta+`,"finish_reason":`+finish+`}]`+usage+`}`)
		}
		chunk(`{"role":"assistant","content":null}`, "null", "")
		for i, n := range names {
			chunk(fmt.Sprintf(`{"tool_calls":[{"index":%d,"id":"call_%d","type":"function","function":{"name":%s,"arguments":""}}]}`, i, i, jsonStr(n)), "null", "")
			for _, a := range args {
				chunk(fmt.Sprintf(`{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]}`, i, jsonStr(a)), "null", "")
			}
		}
		chunk(`{}`, `"tool_calls"`, "")
		upstreamtest.WriteEvent(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`)
		upstreamtest.WriteEvent(w, proto, "", "[DONE]")
	case beAnthropic:
		upstreamtest.WriteEvent(w, proto, "message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}`)
		for i, n := range names {
			upstreamtest.WriteEvent(w, proto, "content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":{"type":"tool_use","id":"toolu_%d","name":%s,"input":{}}}`, i, i, jsonStr(n)))
			for _, a := range args {
				upstreamtest.WriteEvent(w, proto, "content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"input_json_delta","partial_json":%s}}`, i, jsonStr(a)))
			}
			upstreamtest.WriteEvent(w, proto, "content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i))
		}
		upstreamtest.WriteEvent(w, proto, "message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":5}}`)
		upstreamtest.WriteEvent(w, proto, "message_stop", `{"type":"message_stop"}`)
	default:
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf(`{"functionCall":{"name":%s,"args":{"city":"Paris"}}}`, jsonStr(n)))
		}
		upstreamtest.WriteEvent(w, proto, "", `{"candidates":[{"content":{"role":"model","parts":[`+strings.Join(parts, ",")+
			`]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"m"}`)
	}
}

// seen returns the requests received so far.
func (m *toolMock) seen() []upstreamtest.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]upstreamtest.Request(nil), m.requests...)
}

func (m *toolMock) reset() {
	m.mu.Lock()
	m.requests, m.gate, m.gated = nil, nil, false
	m.mu.Unlock()
}

// hold makes the next streamed answers wait after their first piece until the returned func
// is called; released reports whether it was called before gateWait ran out.
func (m *toolMock) hold() (release func(), released func() bool) {
	gate := make(chan struct{})
	m.mu.Lock()
	m.gate = gate
	m.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.gated
	}
}

func mockText(proto, text string) string {
	switch proto {
	case beOpenAI:
		return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`, jsonStr(text))
	case beAnthropic:
		return fmt.Sprintf(`{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}`, jsonStr(text))
	}
	return fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"m"}`, jsonStr(text))
}

func mockToolCalls(proto string, names []string) string {
	var parts []string
	for i, n := range names {
		switch proto {
		case beOpenAI:
			parts = append(parts, fmt.Sprintf(`{"id":"call_%d","type":"function","function":{"name":%s,"arguments":"{\"city\":\"Paris\"}"}}`, i, jsonStr(n)))
		case beAnthropic:
			parts = append(parts, fmt.Sprintf(`{"type":"tool_use","id":"toolu_%d","name":%s,"input":{"city":"Paris"}}`, i, jsonStr(n)))
		default:
			parts = append(parts, fmt.Sprintf(`{"functionCall":{"name":%s,"args":{"city":"Paris"}}}`, jsonStr(n)))
		}
	}
	list := strings.Join(parts, ",")
	switch proto {
	case beOpenAI:
		return `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[` + list + `]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`
	case beAnthropic:
		return `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[` + list + `],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}`
	}
	return `{"candidates":[{"content":{"role":"model","parts":[` + list + `]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"m"}`
}

// mcpGateway is the program with the weather and vault MCP servers registered, and one client
// per backend in tool mode gateway allowed the weather server (and the stdio one, when the
// config has it).
type mcpGateway struct {
	*relGateway
	mock *toolMock
}

// startMCPGateway starts the program with mcp settings (YAML under "mcp:") written into its
// config first, registers the MCP servers, and creates the clients.
func startMCPGateway(t *testing.T, mcpYAML string, allowed []string) *mcpGateway {
	t.Helper()
	mock := &toolMock{t: t}
	up := upstreamtest.New(t, mock.handler)
	dir := t.TempDir()
	cfg := "database:\n  path: data/gateway.db\nmcp:\n  allow_private: true\n" + mcpYAML
	if err := os.WriteFile(dir+"/config.yaml", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &relGateway{t: t, dir: dir, cfgPath: dir + "/config.yaml", dbPath: dir + "/data/gateway.db",
		env: map[string]string{}, keys: map[string]string{}, ids: map[string]int64{}}
	g.server = start(t, g.env, g.args()...)
	out, err := runCmd(t, g.env, "admin", "token", "create", "--name", "tests", "-config", g.cfgPath)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	g.token = regexp.MustCompile(`(?m)^aigw_\w+$`).FindString(out)
	for name, u := range map[string]string{"weather": startWeatherMCP(t), "vault": startSecretMCP(t)} {
		if status, body := g.admin(http.MethodPost, "/admin/api/v1/mcp-servers",
			map[string]any{"name": name, "url": u, "headers": map[string]string{"X-Token": mcpHeaderSecret}}); status != http.StatusCreated {
			t.Fatalf("register %s: %d %s", name, status, body)
		}
	}
	for _, b := range relBackends {
		g.createClient(b, up.URL, map[string]any{"tool_mode": "gateway", "mcp_servers": allowed})
	}
	return &mcpGateway{relGateway: g, mock: mock}
}

// responsesText is the answer text of a Responses API answer, whole or streamed.
func responsesText(t *testing.T, body string, stream bool) string {
	t.Helper()
	if !stream {
		var r struct {
			Output []struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"output"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("responses answer is not JSON: %.300s", body)
		}
		var sb strings.Builder
		for _, o := range r.Output {
			for _, c := range o.Content {
				sb.WriteString(c.Text)
			}
		}
		return sb.String()
	}
	var sb strings.Builder
	for _, line := range strings.Split(body, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type  string `json:"type"`
			Delta string `json:"delta"`
		}
		if json.Unmarshal([]byte(data), &ev) == nil && ev.Type == "response.output_text.delta" {
			sb.WriteString(ev.Delta)
		}
	}
	return sb.String()
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return string(b)
}
