package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestPromptCacheForwardedUntouched: an Anthropic client's cache_control marks reach an Anthropic
// backend exactly as sent, on every kind of block that takes one, ttl included — the body is
// forwarded byte for byte when policy changes nothing, and with the client's system prompt
// injected every marked block still arrives with the caller's bytes.
func TestPromptCacheForwardedUntouched(t *testing.T) {
	var mu sync.Mutex
	var got []byte
	up := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`)
	})
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, up.URL, nil)
	plain := g.keys[beAnthropic]
	g.createClient(beAnthropic, up.URL, map[string]any{"name": "with-prompt", "system_prompt": "Injected by the gateway."})
	injected := g.keys[beAnthropic]

	// Each block carries its mark in its own spelling: key order, spacing and ttl are the caller's.
	const (
		oneHour = `{"ttl": "1h", "type": "ephemeral"}`
		five    = `{"type":"ephemeral","ttl":"5m"}`
		plainCC = `{"type":"ephemeral"}`
	)
	blocks := []struct{ kind, block, where string }{
		{"system", `{"type":"text","text":"You are a careful reviewer.","cache_control":` + oneHour + `}`, "system"},
		{"tools", `{"name":"read_file","description":"Read a file","input_schema":{"type":"object","properties":{"path":{"type":"string"}}},"cache_control":` + five + `}`, "tools"},
		{"text", `{"type":"text","text":"Here is the repository.","cache_control":` + plainCC + `}`, "user"},
		{"image", `{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="},"cache_control":` + five + `}`, "user"},
		{"document", `{"type":"document","source":{"type":"text","media_type":"text/plain","data":"a long document"},"cache_control":` + oneHour + `}`, "user"},
		{"tool_use", `{"type":"tool_use","id":"toolu_01","name":"read_file","input":{"path":"a.go"},"cache_control":` + plainCC + `}`, "assistant"},
		{"tool_result", `{"type":"tool_result","tool_use_id":"toolu_01","content":"package a","cache_control":{"type":"ephemeral","ttl":"1h"}}`, "result"},
		{"tool_result_content", `{"type":"tool_result","tool_use_id":"toolu_01","content":[{"type":"text","text":"package a","cache_control":` + five + `}]}`, "result"},
	}
	for _, b := range blocks {
		t.Run(b.kind, func(t *testing.T) {
			system, tools := `"Be brief."`, `[]`
			user := `[{"type":"text","text":"Review this."}]`
			assistant := `[{"type":"tool_use","id":"toolu_01","name":"read_file","input":{"path":"a.go"}}]`
			result := `[{"type":"tool_result","tool_use_id":"toolu_01","content":"package a"}]`
			switch b.where {
			case "system":
				system = `[` + b.block + `]`
			case "tools":
				tools = `[` + b.block + `]`
			case "user":
				user = `[` + b.block + `,{"type":"text","text":"Review this."}]`
			case "assistant":
				assistant = `[` + b.block + `]`
			case "result":
				result = `[` + b.block + `]`
			}
			body := `{"model":"claude-sonnet-4-5",  "max_tokens": 256, "system":` + system + `, "tools":` + tools +
				`, "messages":[{"role":"user","content":` + user + `},{"role":"assistant","content":` + assistant +
				`},{"role":"user","content":` + result + `}]}`
			for _, key := range []string{plain, injected} {
				req, _ := http.NewRequest(http.MethodPost, g.url+"/v1/messages", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				relAnthropic.auth(req.Header, key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, out)
				}
				mu.Lock()
				up := bytes.Clone(got)
				mu.Unlock()
				if key == plain && string(up) != body {
					t.Errorf("the upstream received\n%s\nnot the caller's body\n%s", up, body)
				}
				if !bytes.Contains(up, []byte(b.block)) {
					t.Errorf("system prompt injected=%t: the upstream did not receive the %s block as sent:\n%s", key == injected, b.kind, up)
				}
				if n, want := bytes.Count(up, []byte(`"cache_control"`)), 1; n != want {
					t.Errorf("the upstream received %d cache_control marks, want %d:\n%s", n, want, up)
				}
			}
		})
	}
}
