package gemini

import (
	"encoding/json"
	"errors"
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
		{"nothing to do keeps the bytes", `{ "contents" : [] , "x":1 }`, Rewrite{}, `{ "contents" : [] , "x":1 }`},
		{"system created, cap set",
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"unknownField":{"a": [1, 2.50, "x"]}}`,
			Rewrite{SystemPrompt: "Gateway rules.", MaxTokens: 1000},
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"unknownField":{"a": [1, 2.50, "x"]},"systemInstruction":{"parts":[{"text":"Gateway rules."}]},"generationConfig":{"maxOutputTokens":1000}}`},
		{"system prepended to the client's parts, other keys kept",
			`{"systemInstruction": {"role": "user", "parts": [ {"text": "Client rules."} ]}, "contents": []}`,
			Rewrite{SystemPrompt: "Gateway \"rules\"."},
			`{"systemInstruction": {"role": "user","parts": [{"text":"Gateway \"rules\"."},{"text": "Client rules."}]},"contents": []}`},
		{"system without parts", `{"systemInstruction":{"role":"user"}}`, Rewrite{SystemPrompt: "G"},
			`{"systemInstruction":{"role":"user","parts":[{"text":"G"}]}}`},
		{"empty system object", `{"systemInstruction":{}}`, Rewrite{SystemPrompt: "G"}, `{"systemInstruction":{"parts":[{"text":"G"}]}}`},
		{"null system and empty parts", `{"systemInstruction":null,"system_instruction":{"parts":[]}}`, Rewrite{SystemPrompt: "G"},
			`{"systemInstruction":{"parts":[{"text":"G"}]},"system_instruction":{"parts":[{"text":"G"}]}}`},
		{"snake_case system", `{"system_instruction":{"parts":[{"text":"c"}]}}`, Rewrite{SystemPrompt: "G"},
			`{"system_instruction":{"parts":[{"text":"G"},{"text":"c"}]}}`},
		{"cap clamps a larger value", `{"generationConfig":{"temperature":0,"maxOutputTokens":32000,"topK":40}}`, Rewrite{MaxTokens: 8192},
			`{"generationConfig":{"temperature":0,"maxOutputTokens":8192,"topK":40}}`},
		{"cap keeps a smaller value's bytes", `{"generationConfig":{"maxOutputTokens": 100 }}`, Rewrite{MaxTokens: 8192},
			`{"generationConfig":{"maxOutputTokens": 100}}`},
		{"cap clamps a string value", `{"generationConfig":{"maxOutputTokens":"99999"}}`, Rewrite{MaxTokens: 8192},
			`{"generationConfig":{"maxOutputTokens":8192}}`},
		{"cap replaces zero (which means the model's maximum)", `{"generationConfig":{"maxOutputTokens":0}}`, Rewrite{MaxTokens: 50},
			`{"generationConfig":{"maxOutputTokens":50}}`},
		{"cap replaces garbage", `{"generationConfig":{"maxOutputTokens":"lots"}}`, Rewrite{MaxTokens: 50},
			`{"generationConfig":{"maxOutputTokens":50}}`},
		{"cap added to an existing config", `{"generationConfig":{"temperature":0.5}}`, Rewrite{MaxTokens: 50},
			`{"generationConfig":{"temperature":0.5,"maxOutputTokens":50}}`},
		{"cap added to an empty config", `{"generationConfig":{}}`, Rewrite{MaxTokens: 50}, `{"generationConfig":{"maxOutputTokens":50}}`},
		{"cap on snake_case", `{"generation_config":{"max_output_tokens":900}}`, Rewrite{MaxTokens: 50},
			`{"generation_config":{"max_output_tokens":50}}`},
		{"cap on an escaped key", `{"generation\u0043onfig":{"maxOutputTokens":900}}`, Rewrite{MaxTokens: 50},
			`{"generation\u0043onfig":{"maxOutputTokens":50}}`},
		{"null config", `{"generationConfig":null}`, Rewrite{MaxTokens: 50}, `{"generationConfig":{"maxOutputTokens":50}}`},
		{"empty body object", `{}`, Rewrite{SystemPrompt: "G", MaxTokens: 5},
			`{"systemInstruction":{"parts":[{"text":"G"}]},"generationConfig":{"maxOutputTokens":5}}`},
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
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func TestRewriteRequestErrors(t *testing.T) {
	for _, body := range []string{`{"contents":`, `[1,2]`, `"x"`, `{"systemInstruction":"be nice"}`, `{"systemInstruction":{"parts":"x"}}`, `{"generationConfig":[1]}`} {
		_, err := RewriteRequest([]byte(body), Rewrite{SystemPrompt: "G", MaxTokens: 5})
		if e, ok := err.(*providers.Error); !ok || e.Kind != providers.KindBadRequest {
			t.Errorf("%s: got %v, want a bad request", body, err)
		}
	}
}

// The rewritten body must say the same as the original to Gemini, apart from the policy changes.
func TestRewriteRequestPreservesMeaning(t *testing.T) {
	body := readTestdata(t, "decode_genai.json")
	out, err := RewriteRequest(body, Rewrite{SystemPrompt: "Gateway first.", MaxTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	before, err := DecodeRequest("m", body)
	if err != nil {
		t.Fatal(err)
	}
	after, err := DecodeRequest("m", out)
	if err != nil {
		t.Fatal(err)
	}
	if after.Messages[0].Content[0].Text != "Gateway first." || after.Messages[0].Content[1].Text != "You are a travel assistant." || after.MaxTokens != 100 {
		t.Errorf("policy not applied: %s", dump(t, after.Messages[0]))
	}
	after.Messages[0].Content = after.Messages[0].Content[1:]
	after.MaxTokens = before.MaxTokens
	if a, b := string(dump(t, after)), string(dump(t, before)); a != b {
		t.Errorf("rewrite changed more than policy:\n%s\nvs\n%s", a, b)
	}
}

func TestRewriteCountTokens(t *testing.T) {
	tests := []struct {
		name, body, prompt, want string
	}{
		{"no prompt: untouched", `{"contents":[{"parts":[{"text":"hi"}]}]}`, "", `{"contents":[{"parts":[{"text":"hi"}]}]}`},
		{"contents only: becomes a generateContentRequest",
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, "Be \"brief\".",
			`{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"Be \"brief\"."}]}}}`},
		{"generateContentRequest: the prompt goes first in its systemInstruction",
			`{"generateContentRequest":{"model":"models/x","contents":[],"systemInstruction":{"parts":[{"text":"app"}]}}}`, "gw",
			`{"generateContentRequest":{"model":"models/x","contents":[],"systemInstruction":{"parts":[{"text":"gw"},{"text":"app"}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteCountTokens([]byte(tt.body), "gemini-2.5-flash", tt.prompt)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"contents":`, `[1]`, `{"generateContentRequest":[]}`} {
		_, err := RewriteCountTokens([]byte(bad), "m", "p")
		var e *providers.Error
		if !errors.As(err, &e) || e.Kind != providers.KindBadRequest {
			t.Errorf("%s: err %v, want a bad request", bad, err)
		}
	}
}
