package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// compactionAnswer is what OpenAI answers POST /responses/compact: the new context window, with
// an opaque compaction item, and the usage of the compaction.
const compactionAnswer = `{"id":"resp_cmp1","object":"response.compaction","created_at":1764800000,"output":[{"type":"message","id":"msg_k","role":"user","content":[{"type":"input_text","text":"fix the bug"}]},{"type":"compaction","id":"cmp_1","encrypted_content":"gAAAA-opaque"}],"usage":{"input_tokens":40,"output_tokens":9,"total_tokens":49,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":0}}}`

// POST /v1/responses/compact goes to a backend that serves the Responses API itself, with the
// client's policy applied, and is accounted like a generation; another client's
// previous_response_id is refused without asking upstream. A translated backend cannot make the
// compaction item: a clear OpenAI-shaped 400 naming the backend, and nothing goes upstream.
func TestResponsesCompact(t *testing.T) {
	up := &nativeResponsesUpstream{}
	native := newRelMock(t, up.handler)
	translated := &recordingUpstream{}
	anthropic := newRelMock(t, translated.handler(func(int) string { return anthropicThinkingToolStream }))
	g := startRelGateway(t, nil, anthropic.URL)
	g.createClient("openai", native.URL, map[string]any{"system_prompt": "Be safe."})
	owner := g.keys["openai"]
	g.createClient("openai", native.URL, map[string]any{"name": "other"})
	other := g.keys["openai"]

	resp, body := postResponses(t, g, owner, "/v1/responses/compact",
		`{"model":"m","instructions":"Be brief.","input":[{"role":"user","content":"fix the bug"},{"role":"assistant","content":"done"}]}`)
	if resp.StatusCode != 200 || body != compactionAnswer {
		t.Fatalf("compact: %d %s", resp.StatusCode, body)
	}
	sent := up.log()[0]
	if !strings.HasPrefix(sent, "POST /responses/compact {") {
		t.Fatalf("upstream got %s", sent)
	}
	var got map[string]any
	json.Unmarshal([]byte(strings.TrimPrefix(sent, "POST /responses/compact ")), &got)
	if got["instructions"] != "Be safe.\n\nBe brief." || got["model"] != "m" {
		t.Errorf("forwarded body: %s", sent)
	}
	// A whole answer is settled before it is sent: the usage counts it already.
	req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/usage", nil)
	req.Header.Set("Authorization", "Bearer "+owner)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		Usage struct {
			Requests     int64 `json:"requests"`
			InputTokens  int64 `json:"input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	json.NewDecoder(r.Body).Decode(&u)
	r.Body.Close()
	if u.Usage.Requests != 1 || u.Usage.InputTokens != 40 || u.Usage.OutputTokens != 9 {
		t.Errorf("usage after the compaction: %+v", u.Usage)
	}

	// The compacted conversation continues from an owned response only.
	postResponses(t, g, owner, "/v1/responses", `{"model":"m","input":"hi"}`) // resp_up1, owned
	n := len(up.log())
	resp, body = postResponses(t, g, other, "/v1/responses/compact", `{"model":"m","previous_response_id":"resp_up1"}`)
	if resp.StatusCode != 404 || !strings.Contains(body, "previous_response_not_found") || len(up.log()) != n {
		t.Errorf("another client's id: %d %s; upstream calls %d → %d", resp.StatusCode, body, n, len(up.log()))
	}
	if resp, body = postResponses(t, g, owner, "/v1/responses/compact", `{"model":"m","previous_response_id":"resp_up1"}`); resp.StatusCode != 200 {
		t.Errorf("owner compacts by previous_response_id: %d %s", resp.StatusCode, body)
	}

	resp, body = postResponses(t, g, g.keys[beAnthropic], "/v1/responses/compact", `{"model":"m","input":"fix the bug"}`)
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != 400 || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, "anthropic backend") ||
		!strings.Contains(e.Error.Message, "compact the conversation locally") {
		t.Errorf("compact on a translated backend: %d %s", resp.StatusCode, body)
	}
	if len(translated.bodies) != 0 {
		t.Errorf("the translated backend was asked: %v", translated.bodies)
	}
}
