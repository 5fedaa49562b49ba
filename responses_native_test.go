package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// nativeResponsesUpstream is an OpenAI upstream that serves the Responses API: it records every
// request and answers creations, reads, deletes, counts and compactions.
type nativeResponsesUpstream struct {
	mu   sync.Mutex
	reqs []string // "METHOD path body"
}

func (u *nativeResponsesUpstream) handler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.reqs = append(u.reqs, r.Method+" "+r.URL.RequestURI()+" "+string(b))
	u.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+upstreamSecretOf("openai") {
		http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, 401)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "POST" && r.URL.Path == "/responses/input_tokens":
		io.WriteString(w, `{"object":"response.input_tokens","input_tokens":77}`)
	case r.Method == "POST" && r.URL.Path == "/responses/compact":
		io.WriteString(w, compactionAnswer)
	case r.Method == "POST" && strings.Contains(string(b), `"stream":true`):
		w.Header().Set("Content-Type", "text/event-stream")
		for i, ev := range []string{
			`{"type":"response.created","sequence_number":0,"response":{"id":"resp_up2","object":"response","status":"in_progress","output":[],"usage":null}}`,
			`{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}`,
			`{"type":"response.completed","sequence_number":2,"response":{"id":"resp_up2","object":"response","status":"completed","model":"gpt-up","output":[],"usage":{"input_tokens":7,"output_tokens":3,"total_tokens":10,"input_tokens_details":{"cached_tokens":2},"output_tokens_details":{"reasoning_tokens":1}}}}`,
		} {
			name := []string{"response.created", "response.output_text.delta", "response.completed"}[i]
			io.WriteString(w, "event: "+name+"\ndata: "+ev+"\n\n")
		}
	case r.Method == "POST":
		io.WriteString(w, `{"id":"resp_up1","object":"response","status":"completed","model":"gpt-up","output":[{"type":"message","id":"msg_u","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7}}`)
	case r.Method == "GET":
		io.WriteString(w, `{"id":"resp_up2","object":"response","status":"completed","upstream":"read"}`)
	case r.Method == "DELETE":
		io.WriteString(w, `{"id":"resp_up2","object":"response","deleted":true,"upstream":"deleted"}`)
	}
}

func (u *nativeResponsesUpstream) log() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.reqs...)
}

// A backend that serves the Responses API itself (openai) gets the caller's body close to
// byte-for-byte — only the model, the client's system prompt before the instructions and the
// output cap change — and its answers come back as it sent them; the gateway remembers which
// client owns each response id, so another client's id is refused without asking upstream.
func TestResponsesForwardedToNativeBackend(t *testing.T) {
	up := &nativeResponsesUpstream{}
	mock := newRelMock(t, up.handler)
	g := startRelGateway(t, nil, "")
	quota := map[string]int{"max_input_tokens_per_day": 0, "max_output_tokens_per_day": 0, "max_requests_per_day": 0,
		"max_input_tokens": 0, "max_output_tokens": 500}
	g.createClient("openai", mock.URL, map[string]any{"system_prompt": "Be safe.", "quota": quota})
	owner := g.keys["openai"]
	g.createClient("openai", mock.URL, map[string]any{"name": "other"})
	other := g.keys["openai"]

	resp, body := postResponses(t, g, owner, "/v1/responses",
		`{"model":"m","instructions":"Be brief.","input":[{"role":"user","content":"hi"}],"max_output_tokens":4000,"x_unknown":{"keep":[1,2]},"tools":[{"type":"web_search"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"resp_up1"`) || !strings.Contains(body, `"text":"Hello"`) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	sent := up.log()[0]
	if !strings.HasPrefix(sent, "POST /responses {") {
		t.Fatalf("upstream got %s", sent)
	}
	var got map[string]any
	json.Unmarshal([]byte(strings.TrimPrefix(sent, "POST /responses ")), &got)
	if got["instructions"] != "Be safe.\n\nBe brief." || got["max_output_tokens"] != 500.0 || got["model"] != "m" ||
		!strings.Contains(sent, `"x_unknown":{"keep":[1,2]}`) || !strings.Contains(sent, `"tools":[{"type":"web_search"}]`) {
		t.Errorf("forwarded body: %s", sent)
	}

	// What only a translation cannot serve goes to a backend that serves it itself.
	resp, body = postResponses(t, g, owner, "/v1/responses", `{"model":"m","input":"hi","background":true,"tool_choice":{"type":"web_search_preview"},"tools":[{"type":"web_search_preview"}]}`)
	if last := up.log()[len(up.log())-1]; resp.StatusCode != 200 || !strings.Contains(last, `"background":true`) {
		t.Errorf("background request: %d %s; upstream got %s", resp.StatusCode, body, last)
	}

	resp, body = postResponses(t, g, owner, "/v1/responses", `{"model":"m","input":"hi","stream":true}`)
	evs := readSSE(t, body)
	if resp.StatusCode != 200 || len(evs) != 3 || evs[2].name != "response.completed" || strings.Contains(body, "[DONE]") {
		t.Fatalf("stream: %d %s", resp.StatusCode, body)
	}

	// Continuations: the owner's ids go upstream, another client's do not.
	for _, id := range []string{"resp_up1", "resp_up2"} {
		if resp, body := postResponses(t, g, owner, "/v1/responses", `{"model":"m","input":"more","previous_response_id":"`+id+`"}`); resp.StatusCode != 200 {
			t.Errorf("owner continues %s: %d %s", id, resp.StatusCode, body)
		}
	}
	n := len(up.log())
	resp, body = postResponses(t, g, other, "/v1/responses", `{"model":"m","input":"more","previous_response_id":"resp_up1"}`)
	if resp.StatusCode != 404 || !strings.Contains(body, "previous_response_not_found") {
		t.Errorf("another client's id: %d %s", resp.StatusCode, body)
	}
	call := func(key, method, path string) (int, string) {
		req, _ := http.NewRequest(method, g.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if st, b := call(other, m, "/v1/responses/resp_up2"); st != 404 {
			t.Errorf("another client %s: %d %s", m, st, b)
		}
	}
	if len(up.log()) != n {
		t.Errorf("another client's requests reached the upstream: %v", up.log()[n:])
	}
	if st, b := call(owner, "GET", "/v1/responses/resp_up2"); st != 200 || !strings.Contains(b, `"upstream":"read"`) {
		t.Errorf("owner GET: %d %s", st, b)
	}
	if st, b := call(owner, "GET", "/v1/responses/resp_up2/input_items?limit=5&order=asc"); st != 200 || !strings.Contains(up.log()[len(up.log())-1], "GET /responses/resp_up2/input_items?limit=5&order=asc") {
		t.Errorf("owner input_items: %d %s; upstream %s", st, b, up.log()[len(up.log())-1])
	}
	if st, b := call(owner, "DELETE", "/v1/responses/resp_up2"); st != 200 || !strings.Contains(b, `"upstream":"deleted"`) {
		t.Errorf("owner DELETE: %d %s", st, b)
	}
	if st, _ := call(owner, "GET", "/v1/responses/resp_up2"); st != 404 {
		t.Errorf("GET after DELETE: %d", st)
	}
	resp, body = postResponses(t, g, owner, "/v1/responses/input_tokens", `{"model":"m","input":"count me"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"input_tokens":77`) {
		t.Errorf("input_tokens: %d %s", resp.StatusCode, body)
	}
}
