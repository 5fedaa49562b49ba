package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// compatibleUpstream is an OpenAI-compatible server (vLLM, LiteLLM, …) that serves both
// /v1/responses and /v1/chat/completions; it records "METHOD path body" of every request.
type compatibleUpstream struct {
	mu   sync.Mutex
	reqs []string
}

func (u *compatibleUpstream) handler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.reqs = append(u.reqs, r.Method+" "+r.URL.Path+" "+string(b))
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/responses":
		io.WriteString(w, `{"id":"resp_native1","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"msg_n","role":"assistant","content":[{"type":"output_text","text":"from responses","annotations":[]}]}],"usage":{"input_tokens":4,"output_tokens":2,"total_tokens":6}}`)
	case "/v1/chat/completions":
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"from chat"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}`)
	default:
		http.Error(w, `{"error":{"message":"no such path","type":"invalid_request_error"}}`, 404)
	}
}

func (u *compatibleUpstream) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.reqs) == 0 {
		return ""
	}
	return u.reqs[len(u.reqs)-1]
}

// An openai-compatible client with responses_api native has /v1/responses forwarded to its
// backend's own /v1/responses (the body as sent, with the model and instructions policy applied);
// with translate (the default, and after a PATCH back) it goes out as Chat Completions. The admin
// API refuses native for a backend that has no such switch.
func TestResponsesAPISwitch(t *testing.T) {
	up := &compatibleUpstream{}
	mock := newRelMock(t, up.handler)
	g := startRelGateway(t, nil, "")
	out := g.createClient("openai-compatible", mock.URL+"/v1", map[string]any{
		"base_url": mock.URL + "/v1", "responses_api": "native", "system_prompt": "Be safe.", "default_model": "vendor/model-1"})
	if out["responses_api"] != "native" {
		t.Fatalf("created client: %v", out)
	}
	key, id := g.keys["openai-compatible"], g.ids["openai-compatible"]
	req := `{"model":"vendor/model-1","instructions":"Be brief.","input":"hi","x_vendor":{"keep":true}}`

	resp, body := postResponses(t, g, key, "/v1/responses", req)
	sent := up.last()
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"resp_native1"`) || !strings.Contains(body, "from responses") {
		t.Fatalf("native: %d %s; upstream got %s", resp.StatusCode, body, sent)
	}
	if !strings.HasPrefix(sent, "POST /v1/responses {") {
		t.Fatalf("native: upstream got %s", sent)
	}
	var got map[string]any
	json.Unmarshal([]byte(strings.TrimPrefix(sent, "POST /v1/responses ")), &got)
	if got["instructions"] != "Be safe.\n\nBe brief." || got["model"] != "vendor/model-1" || got["input"] != "hi" ||
		!strings.Contains(sent, `"x_vendor":{"keep":true}`) {
		t.Errorf("native: forwarded body %s", sent)
	}

	status, pbody := g.admin(http.MethodPatch, fmt.Sprintf("/admin/api/v1/clients/%d", id), map[string]any{"responses_api": "translate"})
	if status != 200 || !strings.Contains(pbody, `"responses_api":"translate"`) {
		t.Fatalf("patch: %d %s", status, pbody)
	}
	resp, body = postResponses(t, g, key, "/v1/responses", req)
	sent = up.last()
	if resp.StatusCode != 200 || !strings.Contains(body, `"object":"response"`) || !strings.Contains(body, "from chat") ||
		!strings.HasPrefix(sent, "POST /v1/chat/completions {") {
		t.Errorf("translate: %d %s; upstream got %s", resp.StatusCode, body, sent)
	}

	status, cbody := g.admin(http.MethodPost, "/admin/api/v1/clients", map[string]any{
		"name": "claude", "backend": "anthropic", "upstream_key": "sk-ant-x", "responses_api": "native"})
	var e struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	json.Unmarshal([]byte(cbody), &e)
	if status != 400 || !strings.Contains(e.Error.Fields["responses_api"], `"native" is for backends openai-compatible, ollama, lmstudio`) {
		t.Errorf("native on anthropic: %d %s", status, cbody)
	}
}
