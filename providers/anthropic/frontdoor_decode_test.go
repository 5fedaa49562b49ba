package anthropic

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestDecodeRequestGolden(t *testing.T) {
	for _, name := range []string{"decode_claude_code", "decode_sdk_2026"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile("testdata/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			req, err := DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, dump(t, req))
		})
	}
}

func TestDecodeRequestClaudeCode(t *testing.T) {
	body, _ := os.ReadFile("testdata/decode_claude_code.json")
	req, err := DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{}
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	// The tool results come before the user's text of the same turn.
	if got := strings.Join(roles, ","); got != "system,user,assistant,tool,tool,user" {
		t.Fatalf("roles = %s", got)
	}
	sys := req.Messages[0]
	if len(sys.Content) != 2 || string(sys.Content[1].CacheControl) != `{"type": "ephemeral"}` {
		t.Errorf("system = %+v, want two parts with the cache_control kept", sys.Content)
	}
	asst := req.Messages[2]
	if asst.Reasoning != "Two independent calls." || asst.ReasoningSignature != "EqQBCkYIBxgCKkB" || asst.Text() != "I'll do both." {
		t.Errorf("assistant = %+v", asst)
	}
	if len(asst.ToolCalls) != 2 || asst.ToolCalls[0].Arguments != `{"command":"ls","description":"List files"}` {
		t.Errorf("tool calls = %+v, want compact JSON arguments", asst.ToolCalls)
	}
	r1, r2 := req.Messages[3], req.Messages[4]
	if r1.ToolCallID != "toolu_01B" || r1.ToolName != "Read" || r1.Text() != "module x" || r1.IsError {
		t.Errorf("first result = %+v", r1)
	}
	if r2.ToolCallID != "toolu_01A" || r2.ToolName != "Bash" || !r2.IsError || r2.Text() != "permission denied" {
		t.Errorf("second result = %+v", r2)
	}
	if req.ToolChoice == nil || req.ToolChoice.Mode != providers.ToolChoiceAuto || req.ParallelToolCalls == nil || *req.ParallelToolCalls {
		t.Errorf("tool choice %+v parallel %v", req.ToolChoice, req.ParallelToolCalls)
	}
	if req.ThinkingBudget != 4000 || req.MaxTokens != 32000 || !req.Stream || req.User != "user_abc_account_123_session_456" {
		t.Errorf("budget %d max %d stream %v user %q", req.ThinkingBudget, req.MaxTokens, req.Stream, req.User)
	}
	if _, ok := req.Extra["context_management"]; !ok || len(req.Extra) != 1 {
		t.Errorf("extra = %v, want only context_management", req.Extra)
	}
}

func TestDecodeRequestOptions(t *testing.T) {
	base := `"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name  string
		extra string
		check func(*providers.Request) bool
	}{
		{"tool_choice any", `"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}`,
			func(r *providers.Request) bool {
				return r.ToolChoice.Mode == providers.ToolChoiceRequired && r.ParallelToolCalls == nil
			}},
		{"tool_choice tool", `"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true}`,
			func(r *providers.Request) bool {
				return r.ToolChoice.Mode == providers.ToolChoiceTool && r.ToolChoice.Name == "f" && !*r.ParallelToolCalls
			}},
		{"custom tool type", `"tools":[{"type":"custom","name":"f","input_schema":{"type":"object"},"strict":true}]`,
			func(r *providers.Request) bool { return len(r.Tools) == 1 && *r.Tools[0].Strict }},
		{"thinking disabled", `"thinking":{"type":"disabled"}`, func(r *providers.Request) bool { return r.ThinkingBudget == 0 }},
		{"thinking adaptive", `"thinking":{"type":"adaptive"}`, func(r *providers.Request) bool { return r.ThinkingBudget == AdaptiveThinkingBudget }},
		{"temperature zero kept", `"temperature":0`, func(r *providers.Request) bool { return r.Temperature != nil && *r.Temperature == 0 }},
		{"string system", `"system":"S"`, func(r *providers.Request) bool {
			return r.Messages[0].Role == providers.RoleSystem && r.Messages[0].Text() == "S"
		}},
		{"empty system dropped", `"system":""`, func(r *providers.Request) bool { return len(r.Messages) == 1 }},
		{"no model is fine", ``, func(r *providers.Request) bool { return r.Model == "m" }},
		{"max_tokens as float", `"max_tokens":1e3`, func(r *providers.Request) bool { return r.MaxTokens == 1000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "{" + base
			if tt.extra != "" {
				body += "," + tt.extra
			}
			req, err := DecodeRequest([]byte(body + "}"))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(req) {
				t.Errorf("unexpected result: %s", dump(t, req))
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"bad JSON", `{"model":`, "invalid JSON body: unexpected end of JSON input"},
		{"not an object", `[1]`, "request body must be a JSON object"},
		{"no max_tokens", `{"model":"m","messages":[]}`, "max_tokens: Field required"},
		{"no messages", `{"model":"m","max_tokens":5}`, "messages: Field required"},
		{"max_tokens zero", `{"max_tokens":0,"messages":[]}`, "max_tokens: Input should be greater than or equal to 1"},
		{"max_tokens string", `{"max_tokens":"5","messages":[]}`, "max_tokens: Input should be a valid integer"},
		{"max_tokens fraction", `{"max_tokens":2.5,"messages":[]}`, "max_tokens: Input should be a valid integer"},
		{"bad role", `{"max_tokens":5,"messages":[{"role":"tool","content":"x"}]}`, "messages.0.role: Input should be"},
		{"content number", `{"max_tokens":5,"messages":[{"role":"user","content":5}]}`, "messages.0.content: Input should be a valid string or list"},
		{"pdf document", `{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}}]}]}`,
			"messages.0.content.0: application/pdf documents are only supported when the backend is Anthropic"},
		{"file image", `{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}`, "Files API"},
		{"server tool", `{"max_tokens":5,"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "tools.0: web_search_20250305 tools are only supported"},
		{"tool without schema", `{"max_tokens":5,"messages":[],"tools":[{"name":"f"}]}`, "tools.0.input_schema: Field required"},
		{"unknown block", `{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"container_upload"}]}]}`, `content block type "container_upload"`},
		{"tool_use in user turn", `{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]}`, "tool_use blocks are not allowed"},
		{"bad tool_choice", `{"max_tokens":5,"messages":[],"tool_choice":{"type":"required"}}`, "tool_choice.type"},
		{"thinking without budget", `{"max_tokens":5,"messages":[],"thinking":{"type":"enabled"}}`, "budget_tokens: Field required"},
		{"image system", `{"max_tokens":5,"messages":[],"system":[{"type":"image"}]}`, "system.0.type"},
		{"bad output format", `{"max_tokens":5,"messages":[],"output_config":{"format":{"type":"xml"}}}`, "output_config.format.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRequest([]byte(tt.body))
			var e *providers.Error
			if !errors.As(err, &e) || e.Kind != providers.KindBadRequest || !strings.Contains(e.Message, tt.want) {
				t.Errorf("err = %v, want a bad request containing %q", err, tt.want)
			}
		})
	}
}
