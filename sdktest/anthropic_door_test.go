package sdktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// claudeCodeTools are a dozen tools shaped like Claude Code's: JSON Schema draft-07 with
// "$schema" and "additionalProperties": false, nested arrays and enums.
func claudeCodeTools() []any {
	names := []string{"Task", "Bash", "Glob", "Grep", "LS", "ExitPlanMode", "Read", "Edit", "MultiEdit", "Write", "WebFetch", "TodoWrite"}
	tools := make([]any, len(names))
	for i, n := range names {
		tools[i] = map[string]any{
			"name":        n,
			"description": "The " + n + " tool. Use it when the task needs it.",
			"input_schema": map[string]any{
				"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
				"properties": map[string]any{
					"command": map[string]any{"type": "string", "description": "What to run"},
					"timeout": map[string]any{"type": "number", "exclusiveMinimum": 0, "maximum": 600000},
					"todos": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
						"status": map[string]any{"type": "string", "enum": []string{"pending", "in_progress", "completed"}}}}},
				},
				"required": []string{"command"},
			},
		}
	}
	// Claude Code marks the last tool as a cache breakpoint.
	tools[len(tools)-1].(map[string]any)["cache_control"] = map[string]any{"type": "ephemeral"}
	return tools
}

// claudeCodeBody is a Messages request shaped like Claude Code's agent request.
func claudeCodeBody(t *testing.T, stream bool) string {
	body := map[string]any{
		"model":      "claude-sonnet-4-5-20250929",
		"max_tokens": 32000,
		"stream":     stream,
		"system": []any{
			map[string]any{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": map[string]any{"type": "ephemeral"}},
			map[string]any{"type": "text", "text": "You are an interactive CLI tool that helps users with software engineering tasks.", "cache_control": map[string]any{"type": "ephemeral"}},
		},
		"messages": []any{
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "text", "text": "<system-reminder>This is a reminder.</system-reminder>"},
				map[string]any{"type": "text", "text": "Fix the failing test.", "cache_control": map[string]any{"type": "ephemeral"}},
			}},
		},
		"tools":       claudeCodeTools(),
		"tool_choice": map[string]any{"type": "auto"},
		"metadata":    map[string]any{"user_id": "user_0f3a_account__session_9c1e"},
		"thinking":    map[string]any{"type": "enabled", "budget_tokens": 4096},
		"temperature": 1,
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var claudeCodeHeaders = []string{"anthropic-version", "2023-06-01",
	"anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14",
	"x-app", "cli", "User-Agent", "claude-cli/1.0.120 (external, cli)"}

// anthropicEvents parses an Anthropic event stream into (name, data) pairs, checking that
// every event's data names itself.
func anthropicEvents(t *testing.T, stream string) (names []string, datas []map[string]any) {
	t.Helper()
	for _, block := range strings.Split(strings.ReplaceAll(stream, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		var name, payload string
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				payload = v
			}
		}
		if payload == "" {
			continue // a comment
		}
		d := decode(t, []byte(payload))
		if d["type"] != name {
			t.Errorf("event %q carries data of type %v", name, d["type"])
		}
		names = append(names, name)
		datas = append(datas, d)
	}
	return names, datas
}

// TestClaudeCodeRequestTranslated: a Claude-Code-shaped request (system blocks with
// cache_control, a dozen JSON-Schema tools, thinking, metadata, beta headers) survives
// translation to an OpenAI-compatible and a Gemini backend, and its streamed answer — thinking,
// text, then a tool call — comes back as the exact Anthropic event sequence.
func TestClaudeCodeRequestTranslated(t *testing.T) {
	g := startGateway(t)
	tests := []struct {
		name, backend, base string
		reply               func(w http.ResponseWriter)
		check               func(t *testing.T, got map[string]any)
	}{
		{
			name: "OpenAI-compatible backend", backend: "openai-compatible", base: "/v1",
			reply: func(w http.ResponseWriter) {
				head := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-5","choices":[{"index":0,"delta":`
				tail := `,"finish_reason":null}]}`
				upstreamtest.WriteSSE(w,
					data(head+`{"role":"assistant","content":null,"reasoning_content":"The test "}`+tail),
					data(head+`{"reasoning_content":"fails on a nil map."}`+tail),
					data(head+`{"content":"Let me run it."}`+tail),
					data(head+`{"tool_calls":[{"index":0,"id":"call_b","type":"function","function":{"name":"Bash","arguments":""}}]}`+tail),
					data(head+`{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":\"go te"}}]}`+tail),
					data(head+`{"tool_calls":[{"index":0,"function":{"arguments":"st ./...\"}"}}]}`+tail),
					data(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-5","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`),
					data(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-5","choices":[],"usage":{"prompt_tokens":4000,"completion_tokens":60,"total_tokens":4060,"prompt_tokens_details":{"cached_tokens":3000}}}`),
					"data: [DONE]\n\n")
			},
			check: func(t *testing.T, got map[string]any) {
				msgs := got["messages"].([]any)
				if at(msgs, 0, "role") != "system" || !strings.Contains(jsonString(msgs[:2]), "You are Claude Code") ||
					!strings.Contains(jsonString(msgs[:2]), "interactive CLI tool") {
					t.Errorf("system messages %s", jsonString(msgs))
				}
				last := msgs[len(msgs)-1]
				if at(last, "role") != "user" || !strings.Contains(jsonString(last), "Fix the failing test.") ||
					!strings.Contains(jsonString(last), "<system-reminder>") {
					t.Errorf("user turn %s", jsonString(last))
				}
				tools := got["tools"].([]any)
				if len(tools) != 12 || at(tools, 1, "function", "name") != "Bash" ||
					at(tools, 1, "function", "parameters", "properties", "timeout", "maximum") != float64(600000) {
					t.Errorf("%d tools: %s", len(tools), jsonString(at(tools, 1)))
				}
				if got["tool_choice"] != "auto" || got["stream"] != true || got["max_tokens"] != float64(8192) {
					t.Errorf("tool_choice %v stream %v max_tokens %v (want the client's 8192 cap)", got["tool_choice"], got["stream"], got["max_tokens"])
				}
				if strings.Contains(jsonString(got), "cache_control") {
					t.Error("Anthropic's cache_control reached an OpenAI upstream")
				}
			},
		},
		{
			name: "Gemini backend", backend: "gemini",
			reply: func(w http.ResponseWriter) {
				upstreamtest.WriteSSE(w,
					geminiChunk(`{"candidates":[{"content":{"role":"model","parts":[{"text":"The test fails on a nil map.","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":4000,"totalTokenCount":4000}}`),
					geminiChunk(`{"candidates":[{"content":{"role":"model","parts":[{"text":"Let me run it."}]},"index":0}]}`),
					geminiChunk(`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"Bash","args":{"command":"go test ./..."}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP","index":0}],`+
						`"usageMetadata":{"promptTokenCount":4000,"candidatesTokenCount":40,"thoughtsTokenCount":20,"cachedContentTokenCount":3000,"totalTokenCount":4060}}`))
			},
			check: func(t *testing.T, got map[string]any) {
				sys := jsonString(got["systemInstruction"])
				if !strings.Contains(sys, "You are Claude Code") || !strings.Contains(sys, "interactive CLI tool") {
					t.Errorf("systemInstruction %s", sys)
				}
				decls := at(got, "tools", 0, "functionDeclarations").([]any)
				if len(decls) != 12 || at(decls, 1, "name") != "Bash" || at(decls, 1, "parametersJsonSchema", "properties", "command", "type") != "string" {
					t.Errorf("%d declarations: %s", len(decls), jsonString(at(decls, 1)))
				}
				if at(decls, 1, "parametersJsonSchema", "$schema") != nil {
					t.Error("the root $schema Gemini rejects was sent")
				}
				gc := got["generationConfig"]
				if at(gc, "maxOutputTokens") != float64(8192) || at(gc, "thinkingConfig", "includeThoughts") != true {
					t.Errorf("generationConfig %s", jsonString(gc))
				}
				if strings.Contains(jsonString(got), "cache_control") {
					t.Error("Anthropic's cache_control reached Gemini")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { tt.reply(w) })
			key, _ := g.newClient(client{"backend": tt.backend, "base_url": up.URL + tt.base, "upstream_key": upstreamSecret,
				"default_model": "claude-sonnet-4-5-20250929"})
			resp, out := g.call("POST", "/v1/messages", claudeCodeBody(t, true), append([]string{"x-api-key", key}, claudeCodeHeaders...)...)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), out)
			}
			tt.check(t, decode(t, up.Last(t).Body))

			names, datas := anthropicEvents(t, out)
			// The exact sequence: one block each of thinking, text and tool_use, each opened,
			// filled and closed in order, then the stop reason and usage, then message_stop.
			var seq []string
			for i, n := range names {
				switch n {
				case "ping":
					continue
				case "content_block_start":
					seq = append(seq, n+":"+at(datas[i], "content_block", "type").(string))
				case "content_block_delta":
					d := at(datas[i], "delta", "type").(string)
					if len(seq) > 0 && seq[len(seq)-1] == n+":"+d {
						continue // consecutive deltas of one block count once
					}
					seq = append(seq, n+":"+d)
				default:
					seq = append(seq, n)
				}
			}
			want := []string{"message_start",
				"content_block_start:thinking", "content_block_delta:thinking_delta", "content_block_stop",
				"content_block_start:text", "content_block_delta:text_delta", "content_block_stop",
				"content_block_start:tool_use", "content_block_delta:input_json_delta", "content_block_stop",
				"message_delta", "message_stop"}
			if strings.Join(seq, " ") != strings.Join(want, " ") {
				t.Errorf("event sequence\n got %v\nwant %v", seq, want)
			}
			var thinking, text, input strings.Builder
			var block int
			for i, n := range names {
				d := datas[i]
				switch n {
				case "content_block_start":
					if idx := int(at(d, "index").(float64)); idx != block {
						t.Errorf("block index %d, want %d", idx, block)
					}
					block++
					if at(d, "content_block", "type") == "tool_use" && (at(d, "content_block", "name") != "Bash" || at(d, "content_block", "id") == "") {
						t.Errorf("tool_use block %s", jsonString(d))
					}
				case "content_block_delta":
					thinking.WriteString(fmt.Sprint(orEmpty(at(d, "delta", "thinking"))))
					text.WriteString(fmt.Sprint(orEmpty(at(d, "delta", "text"))))
					input.WriteString(fmt.Sprint(orEmpty(at(d, "delta", "partial_json"))))
				case "message_delta":
					if at(d, "delta", "stop_reason") != "tool_use" || at(d, "usage", "output_tokens") != float64(60) {
						t.Errorf("message_delta %s", jsonString(d))
					}
				}
			}
			if thinking.String() != "The test fails on a nil map." || text.String() != "Let me run it." ||
				!jsonEqual(jsonValue(input.String()), map[string]any{"command": "go test ./..."}) {
				t.Errorf("thinking %q, text %q, tool input %q", thinking.String(), text.String(), input.String())
			}
		})
	}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// TestAnthropicForwarding: with an Anthropic backend the Messages body goes upstream as sent,
// except the model, system and max_tokens policy owns; the beta and version headers go with it,
// the upstream key replaces the client's, and the answer comes back byte for byte.
func TestAnthropicForwarding(t *testing.T) {
	g := startGateway(t)
	stream := strings.Join(anthropicParallelTools("claude-sonnet-4-5"), "")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.URL.Path == "/v1/messages/count_tokens":
			upstreamtest.WriteJSON(w, 200, `{"input_tokens":1234}`)
		case strings.Contains(string(body), `"stream":true`):
			upstreamtest.WriteSSE(w, stream)
		default:
			upstreamtest.WriteJSON(w, 200, anthropicMessage("claude-sonnet-4-5", "Done."))
		}
	})
	plainKey, _ := g.newClient(client{"backend": "anthropic", "base_url": up.URL, "upstream_key": upstreamSecret, "quota": client{"max_output_tokens": 0}})
	policyKey, _ := g.newClient(client{"backend": "anthropic", "base_url": up.URL, "upstream_key": upstreamSecret,
		"system_prompt": "Company policy: be kind.", "default_model": "claude-opus-4-1", "model_whitelist": []string{"claude-opus-4-1"},
		"quota": client{"max_output_tokens": 2048}})

	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", streamed), func(t *testing.T) {
			g := g.at(t)
			body := claudeCodeBody(t, streamed)

			// Without policy to apply, the upstream gets the very bytes.
			resp, out := g.call("POST", "/v1/messages", body, append([]string{"x-api-key", plainKey}, claudeCodeHeaders...)...)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			r := up.Last(t)
			if string(r.Body) != body {
				t.Errorf("upstream body changed:\n got %s\nwant %s", r.Body, body)
			}
			wantOut := anthropicMessage("claude-sonnet-4-5", "Done.")
			if streamed {
				wantOut = stream
			}
			if out != wantOut {
				t.Errorf("answer changed:\n got %q\nwant %q", out, wantOut)
			}
			for h, v := range map[string]string{"x-api-key": upstreamSecret, "anthropic-version": "2023-06-01",
				"anthropic-beta": claudeCodeHeaders[3], "Authorization": ""} {
				if r.Header.Get(h) != v {
					t.Errorf("upstream %s = %q, want %q", h, r.Header.Get(h), v)
				}
			}

			// With policy: only model, system and max_tokens differ.
			resp, out = g.call("POST", "/v1/messages", strings.Replace(body, `"model":"claude-sonnet-4-5-20250929",`, "", 1),
				"Authorization", "Bearer "+policyKey, "anthropic-version", "2026-10-21", "anthropic-beta", "context-1m-2025-08-07")
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			r = up.Last(t)
			sent, got := members(t, []byte(body)), members(t, r.Body)
			for k, v := range sent {
				switch k {
				case "model":
					if string(got[k]) != `"claude-opus-4-1"` {
						t.Errorf("model %s, want the client's default", got[k])
					}
				case "max_tokens":
					if string(got[k]) != "2048" {
						t.Errorf("max_tokens %s, want the 2048 cap", got[k])
					}
				case "system":
					blocks := elements(t, got[k])
					if len(blocks) != 3 || !strings.Contains(string(blocks[0]), "Company policy: be kind.") {
						t.Fatalf("system %s", got[k])
					}
					for i, b := range elements(t, v) {
						if !bytes.Equal(blocks[i+1], b) {
							t.Errorf("system block %d changed: %s", i, blocks[i+1])
						}
					}
				default:
					if !bytes.Equal(got[k], v) {
						t.Errorf("%s changed: %s", k, got[k])
					}
				}
			}
			if r.Header.Get("anthropic-version") != "2026-10-21" || r.Header.Get("anthropic-beta") != "context-1m-2025-08-07" ||
				r.Header.Get("x-api-key") != upstreamSecret || r.Header.Get("Authorization") != "" {
				t.Errorf("upstream headers %v", r.Header)
			}
		})
	}

	countTests := []struct {
		name, key, model string
		status           int
		out              string
		// system is what the upstream's system must contain ("" = no system at all).
		system string
	}{
		{"forwarded as sent", plainKey, "claude-sonnet-4-5", 200, `{"input_tokens":1234}`, ""},
		{"with the client's system prompt", policyKey, "claude-opus-4-1", 200, `{"input_tokens":1234}`, "Company policy"},
		{"a model outside the whitelist", policyKey, "claude-sonnet-4-5", 403, "", ""},
	}
	for _, tt := range countTests {
		t.Run("count_tokens "+tt.name, func(t *testing.T) {
			g := g.at(t)
			n := len(up.Requests())
			body := `{"model":"` + tt.model + `","messages":[{"role":"user","content":"hi"}]}`
			resp, out := g.call("POST", "/v1/messages/count_tokens", body, append([]string{"x-api-key", tt.key}, claudeCodeHeaders...)...)
			if resp.StatusCode != tt.status {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			if tt.status != 200 {
				if v := decode(t, []byte(out)); v["type"] != "error" || at(v, "error", "type") != "permission_error" || len(up.Requests()) != n {
					t.Errorf("refusal %s", out)
				}
				return
			}
			if out != tt.out {
				t.Errorf("answer %s, want the upstream's %s", out, tt.out)
			}
			r := up.Last(t)
			if r.Path != "/v1/messages/count_tokens" || r.Header.Get("anthropic-beta") != claudeCodeHeaders[3] || r.Header.Get("x-api-key") != upstreamSecret {
				t.Errorf("upstream %s %v", r.Path, r.Header)
			}
			if tt.system == "" && string(r.Body) != body || tt.system != "" && !strings.Contains(jsonString(decode(t, r.Body)["system"]), tt.system) {
				t.Errorf("upstream body %s", r.Body)
			}
		})
	}
}
