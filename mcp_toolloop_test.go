package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
)

// mcpDoors are the four front doors a client in tool mode gateway may call.
var mcpDoors = []relDoor{relOpenAI, relAnthropic, relGemini, relResponses}

// promptBody is door d's minimal request with prompt as the user's text.
func promptBody(d relDoor, stream bool, prompt string) string {
	return strings.Replace(d.body(stream), "hello there", prompt, 1)
}

// answerText is the answer text of a front door's whole or streamed answer.
func answerText(t *testing.T, d relDoor, stream bool, body string) string {
	t.Helper()
	if d.name == "responses" {
		return responsesText(t, body, stream)
	}
	if stream {
		text, sawErr := relStreamedText(t, d, body)
		if sawErr {
			t.Errorf("%s: the stream carries an error: %.500s", d.name, body)
		}
		return text
	}
	var ev map[string]any
	if err := jsonUnmarshal(body, &ev); err != nil {
		t.Fatalf("%s: answer is not JSON: %.300s", d.name, body)
	}
	return relTextOf(d, ev)
}

// logRow waits for the request log row of request id and returns it.
func (g *mcpGateway) logRow(h *relDB, requestID string) db.RequestLog {
	g.t.Helper()
	var row db.RequestLog
	relWaitFor(g.t, "the request log row of "+requestID, 10*time.Second, func() bool {
		for _, r := range h.requestLogs() {
			if r.RequestID == requestID {
				row = r
				return true
			}
		}
		return false
	})
	return row
}

// Every front door × every backend protocol, whole and streamed: the model calls an MCP tool,
// the gateway runs it and asks again with its result, and the caller gets the answer made
// from it. The upstream got the tool offered as weather__forecast and then its result; the
// usage of both model calls is summed in the log, with the tool call as a step.
func TestMCPToolLoopEveryDoorAndBackend(t *testing.T) {
	g := startMCPGateway(t, "", []string{"weather"})
	h := g.openDB()
	for _, d := range mcpDoors {
		for _, backend := range relBackends {
			for _, stream := range []bool{false, true} {
				name := d.name + "→" + backend
				if stream {
					name += "/stream"
				}
				t.Run(name, func(t *testing.T) {
					g.mock.reset()
					var resp *http.Response
					var body string
					if stream {
						resp, body = g.callLive(d, backend, promptBody(d, stream, "weather please use:weather__forecast"))
					} else {
						resp, body = g.call(d, backend, stream, promptBody(d, stream, "weather please use:weather__forecast"))
					}
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("status %d: %.500s", resp.StatusCode, body)
					}
					if got := answerText(t, d, stream, body); got != "Result: sunny-42 in Paris" {
						t.Errorf("answer %q, want the one made from the tool's result; body %.500s", got, body)
					}
					if stream && !strings.Contains(resp.Header.Get("Content-Type"), "text/event-stream") {
						t.Errorf("a streaming caller got Content-Type %q", resp.Header.Get("Content-Type"))
					}
					seen := g.mock.seen()
					if len(seen) != 2 {
						t.Fatalf("the upstream got %d requests, want 2 (the call, then the result)", len(seen))
					}
					if stream {
						// Both model calls streamed, and the final one reached the caller piece by
						// piece as the upstream sent it, in one stream.
						if !seen[0].Stream || !seen[1].Stream {
							t.Errorf("the model calls of a streamed request were not streamed (%v, %v)", seen[0].Stream, seen[1].Stream)
						}
						checkRelayed(t, d, body, mockPieces("Result: sunny-42 in Paris"))
					}
					if !strings.Contains(string(seen[0].Body), "weather__forecast") || strings.Contains(string(seen[0].Body), "vault__secret") {
						t.Errorf("the first request does not offer exactly the allowed tools: %.800s", seen[0].Body)
					}
					if !strings.Contains(string(seen[1].Body), "sunny-42 in Paris") {
						t.Errorf("the second request lacks the tool's result: %.800s", seen[1].Body)
					}
					row := g.logRow(h, resp.Header.Get("X-Request-Id"))
					if row.InputTokens != 20 || row.OutputTokens != 10 {
						t.Errorf("logged usage %d in / %d out, want the sum of both calls (20 / 10)", row.InputTokens, row.OutputTokens)
					}
					if len(row.ToolSteps) != 1 || row.ToolSteps[0].Tool != "weather__forecast" || row.ToolSteps[0].Status != "ok" ||
						row.ToolSteps[0].ResultBytes != len("sunny-42 in Paris") {
						t.Errorf("tool steps %+v, want one ok call of weather__forecast with its 17-byte result", row.ToolSteps)
					}
				})
			}
		}
	}
}

// A streamed chat of a client in tool mode gateway that calls no tool is the upstream's stream
// relayed event by event on every front door × backend: the three pieces the upstream sent
// arrive as three content events, in one well-formed stream, and the usage is the call's.
func TestMCPStreamedPlainChat(t *testing.T) {
	g := startMCPGateway(t, "", []string{"weather"})
	h := g.openDB()
	for _, d := range mcpDoors {
		for _, backend := range relBackends {
			t.Run(d.name+"→"+backend, func(t *testing.T) {
				g.mock.reset()
				resp, body := g.callLive(d, backend, promptBody(d, true, "just talk"))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %.500s", resp.StatusCode, body)
				}
				if got := answerText(t, d, true, body); got != "plain answer" {
					t.Errorf("answer %q; body %.500s", got, body)
				}
				checkRelayed(t, d, body, mockPieces("plain answer"))
				if seen := g.mock.seen(); len(seen) != 1 || !seen[0].Stream {
					t.Fatalf("the upstream got %d requests, want 1 streamed one", len(seen))
				}
				row := g.logRow(h, resp.Header.Get("X-Request-Id"))
				if row.InputTokens != 10 || row.OutputTokens != 5 || len(row.ToolSteps) != 0 {
					t.Errorf("logged usage %d/%d with %d tool steps, want 10/5 and none", row.InputTokens, row.OutputTokens, len(row.ToolSteps))
				}
			})
		}
	}
}

// callLive makes a streamed call whose answer the upstream holds after its first piece until
// the caller has read that piece: the test fails when the gateway does not relay it before the
// upstream goes on (it would hold it until the upstream's wait ran out).
func (g *mcpGateway) callLive(d relDoor, backend, body string) (*http.Response, string) {
	t := g.t
	t.Helper()
	release, released := g.mock.hold()
	defer release()
	resp, err := http.DefaultClient.Do(g.newRequest(context.Background(), d, backend, true, body))
	if err != nil {
		t.Fatalf("%s → %s: %v", d.name, backend, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		sb.WriteString(line)
		if data, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
			var ev map[string]any
			if jsonUnmarshal(data, &ev) == nil && (relTextOf(d, ev) != "" || ev["type"] == "response.output_text.delta") {
				release()
			}
		}
		if err != nil {
			break
		}
	}
	if !released() {
		t.Errorf("%s → %s: the first piece of the answer did not reach the caller before the upstream sent the rest", d.name, backend)
	}
	return resp, sb.String()
}

// checkRelayed checks that a streamed answer carries the answer text as the content events
// pieces, in order (one per upstream event, none merged), and opens and ends once.
func checkRelayed(t *testing.T, d relDoor, body string, pieces []string) {
	t.Helper()
	var got []string
	starts, ends := 0, 0
	for _, line := range strings.Split(body, "\n") {
		data, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ev map[string]any
		if err := jsonUnmarshal(data, &ev); err != nil {
			t.Errorf("%s: stream event is not JSON: %.200q", d.name, data)
			continue
		}
		var text string
		switch d.name {
		case "responses":
			if ev["type"] == "response.output_text.delta" {
				text, _ = ev["delta"].(string)
			}
			switch ev["type"] {
			case "response.created":
				starts++
			case "response.completed":
				ends++
			}
		case "anthropic":
			text = relTextOf(d, ev)
			switch ev["type"] {
			case "message_start":
				starts++
			case "message_stop":
				ends++
			}
		default:
			text = relTextOf(d, ev)
		}
		if text != "" {
			got = append(got, text)
		}
	}
	if strings.Join(got, "|") != strings.Join(pieces, "|") {
		t.Errorf("%s: content events %q, want %q as the upstream streamed them; body %.1500s", d.name, got, pieces, body)
	}
	if d.name == "responses" || d.name == "anthropic" {
		if starts != 1 || ends != 1 {
			t.Errorf("%s: the stream opens %d times and ends %d times, want once each: %.1500s", d.name, starts, ends, body)
		}
	}
}

// A tool's error goes back to the model as the tool's error (Anthropic: is_error), and the
// request still succeeds; structured content reaches the model as JSON text; an oversized
// result is cut at mcp.max_result_bytes with a mark; a tool of a server the client is not
// allowed is neither offered nor run.
func TestMCPToolResults(t *testing.T) {
	g := startMCPGateway(t, "  max_result_bytes: 4096\n", []string{"weather"})
	h := g.openDB()
	cases := []struct {
		name, prompt, answer, status string
		check                        func(t *testing.T, second string)
	}{
		{"tool error", "use:weather__broken", "Result: weather service down", "error", func(t *testing.T, second string) {
			if !strings.Contains(second, `"is_error":true`) {
				t.Errorf("the tool result is not marked as an error: %.800s", second)
			}
		}},
		{"structured content", "use:weather__structured", `Result: {"sky":"clear-77","temp":21}`, "ok", nil},
		{"result cap", "use:weather__big", "Result: result truncated by the gateway", "ok", func(t *testing.T, second string) {
			if len(second) > 8192 {
				t.Errorf("the upstream got %d bytes: the 300 KB result was not cut to 4096", len(second))
			}
		}},
		{"not allowed", "use:vault__secret", "Result: is not available to this key", "", func(t *testing.T, second string) {
			if strings.Contains(second, "vault-secret-99") {
				t.Errorf("a tool of a server outside the allowlist ran: %.800s", second)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g.mock.reset()
			resp, body := g.call(relAnthropic, beAnthropic, false, promptBody(relAnthropic, false, tc.prompt))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %.500s", resp.StatusCode, body)
			}
			seen := g.mock.seen()
			if tc.status == "" {
				// The model called a tool the gateway does not offer: it is the client's, and
				// goes back to it.
				if len(seen) != 1 || !strings.Contains(body, `"name":"vault__secret"`) {
					t.Fatalf("want the call handed back to the client after 1 upstream request; got %d, body %.500s", len(seen), body)
				}
				tc.check(t, string(seen[0].Body))
				return
			}
			if got := answerText(t, relAnthropic, false, body); got != tc.answer {
				t.Errorf("answer %q, want %q", got, tc.answer)
			}
			if len(seen) != 2 {
				t.Fatalf("the upstream got %d requests, want 2", len(seen))
			}
			if tc.check != nil {
				tc.check(t, string(seen[1].Body))
			}
			row := g.logRow(h, resp.Header.Get("X-Request-Id"))
			if len(row.ToolSteps) != 1 || row.ToolSteps[0].Status != tc.status {
				t.Errorf("tool steps %+v, want one with status %s", row.ToolSteps, tc.status)
			}
		})
	}
}

// A hung MCP server cannot hold a request past mcp.tool_timeout: the model gets the timeout
// as the tool's error and answers. The step cap: a model that calls a tool every time is
// asked max_steps+1 times, the last time told to call none.
func TestMCPTimeoutAndStepCap(t *testing.T) {
	g := startMCPGateway(t, "  tool_timeout: 1s\n  max_steps: 2\n", []string{"weather"})
	h := g.openDB()
	t.Run("timeout", func(t *testing.T) {
		g.mock.reset()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(g.newRequest(ctx, relOpenAI, beOpenAI, false, promptBody(relOpenAI, false, "use:weather__hang")))
		if err != nil {
			t.Fatalf("the request did not come back: %v", err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", resp.StatusCode, body)
		}
		if got := answerText(t, relOpenAI, false, body); got != "Result: did not answer within 1s" {
			t.Errorf("answer %q, want the model's answer to the timeout", got)
		}
		row := g.logRow(h, resp.Header.Get("X-Request-Id"))
		if len(row.ToolSteps) != 1 || row.ToolSteps[0].Status != "timeout" {
			t.Errorf("tool steps %+v, want one timeout", row.ToolSteps)
		}
	})
	t.Run("timeout, streamed", func(t *testing.T) {
		// The caller's stream stays alive while the tool hangs (keepalives, here SSE comments,
		// every 200ms of a wait that lasts the 1s timeout), then the answer streams on.
		g.mock.reset()
		resp, body := g.call(relOpenAI, beOpenAI, true, promptBody(relOpenAI, true, "use:weather__hang"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", resp.StatusCode, body)
		}
		if got := answerText(t, relOpenAI, true, body); got != "Result: did not answer within 1s" {
			t.Errorf("answer %q, want the model's answer to the timeout", got)
		}
		if ka := strings.Index(body, ": keepalive"); ka < 0 || ka > strings.Index(body, "Result: ") {
			t.Errorf("no keepalive while the tool ran: %.1500s", body)
		}
	})
	t.Run("later failure in a stream", func(t *testing.T) {
		// The first model call answered, so the caller already has its stream: the refusal
		// of the second is the stream's error event, and the first call's usage is accounted.
		g.mock.reset()
		resp, body := g.call(relOpenAI, beOpenAI, true, promptBody(relOpenAI, true, "failsecond use:weather__forecast"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", resp.StatusCode, body)
		}
		if _, sawErr := relStreamedText(t, relOpenAI, body); !sawErr || !strings.Contains(body, "the second turn is refused") {
			t.Errorf("the stream does not end with the upstream's refusal: %.800s", body)
		}
		row := g.logRow(h, resp.Header.Get("X-Request-Id"))
		if row.Status != http.StatusBadRequest || row.InputTokens != 10 || row.OutputTokens != 5 || len(row.ToolSteps) != 1 {
			t.Errorf("logged status %d, usage %d/%d, %d steps; want 400, the first call's 10/5, 1 step",
				row.Status, row.InputTokens, row.OutputTokens, len(row.ToolSteps))
		}
	})
	t.Run("cut in a streamed turn", func(t *testing.T) {
		// The second call's stream is cut after its first piece: the caller has that piece,
		// then the error; the log has the first call's usage and the second's estimated.
		g.mock.reset()
		resp, body := g.call(relOpenAI, beOpenAI, true, promptBody(relOpenAI, true, "cutsecond use:weather__forecast"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", resp.StatusCode, body)
		}
		if text, sawErr := relStreamedText(t, relOpenAI, body); text != "Result: " || !sawErr {
			t.Errorf("the stream carries %q (error event: %v), want the piece sent, then the error: %.800s", text, sawErr, body)
		}
		row := g.logRow(h, resp.Header.Get("X-Request-Id"))
		if row.Status < 500 || row.InputTokens <= 10 || row.OutputTokens != 5+2 || len(row.ToolSteps) != 1 {
			t.Errorf("logged status %d, usage %d/%d, %d steps; want a 5xx, 10/5 and the second call's estimate (input, 2 out), 1 step",
				row.Status, row.InputTokens, row.OutputTokens, len(row.ToolSteps))
		}
	})
	t.Run("step cap, streamed", func(t *testing.T) {
		// The same in one stream: two tool steps held back, then the third call's answer
		// streamed, with the usage of all three.
		g.mock.reset()
		resp, body := g.call(relAnthropic, beOpenAI, true, promptBody(relAnthropic, true, "loop use:weather__forecast"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", resp.StatusCode, body)
		}
		if n := len(g.mock.seen()); n != 3 {
			t.Fatalf("the upstream got %d requests, want 3", n)
		}
		checkRelayed(t, relAnthropic, body, mockPieces("no more tools"))
		if strings.Contains(body, "weather__forecast") || !strings.Contains(body, `"stop_reason":"end_turn"`) {
			t.Errorf("the stream shows the gateway's tool calls or does not end the turn: %.1500s", body)
		}
		row := g.logRow(h, resp.Header.Get("X-Request-Id"))
		if len(row.ToolSteps) != 2 || row.InputTokens != 30 || row.OutputTokens != 15 {
			t.Errorf("tool steps %+v, usage %d/%d; want 2 steps and 30/15", row.ToolSteps, row.InputTokens, row.OutputTokens)
		}
	})
	t.Run("step cap", func(t *testing.T) {
		g.mock.reset()
		resp, body := g.call(relOpenAI, beOpenAI, false, promptBody(relOpenAI, false, "loop use:weather__forecast"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %.500s", resp.StatusCode, body)
		}
		seen := g.mock.seen()
		if len(seen) != 3 {
			t.Fatalf("the upstream got %d requests, want 3 (2 steps, then one without tools)", len(seen))
		}
		if !strings.Contains(string(seen[2].Body), `"tool_choice":"none"`) || strings.Contains(string(seen[1].Body), `"tool_choice":"none"`) {
			t.Errorf("only the last request should say tool_choice none: %.300s", seen[2].Body)
		}
		if got := answerText(t, relOpenAI, false, body); got != "no more tools" {
			t.Errorf("answer %q", got)
		}
		row := g.logRow(h, resp.Header.Get("X-Request-Id"))
		if len(row.ToolSteps) != 2 {
			t.Errorf("tool steps %+v, want 2", row.ToolSteps)
		}
	})
}

// A turn that calls both a client's own tool and a gateway tool goes back to the client with
// the client's call only (the gateway's was not run; the model may ask again after the
// client's result). A client in passthrough mode gets no MCP tools at all.
func TestMCPMixedTurnAndPassthrough(t *testing.T) {
	g := startMCPGateway(t, "", []string{"weather"})
	body := `{"model":"m","messages":[{"role":"user","content":"use:get_time+weather__forecast"}],` +
		`"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]}`
	resp, out := g.call(relOpenAI, beOpenAI, false, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.500s", resp.StatusCode, out)
	}
	if !strings.Contains(out, `"name":"get_time"`) || strings.Contains(out, "weather__forecast") || !strings.Contains(out, `"finish_reason":"tool_calls"`) {
		t.Errorf("want only the client's own call handed back: %.800s", out)
	}
	if n := len(g.mock.seen()); n != 1 {
		t.Errorf("the upstream got %d requests, want 1", n)
	}

	// Streamed, the client's call is relayed as its stream's first call (index 0), though the
	// upstream made it second, after the gateway's call that is held back.
	g.mock.reset()
	streamed := `{"model":"m","stream":true,"messages":[{"role":"user","content":"use:weather__forecast+get_time"}],` +
		`"tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]}`
	resp, out = g.call(relOpenAI, beAnthropic, true, streamed)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.500s", resp.StatusCode, out)
	}
	if !strings.Contains(out, `"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"get_time"`) ||
		strings.Contains(out, "weather__forecast") || !strings.Contains(out, `"finish_reason":"tool_calls"`) {
		t.Errorf("want only the client's own call streamed, as call 0: %.1500s", out)
	}
	if n := len(g.mock.seen()); n != 1 {
		t.Errorf("the upstream got %d requests, want 1", n)
	}

	g.mock.reset()
	g.createClient(beOpenAI, strings.TrimSuffix(g.clientBase(), "/v1"), map[string]any{"name": "plain", "mcp_servers": []string{"weather"}})
	resp, out = g.call(relOpenAI, beOpenAI, false, promptBody(relOpenAI, false, "use:weather__forecast"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.500s", resp.StatusCode, out)
	}
	if seen := g.mock.seen(); len(seen) != 1 || strings.Contains(string(seen[0].Body), "weather__forecast\",\"description") {
		t.Errorf("a passthrough client's request got MCP tools added: %d requests", len(seen))
	}
}

// clientBase is the base URL the first OpenAI client was created with.
func (g *mcpGateway) clientBase() string {
	g.t.Helper()
	status, body := g.admin(http.MethodGet, "/admin/api/v1/clients", nil)
	if status != http.StatusOK {
		g.t.Fatalf("list clients: %d", status)
	}
	i := strings.Index(body, `"base_url":"`)
	rest := body[i+len(`"base_url":"`):]
	return rest[:strings.Index(rest, `"`)]
}
