package main

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// loggedOmissions waits for the request log to hold n rows of the client and returns each row's
// attempts' omitted tools, newest row first.
func loggedOmissions(t *testing.T, g *relGateway, client int64, n int) [][][]string {
	t.Helper()
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var status int
		status, out = g.admin("GET", "/admin/api/v1/requests?client_id="+strconv.FormatInt(client, 10), nil)
		if status != 200 {
			t.Fatalf("history: %d %s", status, out)
		}
		var hist struct {
			Requests []struct {
				Attempts []struct {
					OmittedTools []string `json:"omitted_tools"`
				} `json:"attempts"`
			} `json:"requests"`
		}
		if err := json.Unmarshal([]byte(out), &hist); err != nil {
			t.Fatalf("history %s: %v", out, err)
		}
		if len(hist.Requests) < n {
			continue
		}
		var rows [][][]string
		for _, r := range hist.Requests {
			var row [][]string
			for _, a := range r.Attempts {
				row = append(row, a.OmittedTools)
			}
			rows = append(rows, row)
		}
		return rows
	}
	t.Fatalf("the request log never held %d rows: %s", n, out)
	return nil
}

// Built-in and namespaced tools a Responses caller offers (Codex sends web_search and a
// namespace on every turn) are left out for a translated backend, and the request log notes
// them on the attempt; a request offering only function tools notes nothing.
func TestResponsesOmittedToolsLogged(t *testing.T) {
	up := &recordingUpstream{}
	mock := newRelMock(t, up.handler(func(int) string { return anthropicThinkingToolStream }))
	g := startRelGateway(t, nil, mock.URL)
	key := g.keys[beAnthropic]
	fn := `{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}`
	resp, body := postResponses(t, g, key, "/v1/responses", `{"model":"m","stream":true,"store":false,"input":"weather in Paris?",
		"tools":[`+fn+`,{"type":"web_search","external_web_access":false},
		         {"type":"namespace","name":"multi_agent_v1","tools":[{"type":"function","name":"spawn"}]}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	rows := loggedOmissions(t, g, g.ids[beAnthropic], 1)
	if want := [][][]string{{{"web_search", "namespace multi_agent_v1"}}}; !reflect.DeepEqual(rows, want) {
		t.Fatalf("omitted tools logged: %v, want %v", rows, want)
	}

	resp, body = postResponses(t, g, key, "/v1/responses", `{"model":"m","stream":true,"store":false,"input":"weather in Paris?","tools":[`+fn+`]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	rows = loggedOmissions(t, g, g.ids[beAnthropic], 2)
	if rows[0][0] != nil {
		t.Errorf("a request offering only function tools logged omitted tools: %v", rows[0])
	}
}
