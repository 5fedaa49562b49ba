package anthropic

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// cacheMarks lists where a Messages body carries cache_control, as "tools[i]", "system[i]",
// "messages[i].content[j]" and "messages[i].content[j].content[k]", with each mark's JSON.
func cacheMarks(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var w struct {
		Tools    []map[string]json.RawMessage `json:"tools"`
		System   []map[string]json.RawMessage `json:"system"`
		Messages []struct {
			Content []map[string]json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("body: %v\n%s", err, body)
	}
	out := map[string]string{}
	note := func(path string, b map[string]json.RawMessage) {
		if cc, ok := b["cache_control"]; ok {
			out[path] = string(cc)
		}
		var nested []map[string]json.RawMessage
		if json.Unmarshal(b["content"], &nested) == nil {
			for k, n := range nested {
				if cc, ok := n["cache_control"]; ok {
					out[fmt.Sprintf("%s.content[%d]", path, k)] = string(cc)
				}
			}
		}
	}
	for i, b := range w.Tools {
		note(fmt.Sprintf("tools[%d]", i), b)
	}
	for i, b := range w.System {
		note(fmt.Sprintf("system[%d]", i), b)
	}
	for i, m := range w.Messages {
		for j, b := range m.Content {
			note(fmt.Sprintf("messages[%d].content[%d]", i, j), b)
		}
	}
	return out
}

func markPaths(m map[string]string) []string {
	var p []string
	for k := range m {
		p = append(p, k)
	}
	slices.Sort(p)
	return p
}

// agentRequest is an agent loop's third turn: tools, a system prompt in two parts (the
// client's injected prompt first), a user task, an assistant tool call, its result.
func agentRequest(model string, textBytes int) *providers.Request {
	long := strings.Repeat("x", textBytes)
	return &providers.Request{
		Model:     model,
		AutoCache: true,
		Tools: []providers.Tool{
			{Name: "read", Description: "read a file " + long, Parameters: json.RawMessage(`{"type":"object"}`)},
			{Name: "write", Description: "write a file", Parameters: json.RawMessage(`{"type":"object"}`)},
		},
		Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("injected by the gateway")}},
			{Role: providers.RoleSystem, Content: []providers.Part{providers.TextPart("you are a coder " + long)}},
			{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("fix the bug")}},
			{Role: providers.RoleAssistant, ToolCalls: []providers.ToolCall{{ID: "call_1", Name: "read", Arguments: `{"path":"a.go"}`}}},
			{Role: providers.RoleTool, ToolCallID: "call_1", Content: []providers.Part{providers.TextPart("package a")}},
		},
	}
}

func encodeForTest(t *testing.T, req *providers.Request) []byte {
	t.Helper()
	b, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The four automatic places: the last tool, the last system block, the end of the last user
// turn (here the tool result the agent loop just sent) and the end of the user turn before it
// (where the previous request of the loop put its mark).
func TestPromptCacheBreakpointsPlacedAtToolsSystemAndUserTurns(t *testing.T) {
	body := encodeForTest(t, agentRequest("claude-sonnet-4-5", 8000))
	marks := cacheMarks(t, body)
	want := []string{"messages[0].content[0]", "messages[2].content[0]", "system[1]", "tools[1]"}
	if got := markPaths(marks); !slices.Equal(got, want) {
		t.Fatalf("marks at %v, want %v", got, want)
	}
	for p, cc := range marks {
		if cc != `{"type":"ephemeral"}` {
			t.Errorf("%s: cache_control %s", p, cc)
		}
	}
	var w struct {
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				Type string `json:"type"`
			} `json:"content"`
		} `json:"messages"`
	}
	json.Unmarshal(body, &w)
	if m := w.Messages[2]; m.Role != "user" || m.Content[0].Type != "tool_result" {
		t.Fatalf("the last user turn is %+v, want the tool result", m)
	}
}

// A prompt shorter than the model's minimum gets no mark at all; the minimum is the model's.
func TestPromptCacheBreakpointsNoneBelowMinimum(t *testing.T) {
	for _, c := range []struct {
		model string
		bytes int // of text in each of the tool description and the system prompt
		want  int
	}{
		{"claude-sonnet-4-5", 100, 0},
		{"claude-sonnet-4-5", 3000, 3},         // tools alone ~760 tokens; with the system ~1520
		{"claude-sonnet-4-5", 5000, 4},         // tools alone ~1260 tokens
		{"claude-3-5-haiku-20241022", 3000, 0}, // 2048 for the older Haiku
		{"claude-3-5-haiku-20241022", 5000, 3}, // ~2520 with the system
		{"claude-haiku-4-5-20251001", 5000, 0}, // 4096 for Haiku 4.5
		{"claude-opus-4-5-20251101", 9000, 3},  // 4096 for Opus 4.5: ~4520 with the system
		{"claude-opus-4-1-20250805", 5000, 4},  // 1024
	} {
		marks := cacheMarks(t, encodeForTest(t, agentRequest(c.model, c.bytes)))
		if len(marks) != c.want {
			t.Errorf("%s with %d bytes: marks %v, want %d", c.model, c.bytes, markPaths(marks), c.want)
		}
	}
}

// prompt_cache: off (AutoCache false) adds nothing.
func TestPromptCacheBreakpointsOffAddsNone(t *testing.T) {
	req := agentRequest("claude-sonnet-4-5", 8000)
	req.AutoCache = false
	if marks := cacheMarks(t, encodeForTest(t, req)); len(marks) != 0 {
		t.Fatalf("marks %v with AutoCache off", marks)
	}
}

// The caller's own marks are kept as sent, the gateway adds none where the caller marked, and
// the total never passes Anthropic's 4.
func TestPromptCacheBreakpointsCallerMarksWinAndCount(t *testing.T) {
	oneHour := json.RawMessage(`{"type":"ephemeral","ttl":"1h"}`)
	five := json.RawMessage(`{"type":"ephemeral","ttl":"5m"}`)

	// A caller mark in the system prompt: no automatic system mark; tools and user turns marked.
	req := agentRequest("claude-sonnet-4-5", 8000)
	req.Messages[0].Content[0].CacheControl = five
	marks := cacheMarks(t, encodeForTest(t, req))
	if got, want := markPaths(marks), []string{"messages[0].content[0]", "messages[2].content[0]", "system[0]", "tools[1]"}; !slices.Equal(got, want) {
		t.Fatalf("caller marked system[0]: marks at %v, want %v", got, want)
	}
	if marks["system[0]"] != string(five) {
		t.Fatalf("the caller's mark became %s", marks["system[0]"])
	}

	// Three caller marks leave one place: the last user turn comes first.
	req = agentRequest("claude-sonnet-4-5", 8000)
	req.Messages = append(req.Messages[:2], []providers.Message{
		{Role: providers.RoleUser, Content: []providers.Part{{Type: providers.PartText, Text: "a", CacheControl: five}}},
		{Role: providers.RoleAssistant, Content: []providers.Part{{Type: providers.PartText, Text: "b", CacheControl: five}}},
		{Role: providers.RoleUser, Content: []providers.Part{{Type: providers.PartText, Text: "c", CacheControl: five}}},
		{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("d")}},
		{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("e")}},
	}...)
	marks = cacheMarks(t, encodeForTest(t, req))
	if got, want := markPaths(marks), []string{"messages[0].content[0]", "messages[1].content[0]", "messages[2].content[0]", "messages[4].content[0]"}; !slices.Equal(got, want) {
		t.Fatalf("three caller marks: marks at %v, want %v", got, want)
	}

	// A caller's one-hour mark late in the prompt: no five-minute mark may come before it.
	req = agentRequest("claude-sonnet-4-5", 8000)
	req.Messages[4].Content[0].CacheControl = oneHour // the tool result, the last user turn
	marks = cacheMarks(t, encodeForTest(t, req))
	if got, want := markPaths(marks), []string{"messages[2].content[0].content[0]"}; !slices.Equal(got, want) {
		t.Fatalf("a caller's 1h mark on the last turn: marks at %v, want only it (%v)", got, want)
	}
}

// Every count of marks stays within Anthropic's limit, whatever the caller sent.
func TestPromptCacheBreakpointsNeverMoreThanFour(t *testing.T) {
	for callerMarks := range 6 {
		req := agentRequest("claude-sonnet-4-5", 8000)
		for i := range callerMarks {
			req.Messages = append(req.Messages,
				providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("ok")}},
				providers.Message{Role: providers.RoleUser, Content: []providers.Part{{Type: providers.PartText,
					Text: fmt.Sprint("turn ", i), CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}}})
		}
		req.Messages = append(req.Messages,
			providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("ok")}},
			providers.Message{Role: providers.RoleUser, Content: []providers.Part{providers.TextPart("last")}})
		n := len(cacheMarks(t, encodeForTest(t, req)))
		if want := max(callerMarks, 4); n != want {
			t.Errorf("%d caller marks: %d marks in all, want %d", callerMarks, n, want)
		}
	}
}

// An agent loop's next turn marks again the block the previous turn marked last, so Anthropic
// reads the cache written then at that exact place, even when the turn in between added more
// blocks (here 25: a text and 12 parallel calls, then 12 results) than Anthropic looks back for.
func TestPromptCacheBreakpointsNextTurnMarksWherePreviousEnded(t *testing.T) {
	req := agentRequest("claude-sonnet-4-5", 8000)
	marked := func(body []byte) []string {
		var w struct {
			Messages []struct {
				Content []struct {
					Type         string          `json:"type"`
					ToolUseID    string          `json:"tool_use_id"`
					CacheControl json.RawMessage `json:"cache_control"`
				} `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range w.Messages {
			for _, b := range m.Content {
				if b.CacheControl != nil {
					ids = append(ids, b.Type+":"+b.ToolUseID)
				}
			}
		}
		return ids
	}
	before := marked(encodeForTest(t, req))

	next := providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("Reading them all.")}}
	for i := range 12 {
		next.ToolCalls = append(next.ToolCalls, providers.ToolCall{ID: fmt.Sprint("call_p", i), Name: "read", Arguments: `{}`})
	}
	req.Messages = append(req.Messages, next)
	for i := range 12 {
		req.Messages = append(req.Messages, providers.Message{Role: providers.RoleTool, ToolCallID: fmt.Sprint("call_p", i),
			Content: []providers.Part{providers.TextPart("contents")}})
	}
	after := marked(encodeForTest(t, req))
	if len(before) != 2 || len(after) != 2 || after[0] != before[1] || after[1] != "tool_result:call_p11" {
		t.Fatalf("marks before %v, after %v: the next turn must mark %s again and its own last result", before, after, before[len(before)-1])
	}
}
