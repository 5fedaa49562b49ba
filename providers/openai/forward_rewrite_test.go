package openai

import (
	"errors"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// opencodeBody is shaped like what opencode sends: array content with an image, unknown fields,
// temperature 0, a deep tool schema.
const opencodeBody = `{"model":"gw/m","messages":[{"role":"system","content":"You are opencode."},` +
	`{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}}]}],` +
	`"temperature":0,"x_vendor_flag":{"keep":[1,2.50,"three"]},"tools":[{"type":"function","function":{"name":"bash","parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"n":{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991}}}}}],` +
	`"tool_choice":"auto","stream":true,"stream_options":{"include_usage":true}}`

func TestRewriteRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		rw   Rewrite
		want string
	}{
		{
			name: "nothing to change returns the same bytes",
			body: `{"model":"m", "messages":[{"role":"user","content":"hi"}], "temperature": 0}`,
			want: `{"model":"m", "messages":[{"role":"user","content":"hi"}], "temperature": 0}`,
		},
		{
			name: "model replaced in place, everything else byte-exact",
			body: `{"model":"a","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"temperature":0,"seed":1,"zzz":{"u":[1,2]}}`,
			rw:   Rewrite{Model: "gpt-4o"},
			want: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"temperature":0,"seed":1,"zzz":{"u":[1,2]}}`,
		},
		{
			name: "missing model is added",
			body: `{"messages":[]}`,
			rw:   Rewrite{Model: "m"},
			want: `{"messages":[],"model":"m"}`,
		},
		{
			name: "system prompt goes first, client's system kept after it",
			body: `{"model":"m","messages":[ {"role":"system","content":"client sys"},{"role":"user","content":"hi"}]}`,
			rw:   Rewrite{SystemPrompt: "Gateway \"rules\"\n"},
			want: `{"model":"m","messages":[{"role":"system","content":"Gateway \"rules\"\n"},{"role":"system","content":"client sys"},{"role":"user","content":"hi"}]}`,
		},
		{
			name: "system prompt into empty messages",
			body: `{"model":"m","messages":[ ]}`,
			rw:   Rewrite{SystemPrompt: "S"},
			want: `{"model":"m","messages":[{"role":"system","content":"S"}]}`,
		},
		{
			name: "max_tokens above the cap is clamped",
			body: `{"model":"m","messages":[],"max_tokens":32000}`,
			rw:   Rewrite{MaxTokens: 8192},
			want: `{"model":"m","messages":[],"max_tokens":8192}`,
		},
		{
			name: "max_tokens under the cap is kept",
			body: `{"model":"m","messages":[],"max_tokens":100}`,
			rw:   Rewrite{MaxTokens: 8192},
			want: `{"model":"m","messages":[],"max_tokens":100}`,
		},
		{
			name: "zero, negative or unreadable values are replaced",
			body: `{"model":"m","messages":[],"max_tokens":0,"max_completion_tokens":"lots"}`,
			rw:   Rewrite{MaxTokens: 64},
			want: `{"model":"m","messages":[],"max_tokens":64,"max_completion_tokens":64}`,
		},
		{
			name: "both fields clamped",
			body: `{"model":"m","messages":[],"max_completion_tokens":9000,"max_tokens":10000}`,
			rw:   Rewrite{MaxTokens: 8192},
			want: `{"model":"m","messages":[],"max_completion_tokens":8192,"max_tokens":8192}`,
		},
		{
			name: "cap set when the client sent none",
			body: `{"model":"m","messages":[]}`,
			rw:   Rewrite{MaxTokens: 512},
			want: `{"model":"m","messages":[],"max_tokens":512}`,
		},
		{
			name: "cap set in the chosen field, null counts as none",
			body: `{"model":"m","messages":[],"max_tokens":null}`,
			rw:   Rewrite{MaxTokens: 512, MaxTokensField: "max_completion_tokens"},
			want: `{"model":"m","messages":[],"max_tokens":null,"max_completion_tokens":512}`,
		},
		{
			name: "streaming forces include_usage",
			body: `{"model":"m","messages":[],"stream":true}`,
			want: `{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`,
		},
		{
			name: "streaming keeps other stream options",
			body: `{"model":"m","messages":[],"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":false}}`,
			want: `{"model":"m","messages":[],"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}`,
		},
		{
			name: "non-streaming body gets no stream_options",
			body: `{"model":"m","messages":[],"stream":false}`,
			want: `{"model":"m","messages":[],"stream":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteRequest([]byte(tt.body), tt.rw)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRewriteRequestKeepsOpencodeBodyByteExact(t *testing.T) {
	got, err := RewriteRequest([]byte(opencodeBody), Rewrite{Model: "gpt-4o", SystemPrompt: "GW", MaxTokens: 4096})
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, keep := range []string{
		`{"role":"system","content":"You are opencode."}`,
		`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}}`,
		`"temperature":0,`,
		`"x_vendor_flag":{"keep":[1,2.50,"three"]}`,
		`"exclusiveMinimum":0,"maximum":9007199254740991`,
		`"stream_options":{"include_usage":true}`,
	} {
		if !strings.Contains(s, keep) {
			t.Errorf("rewritten body lost %s\n%s", keep, s)
		}
	}
	if !strings.HasPrefix(s, `{"model":"gpt-4o","messages":[{"role":"system","content":"GW"},{"role":"system","content":"You are opencode."}`) {
		t.Errorf("model / system prompt not first:\n%s", s)
	}
	if !strings.HasSuffix(s, `,"max_tokens":4096}`) {
		t.Errorf("cap not added:\n%s", s)
	}
}

func TestRewriteRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
		rw               Rewrite
	}{
		{"bad JSON carries the parser's message", `{"model":`, "unexpected end of JSON input", Rewrite{}},
		{"syntax error", `{"model" "x"}`, "invalid character", Rewrite{}},
		{"not an object", `[1,2]`, "must be a JSON object", Rewrite{}},
		{"messages not an array with a system prompt", `{"messages":"hi"}`, `"messages" must be an array`,
			Rewrite{SystemPrompt: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RewriteRequest([]byte(tt.body), tt.rw)
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
				t.Fatalf("err = %v, want a KindBadRequest *providers.Error", err)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Fatalf("message %q does not contain %q", e.Message, tt.want)
			}
		})
	}
}
