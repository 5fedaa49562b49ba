package anthropic

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

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
