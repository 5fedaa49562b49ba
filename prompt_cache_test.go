package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Prompt caching through translation (#24): an agent loop speaking OpenAI or Gemini to an
// Anthropic backend gets cache breakpoints placed by the gateway, and sees Anthropic's cache
// usage in its own protocol's fields.

// cacheMock is an Anthropic upstream that records where each request carries cache_control and
// answers turn n with n-1 × 2000 cache-read tokens, 500 cache-write tokens (100 of them for an
// hour) and 7 uncached input tokens.
type cacheMock struct {
	mu    sync.Mutex
	marks [][]string // per request, the paths that carry cache_control
	roles [][]string // per request, each message's role and its last block's type
	// values are, per request, each mark's path and JSON as "path=value".
	values [][]string
}

const (
	cacheMockWrite   = 500
	cacheMockWrite1h = 100
	cacheMockInput   = 7
	cacheMockOutput  = 5
)

func cacheMockRead(turn int) int { return 2000 * (turn - 1) }

func (m *cacheMock) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/messages" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			Stream   bool                         `json:"stream"`
			Tools    []map[string]json.RawMessage `json:"tools"`
			System   []map[string]json.RawMessage `json:"system"`
			Messages []struct {
				Role    string                       `json:"role"`
				Content []map[string]json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("upstream got a body that is not a Messages request: %v", err)
			http.Error(w, "bad body", 400)
			return
		}
		var marks, roles, values []string
		note := func(path string, b map[string]json.RawMessage) {
			if cc, ok := b["cache_control"]; ok {
				marks = append(marks, path)
				values = append(values, path+"="+string(cc))
			}
		}
		for i, b := range body.Tools {
			note(fmt.Sprintf("tools[%d]", i), b)
		}
		for i, b := range body.System {
			note(fmt.Sprintf("system[%d]", i), b)
		}
		for i, msg := range body.Messages {
			for j, b := range msg.Content {
				note(fmt.Sprintf("messages[%d].content[%d]", i, j), b)
			}
			var last string
			if n := len(msg.Content); n > 0 {
				json.Unmarshal(msg.Content[n-1]["type"], &last)
			}
			roles = append(roles, msg.Role+":"+last)
		}
		m.mu.Lock()
		m.marks = append(m.marks, marks)
		m.roles = append(m.roles, roles)
		m.values = append(m.values, values)
		turn := len(m.marks)
		m.mu.Unlock()

		usage := fmt.Sprintf(`"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,`+
			`"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d}`,
			cacheMockInput, cacheMockWrite, cacheMockRead(turn), cacheMockWrite-cacheMockWrite1h, cacheMockWrite1h)
		if !body.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"msg_%d","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"turn %d done"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{%s,"output_tokens":%d}}`,
				turn, turn, usage, cacheMockOutput)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range [][2]string{
			{"message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_%d","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{%s,"output_tokens":1}}}`, turn, usage)},
			{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
			{"content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"turn %d done"}}`, turn)},
			{"content_block_stop", `{"type":"content_block_stop","index":0}`},
			{"message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, cacheMockOutput)},
			{"message_stop", `{"type":"message_stop"}`},
		} {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev[0], ev[1])
		}
	}
}

func (m *cacheMock) last() (marks, roles []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.marks[len(m.marks)-1], m.roles[len(m.roles)-1]
}

// lastValues is the last request's marks as "path=value", sorted.
func (m *cacheMock) lastValues() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := slices.Clone(m.values[len(m.values)-1])
	slices.Sort(v)
	return v
}

// longText is about n tokens of text at the gateway's four bytes a token.
func longText(n int) string { return strings.Repeat("lorem ipsum dolor sit amet ", n*4/27+1) }

// The conversation turns an agent loop sends, in OpenAI's Chat Completions and in Gemini's form:
// long tools and system prompt, then a user task, a tool call and its result, an answer and a
// follow-up question. Each turn resends the whole conversation.
func openAITurns(stream bool, systemTokens int) []string {
	sys := jsonStr(longText(systemTokens))
	tools := `[{"type":"function","function":{"name":"read_file","description":` + jsonStr(longText(systemTokens)) +
		`,"parameters":{"type":"object","properties":{"path":{"type":"string"}}}}},` +
		`{"type":"function","function":{"name":"list_dir","description":"list a directory","parameters":{"type":"object"}}}]`
	head := `{"model":"claude-sonnet-4-5","stream":` + fmt.Sprint(stream) + `,"stream_options":` + map[bool]string{true: `{"include_usage":true}`, false: `null`}[stream] +
		`,"tools":` + tools + `,"messages":[{"role":"system","content":` + sys + `},{"role":"user","content":"fix the failing test"}`
	call := `,{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a_test.go\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"package a"}`
	answer := `,{"role":"assistant","content":"fixed it"},{"role":"user","content":"now run it"}`
	return []string{head + `]}`, head + call + `]}`, head + call + answer + `]}`}
}

func geminiTurns(systemTokens int) []string {
	head := `{"systemInstruction":{"parts":[{"text":` + jsonStr(longText(systemTokens)) + `}]},` +
		`"tools":[{"functionDeclarations":[{"name":"read_file","description":` + jsonStr(longText(systemTokens)) +
		`,"parametersJsonSchema":{"type":"object","properties":{"path":{"type":"string"}}}},{"name":"list_dir","description":"list a directory"}]}],` +
		`"contents":[{"role":"user","parts":[{"text":"fix the failing test"}]}`
	call := `,{"role":"model","parts":[{"functionCall":{"name":"read_file","args":{"path":"a_test.go"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"output":"package a"}}}]}`
	answer := `,{"role":"model","parts":[{"text":"fixed it"}]},{"role":"user","parts":[{"text":"now run it"}]}`
	return []string{head + `]}`, head + call + `]}`, head + call + answer + `]}`}
}

// wantCacheMarks is where the gateway must place breakpoints in turn n (1-based) of the
// conversations above: the last tool, the last system block (the client's injected prompt is
// the first), the last block of the last user turn, and from turn 2 on the last block of the
// user turn before it (the one the previous turn marked last).
func wantCacheMarks(turn int) []string {
	switch turn {
	case 1:
		return []string{"messages[0].content[0]", "system[1]", "tools[1]"}
	case 2:
		return []string{"messages[0].content[0]", "messages[2].content[0]", "system[1]", "tools[1]"}
	}
	return []string{"messages[2].content[0]", "messages[4].content[0]", "system[1]", "tools[1]"}
}

// usageSeen is the cache usage a client read in its own protocol.
type usageSeen struct {
	prompt, cached, total int
}

func openAIUsage(t *testing.T, stream bool, body string) usageSeen {
	t.Helper()
	var u struct {
		Usage *struct {
			PromptTokens        int `json:"prompt_tokens"`
			TotalTokens         int `json:"total_tokens"`
			PromptTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	chunks := []string{body}
	if stream {
		chunks = sseData(body)
	}
	for _, c := range chunks {
		if c == "[DONE]" {
			continue
		}
		u.Usage = nil
		if err := json.Unmarshal([]byte(c), &u); err != nil {
			t.Fatalf("answer chunk: %v\n%s", err, c)
		}
		if u.Usage != nil {
			return usageSeen{u.Usage.PromptTokens, u.Usage.PromptTokensDetails.CachedTokens, u.Usage.TotalTokens}
		}
	}
	t.Fatalf("no usage in the answer:\n%s", body)
	return usageSeen{}
}

func geminiUsage(t *testing.T, stream bool, body string) usageSeen {
	t.Helper()
	chunks := []string{body}
	if stream {
		chunks = sseData(body)
	}
	var seen *usageSeen
	for _, c := range chunks {
		var r struct {
			UsageMetadata *struct {
				PromptTokenCount        int `json:"promptTokenCount"`
				CachedContentTokenCount int `json:"cachedContentTokenCount"`
				TotalTokenCount         int `json:"totalTokenCount"`
			} `json:"usageMetadata"`
		}
		if err := json.Unmarshal([]byte(c), &r); err != nil {
			t.Fatalf("answer chunk: %v\n%s", err, c)
		}
		if u := r.UsageMetadata; u != nil {
			seen = &usageSeen{u.PromptTokenCount, u.CachedContentTokenCount, u.TotalTokenCount}
		}
	}
	if seen == nil {
		t.Fatalf("no usageMetadata in the answer:\n%s", body)
	}
	return *seen
}

func sseData(body string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

// TestPromptCacheBreakpointsMultiTurnFromOpenAIAndGemini drives a three-turn agent conversation
// through the OpenAI and the Gemini front doors, streamed and not, to an Anthropic backend: the
// upstream receives breakpoints at the tools, the system prompt and the last user turn (never
// more than 4), and each client reads Anthropic's cache usage in its own protocol — OpenAI's
// prompt_tokens and Gemini's promptTokenCount include the cached and cache-written tokens,
// cached_tokens / cachedContentTokenCount are the cache reads. The request log and /v1/usage
// count the cache reads.
func TestPromptCacheBreakpointsMultiTurnFromOpenAIAndGemini(t *testing.T) {
	mock := &cacheMock{}
	up := newRelMock(t, mock.handler(t))
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, up.URL, map[string]any{"system_prompt": "You work for ACME."})

	type convo struct {
		door   relDoor
		stream bool
		turns  []string
		usage  func(*testing.T, bool, string) usageSeen
	}
	gemStream := relGemini
	var convos []convo
	for _, stream := range []bool{false, true} {
		convos = append(convos,
			convo{relOpenAI, stream, openAITurns(stream, 1500), openAIUsage},
			convo{gemStream, stream, geminiTurns(1500), geminiUsage})
	}
	wantCached := 0
	for _, c := range convos {
		mock.mu.Lock()
		mock.marks, mock.roles, mock.values = nil, nil, nil
		mock.mu.Unlock()
		for i, body := range c.turns {
			turn := i + 1
			resp, out := g.call(c.door, beAnthropic, c.stream, body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream=%t turn %d: %d %s", c.door.name, c.stream, turn, resp.StatusCode, out)
			}
			marks, roles := mock.last()
			slices.Sort(marks)
			if want := wantCacheMarks(turn); !slices.Equal(marks, want) {
				t.Errorf("%s stream=%t turn %d: breakpoints at %v, want %v (messages %v)", c.door.name, c.stream, turn, marks, want, roles)
			}
			if len(marks) > 4 {
				t.Errorf("%s turn %d: %d breakpoints", c.door.name, turn, len(marks))
			}
			for _, v := range mock.lastValues() {
				if !strings.HasSuffix(v, `={"type":"ephemeral"}`) {
					t.Errorf("%s turn %d: mark %s", c.door.name, turn, v)
				}
			}
			u := c.usage(t, c.stream, out)
			wantPrompt := cacheMockInput + cacheMockWrite + cacheMockRead(turn)
			if u.prompt != wantPrompt || u.cached != cacheMockRead(turn) || u.total != wantPrompt+cacheMockOutput {
				t.Errorf("%s stream=%t turn %d: client saw prompt %d cached %d total %d, want %d, %d, %d",
					c.door.name, c.stream, turn, u.prompt, u.cached, u.total, wantPrompt, cacheMockRead(turn), wantPrompt+cacheMockOutput)
			}
			wantCached += cacheMockRead(turn)
		}
	}

	d := g.openDB()
	var rows int
	relWaitFor(t, "the request log", 10*time.Second, func() bool { rows = len(d.requestLogs()); return rows == 12 })
	logged := 0
	for _, r := range d.requestLogs() {
		logged += int(r.CachedTokens)
		if r.InputTokens < r.CachedTokens+cacheMockWrite {
			t.Errorf("log row %d: input %d does not include cached %d and cache writes", r.ID, r.InputTokens, r.CachedTokens)
		}
	}
	if logged != wantCached {
		t.Errorf("request log cached tokens %d, want %d", logged, wantCached)
	}
	req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/usage", nil)
	req.Header.Set("Authorization", "Bearer "+g.keys[beAnthropic])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out := string(raw); !strings.Contains(out, fmt.Sprintf(`"cached_tokens":%d`, wantCached)) {
		t.Errorf("/v1/usage does not show %d cached tokens: %s", wantCached, out)
	}
	// The dashboard's numbers: today's cached input next to all input, for the cache hit ratio.
	_, stats := g.admin(http.MethodGet, "/admin/api/v1/stats", nil)
	var snap struct {
		Today struct {
			InputTokens  int `json:"input_tokens"`
			CachedTokens int `json:"cached_tokens"`
		} `json:"today"`
	}
	json.Unmarshal([]byte(stats), &snap)
	if snap.Today.CachedTokens != wantCached || snap.Today.InputTokens != logged+12*(cacheMockInput+cacheMockWrite) {
		t.Errorf("dashboard today: %+v, want %d cached of %d input", snap.Today, wantCached, logged+12*(cacheMockInput+cacheMockWrite))
	}
}

// A short conversation gets no breakpoint (Anthropic would not cache it), and a client with
// prompt_cache off gets none on a long one.
func TestPromptCacheBreakpointsNoneOnShortPromptsOrWhenOff(t *testing.T) {
	mock := &cacheMock{}
	up := newRelMock(t, mock.handler(t))
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, up.URL, nil)
	for _, body := range append(openAITurns(false, 100), geminiTurns(100)...) {
		d := relOpenAI
		if strings.HasPrefix(body, `{"systemInstruction"`) {
			d = relGemini
		}
		if resp, out := g.call(d, beAnthropic, false, body); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		if marks, _ := mock.last(); len(marks) != 0 {
			t.Errorf("%s: breakpoints %v on a prompt of about 250 tokens", d.name, marks)
		}
	}

	g.createClient(beAnthropic, up.URL, map[string]any{"name": "no-cache", "prompt_cache": "off"})
	for _, body := range openAITurns(true, 3000) {
		if resp, out := g.call(relOpenAI, beAnthropic, true, body); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		if marks, _ := mock.last(); len(marks) != 0 {
			t.Errorf("prompt_cache off: breakpoints %v", marks)
		}
	}
}

// An OpenAI client that marks its own blocks (Anthropic's cache_control on content parts, the
// convention OpenRouter's clients follow) keeps its marks, with their TTL; the gateway adds marks
// only in the parts the caller left unmarked, and never more than 4 in all.
func TestPromptCacheBreakpointsCallerMarksFromOpenAIWin(t *testing.T) {
	mock := &cacheMock{}
	up := newRelMock(t, mock.handler(t))
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, up.URL, nil)

	sys := jsonStr(longText(1500))
	tools := `[{"type":"function","function":{"name":"read_file","description":` + jsonStr(longText(1500)) + `,"parameters":{"type":"object"}}}]`
	hour := `{"type":"ephemeral","ttl":"1h"}`
	body := `{"model":"claude-sonnet-4-5","tools":` + tools + `,"messages":[` +
		`{"role":"system","content":[{"type":"text","text":` + sys + `,"cache_control":` + hour + `}]},` +
		`{"role":"user","content":[{"type":"text","text":"first question","cache_control":{"type":"ephemeral"}}]},` +
		`{"role":"assistant","content":"first answer"},` +
		`{"role":"user","content":[{"type":"text","text":"second question","cache_control":{"type":"ephemeral"}}]},` +
		`{"role":"assistant","content":"second answer"},` +
		`{"role":"user","content":"third question"}]}`
	if resp, out := g.call(relOpenAI, beAnthropic, false, body); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	want := []string{
		`messages[0].content[0]={"type":"ephemeral"}`,
		`messages[2].content[0]={"type":"ephemeral"}`,
		`messages[4].content[0]={"type":"ephemeral"}`, // the gateway's: the last user turn
		`system[0]=` + hour,
	}
	if got := mock.lastValues(); !slices.Equal(got, want) {
		t.Errorf("upstream marks:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
