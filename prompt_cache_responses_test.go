package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// relResponses is the OpenAI Responses front door.
var relResponses = relDoor{
	name: "responses",
	path: func(bool) string { return "/v1/responses" },
	body: func(stream bool) string {
		return `{"model":"m","input":"hello there","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
	},
	auth: func(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) },
}

// responsesTurns is the agent conversation of openAITurns the way a Responses client without
// stored state (Codex: store false) sends it: the whole input every turn, with its
// prompt_cache_key.
func responsesTurns(stream bool, systemTokens int) []string {
	tools := `[{"type":"function","name":"read_file","description":` + jsonStr(longText(systemTokens)) +
		`,"parameters":{"type":"object","properties":{"path":{"type":"string"}}}},` +
		`{"type":"function","name":"list_dir","description":"list a directory","parameters":{"type":"object"}}]`
	head := `{"model":"claude-sonnet-4-5","store":false,"prompt_cache_key":"conv-42","stream":` + map[bool]string{true: "true", false: "false"}[stream] +
		`,"instructions":` + jsonStr(longText(systemTokens)) + `,"tools":` + tools +
		`,"input":[{"role":"user","content":"fix the failing test"}`
	call := `,{"type":"function_call","call_id":"call_1","name":"read_file","arguments":"{\"path\":\"a_test.go\"}"},` +
		`{"type":"function_call_output","call_id":"call_1","output":"package a"}`
	answer := `,{"type":"message","role":"assistant","content":[{"type":"output_text","text":"fixed it"}]},{"role":"user","content":"now run it"}`
	return []string{head + `]}`, head + call + `]}`, head + call + answer + `]}`}
}

// responsesUsage reads the usage of a Responses answer: the object's, or the one of the
// response.completed event of a stream. It fails the test on a stream whose response.created or
// response.in_progress already claims token counts.
func responsesUsage(t *testing.T, stream bool, body string) (seen usageSeen, cacheWrite int) {
	t.Helper()
	type usage struct {
		InputTokens        int `json:"input_tokens"`
		OutputTokens       int `json:"output_tokens"`
		TotalTokens        int `json:"total_tokens"`
		InputTokensDetails struct {
			CachedTokens     int `json:"cached_tokens"`
			CacheWriteTokens int `json:"cache_write_tokens"`
		} `json:"input_tokens_details"`
	}
	var obj struct {
		Status string `json:"status"`
		Usage  *usage `json:"usage"`
	}
	if !stream {
		if err := json.Unmarshal([]byte(body), &obj); err != nil || obj.Usage == nil {
			t.Fatalf("answer without usage (%v):\n%s", err, body)
		}
	} else {
		for _, d := range sseData(body) {
			var ev struct {
				Type     string          `json:"type"`
				Response json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal([]byte(d), &ev); err != nil {
				t.Fatalf("stream event: %v\n%s", err, d)
			}
			if ev.Type == "response.completed" {
				if err := json.Unmarshal(ev.Response, &obj); err != nil || obj.Usage == nil {
					t.Fatalf("response.completed without usage (%v):\n%s", err, d)
				}
			}
		}
		if obj.Usage == nil {
			t.Fatalf("no response.completed in the stream:\n%s", body)
		}
	}
	if obj.Status != "completed" {
		t.Errorf("status %q, want completed", obj.Status)
	}
	u := obj.Usage
	if u.TotalTokens != u.InputTokens+u.OutputTokens {
		t.Errorf("total_tokens %d is not input %d + output %d", u.TotalTokens, u.InputTokens, u.OutputTokens)
	}
	return usageSeen{u.InputTokens, u.InputTokensDetails.CachedTokens, u.TotalTokens}, u.InputTokensDetails.CacheWriteTokens
}

// TestPromptCacheBreakpointsMultiTurnFromResponses drives the three-turn agent conversation of
// TestPromptCacheBreakpointsMultiTurnFromOpenAIAndGemini through the Responses front door,
// streamed and not, to an Anthropic backend: the upstream receives the gateway's breakpoints at
// the tools, the system prompt and the last two user turns (never more than 4, none on the short
// user turns' neighbours), and no prompt_cache_key (Anthropic has none); the client reads
// input_tokens including the cache reads and writes, input_tokens_details.cached_tokens the cache
// reads and cache_write_tokens the writes, as OpenAI defines them.
func TestPromptCacheBreakpointsMultiTurnFromResponses(t *testing.T) {
	mock := &cacheMock{}
	up := newRelMock(t, mock.handler(t))
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, up.URL, map[string]any{"system_prompt": "You work for ACME."})

	for _, stream := range []bool{false, true} {
		mock.mu.Lock()
		mock.marks, mock.roles, mock.values, mock.bodies = nil, nil, nil, nil
		mock.mu.Unlock()
		for i, body := range responsesTurns(stream, 1500) {
			turn := i + 1
			resp, out := g.call(relResponses, beAnthropic, stream, body)
			if resp.StatusCode != 200 {
				t.Fatalf("stream=%t turn %d: %d %s", stream, turn, resp.StatusCode, out)
			}
			marks, roles := mock.last()
			slices.Sort(marks)
			if want := wantCacheMarks(turn); !slices.Equal(marks, want) {
				t.Errorf("stream=%t turn %d: breakpoints at %v, want %v (messages %v)", stream, turn, marks, want, roles)
			}
			if len(marks) > 4 {
				t.Errorf("stream=%t turn %d: %d breakpoints", stream, turn, len(marks))
			}
			for _, v := range mock.lastValues() {
				if !strings.HasSuffix(v, `={"type":"ephemeral"}`) {
					t.Errorf("stream=%t turn %d: mark %s", stream, turn, v)
				}
			}
			if sent := mock.lastBody(); strings.Contains(sent, "prompt_cache_key") || strings.Contains(sent, "conv-42") {
				t.Errorf("stream=%t turn %d: Anthropic was sent the prompt_cache_key:\n%.300s", stream, turn, sent)
			}
			u, written := responsesUsage(t, stream, out)
			wantInput := cacheMockInput + cacheMockWrite + cacheMockRead(turn)
			if u.prompt != wantInput || u.cached != cacheMockRead(turn) || u.total != wantInput+cacheMockOutput {
				t.Errorf("stream=%t turn %d: client saw input_tokens %d cached_tokens %d total_tokens %d, want %d, %d, %d",
					stream, turn, u.prompt, u.cached, u.total, wantInput, cacheMockRead(turn), wantInput+cacheMockOutput)
			}
			if written != cacheMockWrite {
				t.Errorf("stream=%t turn %d: cache_write_tokens %d, want %d", stream, turn, written, cacheMockWrite)
			}
		}
	}
}

// A Responses or Chat Completions client's prompt_cache_key reaches an OpenAI Chat Completions backend, which has the
// same field with the same meaning, and neither an Anthropic nor a Gemini backend, which have no
// such field (their caches follow the prompt's prefix; Anthropic's breakpoints are the gateway's
// or the caller's cache_control). The answer echoes the key whatever the backend, as OpenAI does.
func TestPromptCacheKeyReachesOnlyOpenAIBackends(t *testing.T) {
	replies := map[string]string{
		beOpenAI: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,` +
			`"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`,
		beAnthropic: anthropicAnswer("ok"),
		beGemini: `{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],` +
			`"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}`,
	}
	g := startRelGateway(t, nil, "")
	ups := map[string]*recordingUpstream{}
	for _, b := range relBackends {
		ups[b] = &recordingUpstream{}
		reply := replies[b]
		g.createClient(b, newRelMock(t, ups[b].handler(func(int) string { return reply })).URL, nil)
	}
	for _, b := range relBackends {
		resp, out := postResponses(t, g, g.keys[b], "/v1/responses",
			`{"model":"m","store":false,"prompt_cache_key":"conv-42","input":"hello"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", b, resp.StatusCode, out)
		}
		sent := ups[b].last()
		if got, want := strings.Contains(sent, `"prompt_cache_key":"conv-42"`), b == beOpenAI; got != want {
			t.Errorf("%s backend: prompt_cache_key sent upstream %t, want %t:\n%s", b, got, want, sent)
		}
		if b != beOpenAI && strings.Contains(sent, "conv-42") {
			t.Errorf("%s backend was sent the key:\n%s", b, sent)
		}
		var obj struct {
			PromptCacheKey *string `json:"prompt_cache_key"`
		}
		if json.Unmarshal([]byte(out), &obj); obj.PromptCacheKey == nil || *obj.PromptCacheKey != "conv-42" {
			t.Errorf("%s backend: the answer does not echo the prompt_cache_key:\n%s", b, out)
		}
		// A Chat Completions client's key goes the same ways.
		resp, out = g.call(relOpenAI, b, false, `{"model":"m","prompt_cache_key":"conv-43","messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("chat → %s: %d %s", b, resp.StatusCode, out)
		}
		if got, want := strings.Contains(ups[b].last(), `"prompt_cache_key":"conv-43"`), b == beOpenAI; got != want ||
			b != beOpenAI && strings.Contains(ups[b].last(), "conv-43") {
			t.Errorf("chat → %s backend: prompt_cache_key sent upstream %t, want %t:\n%s", b, got, want, ups[b].last())
		}
	}
}
