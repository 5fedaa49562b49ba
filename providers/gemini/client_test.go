package gemini

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers"
)

const testKey = "AIzaSyTESTKEY-do-not-leak-0123456789"

type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// mockGemini is an in-process Gemini Developer API. It records every request and fails the test
// when the key arrives anywhere but the x-goog-api-key header.
type mockGemini struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newMock(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *mockGemini {
	t.Helper()
	m := &mockGemini{t: t}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		m.reqs = append(m.reqs, recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		m.mu.Unlock()
		if got := r.Header.Get("x-goog-api-key"); got != testKey {
			t.Errorf("x-goog-api-key = %q, want the upstream key", got)
		}
		if strings.Contains(r.URL.String(), testKey) || r.URL.Query().Has("key") {
			t.Errorf("the key leaked into the URL: %s", r.URL)
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("unexpected Authorization header")
		}
		handle(w, r, body)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *mockGemini) requests() []recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]recorded(nil), m.reqs...)
}

func (m *mockGemini) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(providers.Config{Backend: "gemini", BaseURL: m.srv.URL, APIKey: testKey, HTTPClient: m.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c.random = counter()
	c.now = func() time.Time { return time.Unix(1700000000, 0) }
	return c
}

// writeSSE writes chunks exactly as Gemini does: `data: {...}\r\n\r\n`, no event names, no [DONE].
func writeSSE(w http.ResponseWriter, chunks ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	for _, c := range chunks {
		io.WriteString(w, "data: "+c+"\r\n\r\n")
		w.(http.Flusher).Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func userRequest(model, text string) *providers.Request {
	return &providers.Request{Model: model, Messages: []providers.Message{
		{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("Be brief.")}},
		{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart(text)}},
	}}
}

func TestNewBaseURL(t *testing.T) {
	tests := []struct{ base, root string }{
		{"", "https://generativelanguage.googleapis.com/v1beta"},
		{"https://generativelanguage.googleapis.com/", "https://generativelanguage.googleapis.com/v1beta"},
		{"https://proxy.example/gemini/v1beta/", "https://proxy.example/gemini/v1beta"},
		{"http://127.0.0.1:9000/v1", "http://127.0.0.1:9000/v1"},
		{"https://proxy.example/x?key=oops", "https://proxy.example/x/v1beta"},
	}
	for _, tt := range tests {
		c, err := New(providers.Config{BaseURL: tt.base})
		if err != nil {
			t.Fatalf("%q: %v", tt.base, err)
		}
		if c.root != tt.root {
			t.Errorf("New(%q).root = %q, want %q", tt.base, c.root, tt.root)
		}
	}
	for _, bad := range []string{"generativelanguage.googleapis.com", "ftp://x", "://"} {
		if _, err := New(providers.Config{BaseURL: bad}); err == nil {
			t.Errorf("New(%q) accepted a bad base URL", bad)
		}
	}
}

func TestClientChat(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 200, string(readTestdata(t, "response_tools.json")))
	})
	req := userRequest("gemini-2.5-flash", "Weather in Paris and London?")
	resp, err := m.client(t).Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "response_tools_canonical", dump(t, resp))

	reqs := m.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || got.RawQuery != "" {
		t.Errorf("upstream got %s %s?%s", got.Method, got.Path, got.RawQuery)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if want := encodeForTest(t, req); !bytes.Equal(got.Body, want) {
		t.Errorf("upstream body\n%s\nwant\n%s", got.Body, want)
	}

	// The ids handed out carry name and signature back.
	ch := resp.Choices[0]
	if ch.FinishReason != providers.FinishToolCalls {
		t.Errorf("finish %q, want tool_calls (Gemini says STOP for calls)", ch.FinishReason)
	}
	name, _, sig, ok := decodeToolID(ch.Message.ToolCalls[0].ID)
	if !ok || name != "get_weather" || sig != "CiQBcsjafGxVb2dJbGFzdFRob3VnaHQ=" {
		t.Errorf("id %q carries %q %q %v", ch.Message.ToolCalls[0].ID, name, sig, ok)
	}
	if ch.Message.ToolCalls[0].ID == ch.Message.ToolCalls[1].ID {
		t.Errorf("parallel calls share an id")
	}
}

// A signature must survive a turn through an OpenAI client that keeps only id, name and
// arguments, and the tool result that only names the id must find its function.
func TestThoughtSignatureSurvivesOpenAIRoundTrip(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeSSE(w, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"read","args":{"filePath":"/a"}},"thoughtSignature":"U0lHTkFUVVJFLTE="},{"functionCall":{"name":"list","args":{}}}]},"finishReason":"STOP","index":0}],"modelVersion":"gemini-3-pro-preview","responseId":"r1"}`)
	})
	c := m.client(t)
	c.random = func() string { return randomToken(toolIDRandLen) }
	st, err := c.Stream(context.Background(), userRequest("gemini-3-pro-preview", "go"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls []providers.ToolCall
	for {
		ev, err := st.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == providers.EventToolCall {
			// What an OpenAI client keeps: id, name, arguments.
			calls = append(calls, providers.ToolCall{ID: ev.ToolID, Name: ev.ToolName, Arguments: ev.Args})
		}
	}
	if len(calls) != 2 {
		t.Fatalf("got %d calls", len(calls))
	}
	next := userRequest("gemini-3-pro-preview", "go")
	next.Messages = append(next.Messages,
		providers.Message{Role: providers.RoleAssistant, ToolCalls: calls},
		providers.Message{Role: providers.RoleTool, ToolCallID: calls[0].ID, Content: []providers.Part{providers.TextPart("file a")}},
		providers.Message{Role: providers.RoleTool, ToolCallID: calls[1].ID, Content: []providers.Part{providers.TextPart(`{"files":["a"]}`)}},
	)
	g, err := encodeRequest(next)
	if err != nil {
		t.Fatal(err)
	}
	model := g.Contents[1].Parts
	if model[0].ThoughtSignature != "U0lHTkFUVVJFLTE=" || model[0].FunctionCall.Name != "read" {
		t.Errorf("first call lost its signature: %s", marshal(model[0]))
	}
	if model[1].ThoughtSignature != "" {
		t.Errorf("second call gained a signature: %s", marshal(model[1]))
	}
	results := g.Contents[2].Parts
	if results[0].FunctionResponse.Name != "read" || results[1].FunctionResponse.Name != "list" {
		t.Errorf("tool results: %s", marshal(results))
	}
	if string(results[1].FunctionResponse.Response) != `{"files":["a"]}` || string(results[0].FunctionResponse.Response) != `{"output":"file a"}` {
		t.Errorf("responses: %s", marshal(results))
	}
	// Without the assistant message (history trimmed), the name still comes from the id.
	orphan := &providers.Request{Model: "gemini-3-pro-preview", Messages: []providers.Message{
		{Role: providers.RoleTool, ToolCallID: calls[0].ID, Content: []providers.Part{providers.TextPart("x")}}}}
	if g, err := encodeRequest(orphan); err != nil || g.Contents[0].Parts[0].FunctionResponse.Name != "read" {
		t.Errorf("name not recovered from the id alone: %v", err)
	}
}

func streamEvents(t *testing.T, st providers.Stream) ([]providers.StreamEvent, error) {
	t.Helper()
	defer st.Close()
	var evs []providers.StreamEvent
	for {
		ev, err := st.Next()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func TestClientStream(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(readTestdata(t, "stream_tools.sse"))
	})
	st, err := m.client(t).Stream(context.Background(), userRequest("gemini-2.5-flash", "Weather?"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := streamEvents(t, st)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "stream_tools_events", eventLog(evs))

	got := m.requests()[0]
	if got.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || got.RawQuery != "alt=sse" {
		t.Errorf("upstream got %s?%s", got.Path, got.RawQuery)
	}
	// The facts a user would notice, independent of the golden file.
	var text strings.Builder
	var tools []providers.StreamEvent
	var last providers.StreamEvent
	for _, ev := range evs {
		switch ev.Kind {
		case providers.EventText:
			text.WriteString(ev.Text)
		case providers.EventToolCall:
			tools = append(tools, ev)
		}
		last = ev
	}
	if evs[0].Kind != providers.EventStart || evs[0].ID != "resp-stream-1" || evs[0].Model != "gemini-2.5-flash" {
		t.Errorf("first event %+v", evs[0])
	}
	if text.String() != "Let me check both.\n" {
		t.Errorf("text %q", text.String())
	}
	if len(tools) != 2 || tools[0].ToolIndex != 0 || tools[1].ToolIndex != 1 || tools[0].Args != `{"city":"Paris"}` || tools[1].Args != `{"city":"London"}` {
		t.Errorf("tool calls %+v", tools)
	}
	if last.Kind != providers.EventUsage || *last.Usage != (providers.Usage{InputTokens: 120, OutputTokens: 65, CachedTokens: 64, ReasoningTokens: 25}) {
		t.Errorf("last event %+v", last)
	}
}

func TestClientModelsPaging(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Query().Get("pageToken") {
		case "":
			writeJSON(w, 200, `{"models":[
				{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","supportedGenerationMethods":["generateContent","countTokens","createCachedContent","batchGenerateContent"]},
				{"name":"models/text-embedding-004","displayName":"Text Embedding 004","supportedGenerationMethods":["embedContent"]}],
				"nextPageToken":"Cg5wYWdlIHR3bw=="}`)
		case "Cg5wYWdlIHR3bw==":
			writeJSON(w, 200, `{"models":[{"name":"models/gemini-3-pro-preview","displayName":"Gemini 3 Pro Preview","supportedGenerationMethods":["generateContent","countTokens"]}]}`)
		default:
			writeJSON(w, 400, `{"error":{"code":400,"message":"bad page token","status":"INVALID_ARGUMENT"}}`)
		}
	})
	models, err := m.client(t).Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Model{
		{ID: "gemini-2.5-flash", DisplayName: "Gemini 2.5 Flash", OwnedBy: "google"},
		{ID: "gemini-3-pro-preview", DisplayName: "Gemini 3 Pro Preview", OwnedBy: "google"},
	}
	if got := dump(t, models); !bytes.Equal(got, dump(t, want)) {
		t.Errorf("models %s", got)
	}
	reqs := m.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 pages", len(reqs))
	}
	for i, wantQuery := range []string{"pageSize=1000", "pageSize=1000&pageToken=Cg5wYWdlIHR3bw%3D%3D"} {
		if reqs[i].Method != http.MethodGet || reqs[i].Path != "/v1beta/models" || reqs[i].RawQuery != wantQuery {
			t.Errorf("page %d: %s %s?%s", i, reqs[i].Method, reqs[i].Path, reqs[i].RawQuery)
		}
	}
}

func TestClientCountTokens(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 200, `{"totalTokens": 31, "promptTokensDetails": [{"modality": "TEXT","tokenCount": 31}]}`)
	})
	c := m.client(t)
	plain := &providers.Request{Model: "gemini-2.5-flash", Messages: []providers.Message{{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("hi")}}}}
	n, err := c.CountTokens(context.Background(), plain)
	if err != nil || n != 31 {
		t.Fatalf("CountTokens = %d, %v", n, err)
	}
	withSystem := userRequest("gemini-2.5-flash", "hi")
	withSystem.MaxTokens = 10
	if _, err := c.CountTokens(context.Background(), withSystem); err != nil {
		t.Fatal(err)
	}
	reqs := m.requests()
	if reqs[0].Path != "/v1beta/models/gemini-2.5-flash:countTokens" {
		t.Errorf("path %s", reqs[0].Path)
	}
	if want := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`; string(reqs[0].Body) != want {
		t.Errorf("body %s, want %s", reqs[0].Body, want)
	}
	want := `{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"role":"user","parts":[{"text":"Be brief."}]}}}`
	if string(reqs[1].Body) != want {
		t.Errorf("body %s, want %s", reqs[1].Body, want)
	}
}

func TestClientEmbed(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 200, `{"embeddings":[{"values":[0.1,-0.2,0.3]},{"values":[0.4,0.5,-0.6]}]}`)
	})
	resp, err := m.client(t).Embed(context.Background(), &providers.EmbedRequest{Model: "text-embedding-004", Input: []string{"hello world", "abc"}, Dimensions: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := m.requests()[0]
	if got.Path != "/v1beta/models/text-embedding-004:batchEmbedContents" {
		t.Errorf("path %s", got.Path)
	}
	want := `{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"hello world"}]},"outputDimensionality":3},{"model":"models/text-embedding-004","content":{"parts":[{"text":"abc"}]},"outputDimensionality":3}]}`
	if string(got.Body) != want {
		t.Errorf("body %s\nwant %s", got.Body, want)
	}
	if len(resp.Vectors) != 2 || resp.Vectors[1][2] != -0.6 || resp.Model != "text-embedding-004" {
		t.Errorf("response %+v", resp)
	}
	if resp.Usage != (providers.Usage{InputTokens: 4, Estimated: true}) {
		t.Errorf("usage %+v, want 14 chars / 4 rounded up, estimated", resp.Usage)
	}
}

func TestClientEmbedCountMismatch(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeJSON(w, 200, `{"embeddings":[{"values":[0.1]}]}`)
	})
	_, err := m.client(t).Embed(context.Background(), &providers.EmbedRequest{Model: "text-embedding-004", Input: []string{"a", "b"}})
	if e := providers.AsError(err); e == nil || e.Status() != http.StatusBadGateway {
		t.Fatalf("got %v, want a 502", err)
	}
}

func TestClientForward(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"models":[]}`)
			return
		}
		writeSSE(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP","index":0}]}`)
	})
	body := []byte(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"unknownField":{"kept":[1, 2]},"generationConfig":{"temperature":0}}`)
	resp, err := m.client(t).Do(context.Background(), "models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=client-key-must-not-travel", body, true)
	if err != nil {
		t.Fatal(err)
	}
	relayed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(relayed, []byte("data: {")) {
		t.Errorf("relayed %d %q", resp.StatusCode, relayed)
	}
	resp, err = m.client(t).Do(context.Background(), "/v1beta/models?pageSize=5", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := m.requests()
	if reqs[0].Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent" || reqs[0].RawQuery != "alt=sse" {
		t.Errorf("forwarded to %s?%s", reqs[0].Path, reqs[0].RawQuery)
	}
	if !bytes.Equal(reqs[0].Body, body) {
		t.Errorf("body changed: %s", reqs[0].Body)
	}
	if strings.Contains(reqs[0].RawQuery, "client-key") {
		t.Errorf("client key forwarded")
	}
	if reqs[1].Method != http.MethodGet || reqs[1].Path != "/v1beta/models" || reqs[1].RawQuery != "pageSize=5" {
		t.Errorf("GET forwarded as %s %s?%s", reqs[1].Method, reqs[1].Path, reqs[1].RawQuery)
	}
}

// A model id cannot move a forwarded request to another path: ModelOp refuses what would, and
// Forward refuses an operation that leaves the API root however it was built.
func TestClientForwardStaysOnItsPath(t *testing.T) {
	if op, err := ModelOp("models/gemini-2.5-flash", "countTokens"); err != nil || op != "models/gemini-2.5-flash:countTokens" {
		t.Errorf("ModelOp = %q, %v", op, err)
	}
	for _, model := range []string{"..", "../../v1/files/abc", "..%2fx", "%2e%2e", "a/b", "m?alt=json", "m#x", `..\x`, ""} {
		if op, err := ModelOp(model, "generateContent"); err == nil {
			t.Errorf("ModelOp(%q) = %q, want an error", model, op)
		}
	}
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeJSON(w, 200, `{}`) })
	for _, op := range []string{"models/../../v1/files/abc:generateContent", "models/..%2f..%2fv1:generateContent",
		"models/%2e%2e/x:countTokens", "models/..", "models/./x", `models\..\x`, "models/a#b", "models/a b"} {
		resp, err := m.client(t).Do(context.Background(), op, []byte(`{}`), false)
		if err == nil {
			resp.Body.Close()
			t.Errorf("Forward(%q) sent a request", op)
		} else if providers.AsError(err).Kind != providers.KindBadRequest {
			t.Errorf("Forward(%q) = %v, want KindBadRequest", op, err)
		}
	}
	if reqs := m.requests(); len(reqs) != 0 {
		t.Errorf("upstream received %d requests", len(reqs))
	}
}

// Errors keep the upstream's status and message, and a retry delay in either form.
func TestClientUpstreamErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantStatus int
		wantKind   providers.ErrorKind
		wantMsg    string
		wantRetry  string
		wantType   string
	}{
		{"bad key", 400, nil, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`,
			400, providers.KindBadRequest, "API key not valid. Please pass a valid API key.", "", "INVALID_ARGUMENT"},
		{"quota with Retry-After", 429, map[string]string{"Retry-After": "30"}, `{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}`,
			429, providers.KindRateLimited, "Resource has been exhausted", "30", "RESOURCE_EXHAUSTED"},
		{"quota with RetryInfo", 429, nil, `{"error":{"code":429,"message":"You exceeded your current quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17.2s"}]}}`,
			429, providers.KindRateLimited, "You exceeded your current quota", "18", "RESOURCE_EXHAUSTED"},
		{"not found", 404, nil, `{"error":{"code":404,"message":"models/nope is not found for API version v1beta","status":"NOT_FOUND"}}`,
			404, providers.KindNotFound, "models/nope is not found for API version v1beta", "", "NOT_FOUND"},
		{"overloaded", 503, nil, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			503, providers.KindUpstream, "The model is overloaded. Please try again later.", "", "UNAVAILABLE"},
		{"html from a proxy", 502, nil, `<html>Bad Gateway</html>`,
			502, providers.KindUpstream, "Gemini returned HTTP 502: <html>Bad Gateway</html>", "", ""},
		{"array-wrapped", 400, nil, `[{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}]`,
			400, providers.KindBadRequest, "Invalid JSON payload received.", "", "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tt.status, tt.body)
			})
			c := m.client(t)
			_, chatErr := c.Chat(context.Background(), userRequest("gemini-2.5-flash", "hi"))
			_, streamErr := c.Stream(context.Background(), userRequest("gemini-2.5-flash", "hi"))
			for _, err := range []error{chatErr, streamErr} {
				var e *providers.Error
				if !errors.As(err, &e) {
					t.Fatalf("got %T %v, want *providers.Error", err, err)
				}
				if e.Status() != tt.wantStatus || e.Kind != tt.wantKind || e.Message != tt.wantMsg || e.RetryAfter != tt.wantRetry ||
					e.Type != tt.wantType || e.Provider != "gemini" {
					t.Errorf("got %+v", e)
				}
				if strings.Contains(e.Error(), testKey) {
					t.Errorf("key in error")
				}
			}
		})
	}
}

func TestClientStreamFailures(t *testing.T) {
	tests := []struct {
		name       string
		chunks     []string
		wantEvents int
		wantStatus int
		wantMsg    string
	}{
		{"error object mid-stream", []string{
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}`,
			`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`,
		}, 2, 503, "The model is overloaded."},
		{"malformed chunk", []string{
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}`,
			`{"candidates":[{"content":`,
		}, 2, 502, "malformed response from Gemini"},
		{"wrong type", []string{`{"candidates":"nope"}`}, 0, 502, "malformed response from Gemini"},
		{"absurd candidate index", []string{`{"candidates":[{"index":1000000000,"finishReason":"STOP"}]}`}, 1, 502, "candidate index out of range"},
		{"empty body", nil, 0, 502, "closed the stream without sending an answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) { writeSSE(w, tt.chunks...) })
			st, err := m.client(t).Stream(context.Background(), userRequest("gemini-2.5-flash", "hi"))
			if err != nil {
				t.Fatal(err)
			}
			evs, err := streamEvents(t, st)
			var e *providers.Error
			if !errors.As(err, &e) || e.Status() != tt.wantStatus || !strings.Contains(e.Message, tt.wantMsg) {
				t.Fatalf("got %v, want status %d containing %q", err, tt.wantStatus, tt.wantMsg)
			}
			if len(evs) != tt.wantEvents {
				t.Errorf("%d events before the error, want %d: %+v", len(evs), tt.wantEvents, evs)
			}
		})
	}
}

func TestClientBlockedPrompt(t *testing.T) {
	const blocked = `{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash","responseId":"blk"}`
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(r.URL.Path, "stream") {
			writeSSE(w, blocked)
			return
		}
		writeJSON(w, 200, blocked)
	})
	c := m.client(t)
	resp, err := c.Chat(context.Background(), userRequest("gemini-2.5-flash", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != providers.FinishContentFilter || len(resp.Choices[0].Message.Content) != 0 ||
		resp.Usage.InputTokens != 9 || resp.ID != "blk" {
		t.Errorf("response %+v", resp)
	}
	st, err := c.Stream(context.Background(), userRequest("gemini-2.5-flash", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := streamEvents(t, st)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []providers.EventKind{}
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	if len(evs) != 3 || evs[0].Kind != providers.EventStart || evs[1].Kind != providers.EventFinish ||
		evs[1].FinishReason != providers.FinishContentFilter || evs[2].Kind != providers.EventUsage {
		t.Errorf("events %v: %+v", kinds, evs)
	}
}

func TestClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := New(providers.Config{BaseURL: base, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chat(context.Background(), userRequest("gemini-2.5-flash", "hi"))
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindUnavailable || e.Status() != 502 || strings.Contains(e.Error(), testKey) {
		t.Fatalf("got %v", err)
	}
}

func TestClientBadModel(t *testing.T) {
	c, _ := New(providers.Config{APIKey: testKey})
	for _, model := range []string{"", "gemini:evil", "../../admin", "models/a?b"} {
		_, err := c.Chat(context.Background(), userRequest(model, "hi"))
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
			t.Errorf("model %q: got %v, want a bad request", model, err)
		}
	}
}

// A caller going away cancels the upstream request, and the stream reports it as cancelled.
func TestClientStreamCancel(t *testing.T) {
	upstreamGone := make(chan struct{})
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeSSE(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}`)
		<-r.Context().Done()
		close(upstreamGone)
	})
	ctx, cancel := context.WithCancel(context.Background())
	st, err := m.client(t).Stream(ctx, userRequest("gemini-2.5-flash", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 2 { // start, text
		if _, err := st.Next(); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	_, err = st.Next()
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindCanceled {
		t.Fatalf("got %v, want a cancellation", err)
	}
	<-upstreamGone
}

// Silence between chunks longer than the idle timeout ends the stream with a timeout (504).
func TestClientStreamIdleTimeout(t *testing.T) {
	m := newMock(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		writeSSE(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}]}`)
		<-r.Context().Done()
	})
	c := m.client(t)
	c.cfg.IdleTimeout = 50 * time.Millisecond
	st, err := c.Stream(context.Background(), userRequest("gemini-2.5-flash", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := streamEvents(t, st)
	var e *providers.Error
	if !errors.As(err, &e) || e.Kind != providers.KindTimeout || e.Status() != 504 || len(evs) != 2 {
		t.Fatalf("got %d events and %v, want 2 events then a timeout", len(evs), err)
	}
}
