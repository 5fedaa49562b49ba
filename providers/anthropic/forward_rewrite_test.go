package anthropic

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestPeekRequest(t *testing.T) {
	body, _ := os.ReadFile("testdata/decode_claude_code.json")
	info, err := PeekRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if info.Model != "claude-sonnet-4-5" || !info.Stream || info.MaxTokens != 32000 {
		t.Errorf("info = %+v", info)
	}
	if info.InputTokens < 60 || info.InputTokens > 200 {
		t.Errorf("estimate %d is off for a ~500-byte prompt", info.InputTokens)
	}

	// chars/4, and a flat estimate per image whatever the size of its data.
	text := strings.Repeat("a", 400)
	img := `{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + strings.Repeat("A", 100000) + `"}}`
	b := `{"model":"m","max_tokens":10,"system":"` + text + `","messages":[{"role":"user","content":[{"type":"text","text":"` + text + `"},` + img + `]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"` + text + `"},` + img + `]}]}]}`
	info, err = PeekRequest([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*100 + 2*imageTokens; info.InputTokens != want {
		t.Errorf("estimate %d, want %d", info.InputTokens, want)
	}

	for _, tt := range []struct{ body, want string }{
		{`{"model":`, "invalid JSON body"},
		{`"x"`, "must be a JSON object"},
		{`{"model":5}`, "model: invalid type"},
		{`{"max_tokens":1.5}`, "max_tokens: Input should be a valid integer"},
	} {
		_, err := PeekRequest([]byte(tt.body))
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, tt.want) {
			t.Errorf("PeekRequest(%s) = %v, want %q", tt.body, err, tt.want)
		}
	}
	info, _ = PeekRequest([]byte(`{"max_tokens":1e3}`))
	if info.MaxTokens != 1000 {
		t.Errorf("max_tokens 1e3 peeked as %d", info.MaxTokens)
	}
	info, _ = PeekRequest([]byte(`{"messages":[]}`))
	if info.MaxTokens != 0 {
		t.Errorf("missing max_tokens peeked as %d", info.MaxTokens)
	}
}

func TestRewriteRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		rw   Rewrite
		want string
	}{
		{"nothing to do keeps the body", `{ "model" : "a", "max_tokens": 10 }`, Rewrite{MaxTokens: 100},
			`{ "model" : "a", "max_tokens": 10 }`},
		{"model replaced, other bytes kept", `{"model":"a",  "temperature": 0, "x":[1, 2]}`, Rewrite{Model: "claude-sonnet-4-5"},
			`{"model":"claude-sonnet-4-5",  "temperature": 0, "x":[1, 2]}`},
		{"max_tokens clamped", `{"max_tokens": 32000,"stream":true}`, Rewrite{MaxTokens: 8192},
			`{"max_tokens": 8192,"stream":true}`},
		{"max_tokens in exponent form clamped", `{"max_tokens":1e6}`, Rewrite{MaxTokens: 8192}, `{"max_tokens":8192}`},
		{"max_tokens null set", `{"max_tokens":null}`, Rewrite{MaxTokens: 8192}, `{"max_tokens":8192}`},
		{"missing fields inserted first", `{"messages":[]}`, Rewrite{Model: "m", MaxTokens: 5, System: "S"},
			`{"model":"m","max_tokens":5,"system":"S","messages":[]}`},
		{"empty object", ` {} `, Rewrite{Model: "m"}, ` {"model":"m"} `},
		{"string system becomes blocks", `{"system":"Caller \"quoted\"","messages":[]}`, Rewrite{System: "Gateway"},
			`{"system":[{"type":"text","text":"Gateway"},{"type":"text","text":"Caller \"quoted\""}],"messages":[]}`},
		{"empty string system", `{"system":""}`, Rewrite{System: "G"}, `{"system":"G"}`},
		{"null system", `{"system":null}`, Rewrite{System: "G"}, `{"system":"G"}`},
		{"block system keeps cache_control", `{"system":[ {"type":"text","text":"C","cache_control":{"type":"ephemeral"}} ]}`, Rewrite{System: "G"},
			`{"system":[{"type":"text","text":"G"}, {"type":"text","text":"C","cache_control":{"type":"ephemeral"}} ]}`},
		{"empty block system", `{"system":[ ]}`, Rewrite{System: "G"}, `{"system":[{"type":"text","text":"G"} ]}`},
		{"duplicate keys all rewritten", `{"model":"a","model":"b"}`, Rewrite{Model: "c"}, `{"model":"c","model":"c"}`},
		{"nested look-alikes untouched", `{"metadata":{"model":"x","max_tokens":99999},"tools":[{"system":"y"}],"max_tokens":1}`, Rewrite{Model: "m", MaxTokens: 5, System: "S"},
			`{"model":"m","system":"S","metadata":{"model":"x","max_tokens":99999},"tools":[{"system":"y"}],"max_tokens":1}`},
		{"escaped key", `{"mod\u0065l":"a"}`, Rewrite{Model: "m"}, `{"mod\u0065l":"m"}`},
		{"strings with braces", `{"a":"}{\"]","model":"x"}`, Rewrite{Model: "m"}, `{"a":"}{\"]","model":"m"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteRequest([]byte(tt.body), tt.rw)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Error("result is not JSON")
			}
		})
	}
}

func TestRewriteRequestClaudeCodeBody(t *testing.T) {
	body, _ := os.ReadFile("testdata/decode_claude_code.json")
	got, err := RewriteRequest(body, Rewrite{Model: "claude-opus-4-1", System: "Injected", MaxTokens: 8192})
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeRequest(got)
	if err != nil {
		t.Fatal(err)
	}
	sys := req.Messages[0].Content
	if req.Model != "claude-opus-4-1" || req.MaxTokens != 8192 || len(sys) != 3 || sys[0].Text != "Injected" ||
		sys[1].Text != "You are Claude Code." || string(sys[2].CacheControl) != `{"type": "ephemeral"}` {
		t.Errorf("rewritten request: %s", dump(t, req))
	}
	// Everything after the system array is byte-identical.
	_, tail, _ := strings.Cut(string(body), `"messages"`)
	if !strings.HasSuffix(string(got), tail) {
		t.Error("bytes after system changed")
	}
}

func TestRewriteRequestErrors(t *testing.T) {
	for _, tt := range []struct {
		body string
		rw   Rewrite
		want string
	}{
		{`{"model":`, Rewrite{Model: "m"}, "invalid JSON body"},
		{`[1,2]`, Rewrite{Model: "m"}, "must be a JSON object"},
		{`{"max_tokens":"lots"}`, Rewrite{MaxTokens: 5}, "max_tokens: Input should be a valid integer"},
		{`{"system":5}`, Rewrite{System: "S"}, "system: Input should be"},
	} {
		_, err := RewriteRequest([]byte(tt.body), tt.rw)
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, tt.want) {
			t.Errorf("RewriteRequest(%s) = %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestUsageSniffer(t *testing.T) {
	sse, _ := os.ReadFile("testdata/stream_parallel_tools.sse")
	var s UsageSniffer
	r := providers.NewSSEReader(strings.NewReader(string(sse)))
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		s.Observe(ev.Name, ev.Data)
	}
	want := providers.Usage{InputTokens: 331, OutputTokens: 89, CachedTokens: 300, CacheCreationTokens: 10}
	if !s.Seen() || s.Usage() != want || s.StopReason() != "tool_use" || s.FinishReason() != providers.FinishToolCalls || s.Err() != nil {
		t.Errorf("usage %+v stop %q finish %q err %v", s.Usage(), s.StopReason(), s.FinishReason(), s.Err())
	}

	// Without event names, and with an in-band error.
	var s2 UsageSniffer
	s2.Observe("", []byte(`{"type":"message_start","message":{"usage":{"input_tokens":5}}}`))
	s2.Observe("", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the \"usage\" of \"error\""}}`))
	s2.Observe("", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	if s2.Usage().InputTokens != 5 || s2.Err() == nil || s2.Err().Status() != 529 || s2.FinishReason() != "" {
		t.Errorf("usage %+v err %v", s2.Usage(), s2.Err())
	}
}

func TestUsageFromEvent(t *testing.T) {
	tests := []struct {
		name, data string
		want       providers.Usage
		ok         bool
	}{
		{"message_start", `{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}}`,
			providers.Usage{InputTokens: 100, CachedTokens: 90, OutputTokens: 1}, true},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}`, providers.Usage{OutputTokens: 42}, true},
		{"content_block_delta", `{"type":"content_block_delta","delta":{"type":"text_delta","text":"\"message_start\""}}`, providers.Usage{}, false},
		{"ping", `{"type":"ping"}`, providers.Usage{}, false},
		{"message_delta", `not json`, providers.Usage{}, false},
	}
	for _, tt := range tests {
		u, ok := UsageFromEvent(tt.name, []byte(tt.data))
		if u != tt.want || ok != tt.ok {
			t.Errorf("%s: %+v %v, want %+v %v", tt.name, u, ok, tt.want, tt.ok)
		}
	}
}

func TestUsageFromBody(t *testing.T) {
	body, _ := os.ReadFile("testdata/response_tools.json")
	u, finish, ok := UsageFromBody(body)
	if !ok || finish != providers.FinishToolCalls || u != (providers.Usage{InputTokens: 2121, OutputTokens: 120, CachedTokens: 2000, CacheCreationTokens: 100}) {
		t.Errorf("usage %+v finish %q ok %v", u, finish, ok)
	}
	if _, _, ok := UsageFromBody([]byte(`{"type":"error","error":{"type":"api_error","message":"x"}}`)); ok {
		t.Error("usage from an error body")
	}
}
