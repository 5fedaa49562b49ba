package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// anthropicAnswer is a whole Messages answer saying text.
func anthropicAnswer(text string) string {
	return `{"id":"msg_2","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":` +
		jsonStr(text) + `}],"stop_reason":"end_turn","usage":{"input_tokens":50,"output_tokens":5}}`
}

// A conversation continued by previous_response_id on an Anthropic backend sends the whole
// earlier exchange upstream — the thinking block with its signature, the text, the tool call —
// before the new input, across several turns; the response is its client's only: another
// client's id is a 404 everywhere, and store:false keeps nothing.
func TestResponsesContinuationOnAnthropic(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(n int) string {
		if n == 1 {
			return anthropicThinkingToolStream
		}
		return anthropicAnswer("It is sunny.")
	}))
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, mock.URL, nil)
	owner := g.keys[beAnthropic]
	g.createClient(beAnthropic, mock.URL, map[string]any{"name": "other"})
	other := g.keys[beAnthropic]

	resp, body := postResponses(t, g, owner, "/v1/responses", `{"model":"m","stream":true,"instructions":"be brief",
		"input":"weather in Paris?","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("turn 1: %d %s", resp.StatusCode, body)
	}
	evs := readSSE(t, body)
	first := evs[len(evs)-1].data["response"].(map[string]any)["id"].(string)

	turn2 := `{"model":"m","previous_response_id":"` + first + `","input":[{"type":"function_call_output","call_id":"toolu_1","output":"sunny"}],
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}`
	resp, body = postResponses(t, g, owner, "/v1/responses", turn2)
	if resp.StatusCode != 200 {
		t.Fatalf("turn 2: %d %s", resp.StatusCode, body)
	}
	var second struct {
		ID                 string `json:"id"`
		PreviousResponseID string `json:"previous_response_id"`
	}
	json.Unmarshal([]byte(body), &second)
	if second.PreviousResponseID != first {
		t.Errorf("turn 2 answer: %s", body)
	}
	var sent struct {
		System   any `json:"system"`
		Messages []struct {
			Role    string            `json:"role"`
			Content []json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(up.last()), &sent); err != nil {
		t.Fatal(err)
	}
	m := sent.Messages
	if len(m) != 3 || m[0].Role != "user" || m[1].Role != "assistant" || m[2].Role != "user" || len(m[1].Content) != 3 {
		t.Fatalf("turn 2 upstream messages: %s", up.last())
	}
	if c := string(m[1].Content[0]); !strings.Contains(c, `"type":"thinking"`) || !strings.Contains(c, `"signature":"SIG-abc=="`) || !strings.Contains(c, `"Let me look."`) {
		t.Errorf("thinking block not sent back whole: %s", c)
	}
	if !strings.Contains(string(m[1].Content[1]), `"Checking."`) || !strings.Contains(string(m[1].Content[2]), `"toolu_1"`) ||
		!strings.Contains(string(m[2].Content[0]), `"tool_result"`) {
		t.Errorf("turn 2 upstream messages: %s", up.last())
	}
	if sent.System != nil {
		t.Errorf("instructions are not carried over by previous_response_id: %v", sent.System)
	}

	// A third turn carries both earlier turns.
	resp, body = postResponses(t, g, owner, "/v1/responses", `{"model":"m","previous_response_id":"`+second.ID+`","input":"thanks"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("turn 3: %d %s", resp.StatusCode, body)
	}
	json.Unmarshal([]byte(up.last()), &sent)
	if n := len(sent.Messages); n != 5 || !strings.Contains(up.last(), "It is sunny.") || !strings.Contains(up.last(), "SIG-abc==") {
		t.Errorf("turn 3 sent %d messages: %s", n, up.last())
	}

	// Another client's id is unknown to it, without asking upstream.
	calls := len(up.bodies)
	resp, body = postResponses(t, g, other, "/v1/responses", `{"model":"m","previous_response_id":"`+first+`","input":"hi"}`)
	if resp.StatusCode != 404 || !strings.Contains(body, "previous_response_not_found") {
		t.Errorf("another client's previous_response_id: %d %s", resp.StatusCode, body)
	}
	if len(up.bodies) != calls {
		t.Error("the upstream was asked")
	}
	get := func(key, method, path string) (int, string) {
		req, _ := http.NewRequest(method, g.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return r.StatusCode, sb.String()
	}
	for _, p := range []string{"/v1/responses/" + first, "/v1/responses/" + first + "/input_items"} {
		if st, b := get(other, "GET", p); st != 404 {
			t.Errorf("another client GET %s: %d %s", p, st, b)
		}
	}
	if st, b := get(other, "DELETE", "/v1/responses/"+first); st != 404 {
		t.Errorf("another client DELETE: %d %s", st, b)
	}
	if st, b := get(owner, "GET", "/v1/responses/"+first); st != 200 || !strings.Contains(b, `"id":"`+first+`"`) || !strings.Contains(b, `"status":"completed"`) {
		t.Errorf("GET own: %d %s", st, b)
	}
	if st, b := get(owner, "GET", "/v1/responses/"+second.ID+"/input_items"); st != 200 || !strings.Contains(b, `"function_call_output"`) || !strings.Contains(b, `"has_more":false`) {
		t.Errorf("input_items: %d %s", st, b)
	}
	if st, b := get(owner, "DELETE", "/v1/responses/"+second.ID); st != 200 || !strings.Contains(b, `"deleted":true`) {
		t.Errorf("DELETE own: %d %s", st, b)
	}
	if st, _ := get(owner, "GET", "/v1/responses/"+second.ID); st != 404 {
		t.Errorf("GET after DELETE: %d", st)
	}

	// store:false keeps nothing.
	resp, body = postResponses(t, g, owner, "/v1/responses", `{"model":"m","store":false,"input":"hi"}`)
	var unstored struct{ ID string }
	json.Unmarshal([]byte(body), &unstored)
	if st, _ := get(owner, "GET", "/v1/responses/"+unstored.ID); resp.StatusCode != 200 || st != 404 {
		t.Errorf("store:false: %d, then GET %d", resp.StatusCode, st)
	}
}

// An item_reference to an output item of the client's stored response is replaced by that
// item; one to another client's item is a 404.
func TestResponsesItemReference(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(n int) string { return anthropicAnswer("Reply " + string(rune('0'+n))) }))
	g := startRelGateway(t, nil, "")
	g.createClient(beAnthropic, mock.URL, nil)
	owner := g.keys[beAnthropic]
	g.createClient(beAnthropic, mock.URL, map[string]any{"name": "other"})
	other := g.keys[beAnthropic]
	_, body := postResponses(t, g, owner, "/v1/responses", `{"model":"m","input":"hello"}`)
	var first struct {
		Output []struct{ ID string }
	}
	json.Unmarshal([]byte(body), &first)
	if len(first.Output) != 1 {
		t.Fatalf("turn 1: %s", body)
	}
	ref := `{"model":"m","input":[{"role":"user","content":"hello"},{"type":"item_reference","id":"` + first.Output[0].ID + `"},{"role":"user","content":"again"}]}`
	resp, body := postResponses(t, g, owner, "/v1/responses", ref)
	if resp.StatusCode != 200 || !strings.Contains(up.last(), `"Reply 1"`) {
		t.Fatalf("own reference: %d %s; upstream got %s", resp.StatusCode, body, up.last())
	}
	resp, body = postResponses(t, g, other, "/v1/responses", ref)
	if resp.StatusCode != 404 || !strings.Contains(body, first.Output[0].ID) {
		t.Errorf("another client's reference: %d %s", resp.StatusCode, body)
	}
}
