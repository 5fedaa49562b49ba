package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

// anthropicThinkingToolStream is a Messages stream that thinks (with a signature), says a
// word and calls a tool.
const anthropicThinkingToolStream = `event: message_start
data: {"type":"message_start","message":{"id":"msg_up1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":20,"cache_read_input_tokens":5,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me look."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"SIG-abc=="}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking."}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":30}}

event: message_stop
data: {"type":"message_stop"}

`

// recordingUpstream answers every request with reply (SSE when it starts with "event:") and
// keeps the bodies it received.
type recordingUpstream struct {
	mu     sync.Mutex
	bodies []string
}

func (u *recordingUpstream) handler(reply func(n int) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.bodies = append(u.bodies, string(b))
		n := len(u.bodies)
		u.mu.Unlock()
		out := reply(n)
		if strings.HasPrefix(out, "event:") || strings.HasPrefix(out, "data:") {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		io.WriteString(w, out)
	}
}

func (u *recordingUpstream) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.bodies) == 0 {
		return ""
	}
	return u.bodies[len(u.bodies)-1]
}

// postResponses sends body to POST /v1/responses with key.
func postResponses(t *testing.T, g *relGateway, key, path, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// sseEvent is one event of a Responses stream.
type sseEvent struct {
	name string
	data map[string]any
}

func readSSE(t *testing.T, body string) []sseEvent {
	t.Helper()
	var out []sseEvent
	var name string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m); err != nil {
				t.Fatalf("event %s: bad JSON %q", name, line)
			}
			if m["type"] != name {
				t.Fatalf("event name %q but data.type %v", name, m["type"])
			}
			out = append(out, sseEvent{name, m})
		}
	}
	return out
}

// A Responses client streams from an Anthropic backend: it gets the real event sequence —
// reasoning (signature carried in encrypted_content), message, function call — with
// sequence numbers counting from 0 without gaps, and usage with the cached tokens.
func TestResponsesStreamFromAnthropic(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(int) string { return anthropicThinkingToolStream }))
	g := startRelGateway(t, nil, mock.URL)
	resp, body := postResponses(t, g, g.keys[beAnthropic], "/v1/responses", `{"model":"m","stream":true,"store":false,
		"input":[{"type":"message","role":"developer","content":[{"type":"input_text","text":"be brief"}]},
		         {"role":"user","content":"weather in Paris?"}],
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true},
		         {"type":"web_search","external_web_access":false},
		         {"type":"namespace","name":"multi_agent_v1","tools":[{"type":"function","name":"spawn"}]}],
		"reasoning":{"effort":"medium","summary":"auto"},"max_output_tokens":2000}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	sent := up.last()
	if strings.Contains(sent, "web_search") || strings.Contains(sent, "spawn") || !strings.Contains(sent, `"get_weather"`) {
		t.Errorf("upstream was offered the wrong tools: %s", sent)
	}
	if !strings.Contains(sent, `"be brief"`) || !strings.Contains(sent, `"max_tokens":2000`) {
		t.Errorf("upstream missed the developer message or the output cap: %s", sent)
	}
	if !strings.Contains(sent, `"thinking":{"type":"enabled","budget_tokens":1999}`) {
		t.Errorf("reasoning.effort medium did not turn thinking on within the cap: %s", sent)
	}
	evs := readSSE(t, body)
	var names []string
	for i, ev := range evs {
		names = append(names, ev.name)
		if n, _ := ev.data["sequence_number"].(float64); int(n) != i {
			t.Fatalf("event %d (%s) has sequence_number %v", i, ev.name, ev.data["sequence_number"])
		}
	}
	want := []string{"response.created", "response.in_progress",
		"response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
		"response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
		"response.output_item.added", "response.content_part.added", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.output_item.done", "response.completed"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	final := evs[len(evs)-1].data["response"].(map[string]any)
	out := final["output"].([]any)
	if len(out) != 3 {
		t.Fatalf("output: %v", out)
	}
	rs, msg, fc := out[0].(map[string]any), out[1].(map[string]any), out[2].(map[string]any)
	if rs["type"] != "reasoning" || !strings.HasSuffix(rs["encrypted_content"].(string), "SIG-abc==") {
		t.Errorf("reasoning item: %v", rs)
	}
	if msg["type"] != "message" || msg["content"].([]any)[0].(map[string]any)["text"] != "Checking." {
		t.Errorf("message item: %v", msg)
	}
	if fc["type"] != "function_call" || fc["call_id"] != "toolu_1" || fc["arguments"] != `{"city":"Paris"}` || fc["name"] != "get_weather" {
		t.Errorf("function_call item: %v", fc)
	}
	for i, ev := range evs {
		if idx, ok := ev.data["output_index"].(float64); ok {
			if item, ok := ev.data["item_id"].(string); ok && out[int(idx)].(map[string]any)["id"] != item {
				t.Errorf("event %d: item_id %s is not output[%v]'s id", i, item, idx)
			}
		}
	}
	u := final["usage"].(map[string]any)
	if u["input_tokens"].(float64) != 25 || u["output_tokens"].(float64) != 30 || u["total_tokens"].(float64) != 55 ||
		u["input_tokens_details"].(map[string]any)["cached_tokens"].(float64) != 5 {
		t.Errorf("usage: %v", u)
	}
	if final["status"] != "completed" || !strings.HasPrefix(final["id"].(string), "resp_") {
		t.Errorf("final response: %v", final)
	}
}

// A whole (non-streamed) answer from a Chat Completions backend: the earlier function call and
// its output reach the upstream as an assistant tool call and a tool message, a custom tool is
// offered as a function with one string argument, and its call comes back as a
// custom_tool_call with the free-form input.
func TestResponsesToolRoundTripOnChatBackend(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(int) string {
		return `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-x","choices":[{"index":0,
			"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_up","type":"function",
			"function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n<x>\"}"}}]},"finish_reason":"tool_calls"}],
			"usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52,
			"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":4}}}`
	}))
	g := startRelGateway(t, nil, mock.URL)
	resp, body := postResponses(t, g, g.keys[beOpenAI], "/v1/responses", `{"model":"m","instructions":"You are terse.",
		"input":[{"role":"user","content":"weather?"},
		         {"type":"function_call","call_id":"call_A","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
		         {"type":"function_call_output","call_id":"call_A","output":"sunny"}],
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},
		         {"type":"custom","name":"apply_patch","description":"edit files"}],
		"tool_choice":"auto","parallel_tool_calls":false,"temperature":0.2,
		"text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}},
		"metadata":{"k":"v"}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var sent struct {
		Messages []struct {
			Role       string `json:"role"`
			Content    any    `json:"content"`
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID       string `json:"id"`
				Function struct{ Name, Arguments string }
			} `json:"tool_calls"`
		} `json:"messages"`
		Tools []struct {
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ParallelToolCalls *bool           `json:"parallel_tool_calls"`
		Temperature       float64         `json:"temperature"`
		ResponseFormat    json.RawMessage `json:"response_format"`
	}
	if err := json.Unmarshal([]byte(up.last()), &sent); err != nil {
		t.Fatal(err)
	}
	m := sent.Messages
	if len(m) != 4 || m[0].Role != "system" || m[1].Role != "user" || m[2].Role != "assistant" || m[3].Role != "tool" ||
		len(m[2].ToolCalls) != 1 || m[2].ToolCalls[0].ID != "call_A" || m[2].ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
		m[3].ToolCallID != "call_A" {
		t.Fatalf("upstream messages: %s", up.last())
	}
	if len(sent.Tools) != 2 || sent.Tools[1].Function.Name != "apply_patch" || !strings.Contains(string(sent.Tools[1].Function.Parameters), `"input"`) {
		t.Errorf("upstream tools: %s", up.last())
	}
	if sent.ParallelToolCalls == nil || *sent.ParallelToolCalls || sent.Temperature != 0.2 || !strings.Contains(string(sent.ResponseFormat), `"json_schema"`) {
		t.Errorf("upstream settings: %s", up.last())
	}
	var got struct {
		ID, Object, Status string
		Output             []map[string]any
		Usage              struct {
			InputTokens        int `json:"input_tokens"`
			OutputTokens       int `json:"output_tokens"`
			TotalTokens        int `json:"total_tokens"`
			InputTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"input_tokens_details"`
			OutputTokensDetails struct {
				ReasoningTokens int `json:"reasoning_tokens"`
			} `json:"output_tokens_details"`
		}
		Metadata     map[string]string
		Instructions string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Object != "response" || got.Status != "completed" || len(got.Output) != 1 || got.Metadata["k"] != "v" || got.Instructions != "You are terse." {
		t.Fatalf("response: %s", body)
	}
	if o := got.Output[0]; o["type"] != "custom_tool_call" || o["name"] != "apply_patch" || o["input"] != "*** Begin Patch\n<x>" || o["call_id"] != "call_up" {
		t.Errorf("custom tool call: %v", o)
	}
	if u := got.Usage; u.InputTokens != 40 || u.OutputTokens != 12 || u.TotalTokens != 52 || u.InputTokensDetails.CachedTokens != 8 || u.OutputTokensDetails.ReasoningTokens != 4 {
		t.Errorf("usage: %+v", u)
	}
	// Accounted and logged like every other door.
	d := g.openDB()
	var rows []db.RequestLog
	relWaitFor(t, "the request log row", 10*time.Second, func() bool { rows = d.requestLogs(); return len(rows) == 1 })
	if r := rows[0]; r.Endpoint != "/v1/responses" || r.Status != 200 || r.InputTokens != 40 || r.OutputTokens != 12 {
		t.Errorf("request log row: %+v", r)
	}
}

// Requests a translated backend cannot serve get an OpenAI-shaped 400 naming what is wrong;
// nothing reaches the upstream.
func TestResponsesRefusals(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(int) string { return "{}" }))
	g := startRelGateway(t, nil, mock.URL)
	cases := []struct{ name, body, param, mention string }{
		{"background", `{"model":"m","input":"hi","background":true}`, "background", "background"},
		{"forced built-in tool", `{"model":"m","input":"hi","tools":[{"type":"web_search"}],"tool_choice":{"type":"web_search_preview"}}`, "tool_choice", "web_search_preview"},
		{"forced unknown function", `{"model":"m","input":"hi","tool_choice":{"type":"function","name":"nope"}}`, "tool_choice", "nope"},
		{"not JSON", `{"model":`, "", "not a valid Responses request"},
		{"bad role", `{"model":"m","input":[{"role":"robot","content":"x"}]}`, "input", "robot"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := postResponses(t, g, g.keys[beAnthropic], "/v1/responses", c.body)
			var e struct {
				Error struct {
					Message, Type string
					Param         *string
				}
			}
			json.Unmarshal([]byte(body), &e)
			if resp.StatusCode != 400 || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, c.mention) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if c.param != "" && (e.Error.Param == nil || *e.Error.Param != c.param) {
				t.Errorf("param: %s", body)
			}
		})
	}
	if n := len(up.bodies); n != 0 {
		t.Errorf("upstream called %d times", n)
	}
}

// An upstream failure after the stream began ends it with an error event and response.failed,
// both numbered in sequence.
func TestResponsesStreamFailure(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(int) string {
		return `event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hal"}}

event: error
data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}

`
	}))
	g := startRelGateway(t, nil, mock.URL)
	resp, body := postResponses(t, g, g.keys[beAnthropic], "/v1/responses", `{"model":"m","input":"hi","stream":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	evs := readSSE(t, body)
	n := len(evs)
	if n < 4 || evs[n-2].name != "error" || evs[n-1].name != "response.failed" {
		t.Fatalf("stream:\n%s", body)
	}
	for i, ev := range evs {
		if s, _ := ev.data["sequence_number"].(float64); int(s) != i {
			t.Fatalf("event %d has sequence_number %v", i, s)
		}
	}
	failed := evs[n-1].data["response"].(map[string]any)
	if failed["status"] != "failed" || !strings.Contains(failed["error"].(map[string]any)["message"].(string), "Overloaded") {
		t.Errorf("response.failed: %v", failed)
	}
}
