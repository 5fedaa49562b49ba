package main

// Issue #14 item 7: OpenAI's n and Gemini's candidateCount ask for several answers, each of which
// may use the whole output cap. Admission reserves cap × choices of the daily output quota, lowers
// the cap per choice when the quota has less room, refuses (429, Retry-After) a request that would
// leave a choice no token, and refuses more than 128 choices with a 400 — through every door,
// forwarded and translated.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// choicesMock is an upstream that answers every choice with exactly the output cap it was sent,
// one token per word ("tok "), and reports the usage of all choices: what a model that never
// stops early costs. Without a cap it writes unboundedTokens per choice.
type choicesMock struct {
	mu   sync.Mutex
	seen []choicesAsk // one per upstream request
}

// choicesAsk is what one upstream request asked for.
type choicesAsk struct{ choices, cap int }

const unboundedTokens = 1000

func (m *choicesMock) asks() []choicesAsk {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]choicesAsk(nil), m.seen...)
}

func (m *choicesMock) handle(w http.ResponseWriter, r *http.Request) {
	u := upstreamtest.ReadRequest(r)
	var body struct {
		N                   int `json:"n"`
		MaxTokens           int `json:"max_tokens"`
		MaxCompletionTokens int `json:"max_completion_tokens"`
		GenerationConfig    struct {
			CandidateCount  int `json:"candidateCount"`
			MaxOutputTokens int `json:"maxOutputTokens"`
		} `json:"generationConfig"`
	}
	json.Unmarshal(u.Body, &body)
	ask := choicesAsk{choices: body.N, cap: max(body.MaxTokens, body.MaxCompletionTokens)}
	if u.Proto == beGemini {
		ask = choicesAsk{choices: body.GenerationConfig.CandidateCount, cap: body.GenerationConfig.MaxOutputTokens}
	}
	m.mu.Lock()
	m.seen = append(m.seen, ask)
	m.mu.Unlock()
	n, tokens := max(ask.choices, 1), ask.cap
	if tokens <= 0 {
		tokens = unboundedTokens
	}
	text := strings.Repeat("tok ", tokens)
	out := n * tokens
	switch {
	case u.Proto == beOpenAI && !u.Stream:
		var cs []string
		for i := range n {
			cs = append(cs, fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":%s},"logprobs":null,"finish_reason":"length"}`, i, jsonStr(text)))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[%s],"usage":{"prompt_tokens":5,"completion_tokens":%d,"total_tokens":%d}}`,
			strings.Join(cs, ","), out, out+5)
	case u.Proto == beOpenAI:
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range n {
			upstreamtest.WriteEvent(w, beOpenAI, "", fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":%d,"delta":{"role":"assistant","content":%s},"finish_reason":null}]}`, i, jsonStr(text)))
			upstreamtest.WriteEvent(w, beOpenAI, "", fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":%d,"delta":{},"finish_reason":"length"}]}`, i))
		}
		upstreamtest.WriteEvent(w, beOpenAI, "", fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":%d,"total_tokens":%d}}`, out, out+5))
		upstreamtest.WriteEvent(w, beOpenAI, "", "[DONE]")
	default:
		var cs []string
		for i := range n {
			cs = append(cs, fmt.Sprintf(`{"content":{"role":"model","parts":[{"text":%s}]},"finishReason":"MAX_TOKENS","index":%d}`, jsonStr(text), i))
		}
		chunk := fmt.Sprintf(`{"candidates":[%s],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
			strings.Join(cs, ","), out, out+5)
		if u.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			upstreamtest.WriteEvent(w, beGemini, "", chunk)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, chunk)
	}
}

// choicesCase is one client: a door, a backend behind it, streamed or not.
type choicesCase struct {
	door    relDoor
	backend string
	stream  bool
	// body asks for n choices.
	body func(n int, stream bool) string
	// answers counts the distinct choices in an answer.
	answers func(t *testing.T, body string) int
}

func openAIChoicesBody(n int, stream bool) string {
	return fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"hello there"}],"n":%d,"stream":%t}`, n, stream)
}

func geminiChoicesBody(n int, _ bool) string {
	return fmt.Sprintf(`{"contents":[{"role":"user","parts":[{"text":"hello there"}]}],"generationConfig":{"candidateCount":%d}}`, n)
}

// answerIndexes collects the choice indexes of a JSON answer or of every data: line of an SSE
// stream; list names the array ("choices", "candidates"). A missing index is 0.
func answerIndexes(t *testing.T, body, list string) int {
	t.Helper()
	docs := []string{body}
	if strings.HasPrefix(strings.TrimSpace(body), "data:") {
		docs = nil
		sc := bufio.NewScanner(strings.NewReader(body))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.TrimSpace(d) != "[DONE]" {
				docs = append(docs, d)
			}
		}
	}
	seen := map[int]bool{}
	for _, d := range docs {
		var m map[string]json.RawMessage
		var items []struct {
			Index int `json:"index"`
		}
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("answer is not JSON: %v\n%.300s", err, d)
		}
		if raw, ok := m[list]; ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				t.Fatalf("%s is not a list of choices: %v\n%.300s", list, err, d)
			}
		}
		for _, c := range items {
			seen[c.Index] = true
		}
	}
	return len(seen)
}

// runChoicesCase drives one client with max_output_tokens 10 and a daily output quota of 100.
func runChoicesCase(t *testing.T, g *relGateway, upstream string, mock *choicesMock, name string, tc choicesCase) {
	g.createClient(tc.backend, upstream, map[string]any{"name": name,
		"quota": map[string]int{"max_output_tokens": 10, "max_output_tokens_per_day": 100}})
	key := g.keys[tc.backend]
	send := func(n int) (*http.Response, string) {
		t.Helper()
		resp, body := g.call(tc.door, tc.backend, tc.stream, tc.body(n, tc.stream))
		return resp, body
	}
	usage := func() (out, inFlight int64) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/usage", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u struct {
			Usage struct {
				OutputTokens int64 `json:"output_tokens"`
				InFlight     int64 `json:"in_flight"`
			} `json:"usage"`
		}
		json.NewDecoder(resp.Body).Decode(&u)
		return u.Usage.OutputTokens, u.Usage.InFlight
	}
	settled := func(after string) int64 {
		t.Helper()
		var out int64
		relWaitFor(t, "the call after "+after+" to settle", 10*time.Second, func() bool {
			o, inFlight := usage()
			out = o
			return inFlight == 0
		})
		if out > 100 {
			t.Fatalf("after %s: %d output tokens counted today, over the daily quota of 100", after, out)
		}
		return out
	}
	refused := func(n, status int, what string) {
		t.Helper()
		before := len(mock.asks())
		resp, body := send(n)
		if resp.StatusCode != status {
			t.Fatalf("n=%d (%s): status %d, want %d; body %.300s", n, what, resp.StatusCode, status, body)
		}
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(body), &e) != nil || e.Error.Message == "" {
			t.Fatalf("n=%d: not the %s door's error shape: %.300s", n, tc.door.name, body)
		}
		if status == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("n=%d: 429 without Retry-After", n)
		}
		if after := len(mock.asks()); after != before {
			t.Fatalf("n=%d (%s) reached the upstream", n, what)
		}
	}
	answered := func(n, wantCap int) {
		t.Helper()
		resp, body := send(n)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("n=%d: status %d, body %.300s", n, resp.StatusCode, body)
		}
		if got := tc.answers(t, body); got != n {
			t.Fatalf("n=%d: the answer carries %d choices, want all %d (the number is never cut)", n, got, n)
		}
		asks := mock.asks()
		if last := asks[len(asks)-1]; last.choices != n || last.cap != wantCap {
			t.Fatalf("n=%d: the upstream was asked for %d choices of %d tokens, want %d of %d", n, last.choices, last.cap, n, wantCap)
		}
	}

	refused(128, http.StatusTooManyRequests, "128 × 10 tokens on a 100-token quota")
	settled("n=128")
	refused(129, http.StatusBadRequest, "more than 128 choices")
	answered(8, 10) // 80 of 100
	settled("the first n=8")
	answered(8, 2) // 20 left: 2 a choice
	if out := settled("the second n=8"); out != 96 {
		t.Fatalf("output counted today: %d, want 96 (every choice's tokens)", out)
	}
	refused(8, http.StatusTooManyRequests, "4 tokens left for 8 choices")
	settled("the third n=8")
}

func runChoicesCases(t *testing.T, cases []choicesCase) {
	mock := &choicesMock{}
	up := newRelMock(t, mock.handle)
	g := startRelGateway(t, nil, "")
	for i, tc := range cases {
		name := fmt.Sprintf("%s-to-%s-stream-%t", tc.door.name, tc.backend, tc.stream)
		t.Run(name, func(t *testing.T) {
			runChoicesCase(t, g, up.URL, mock, fmt.Sprintf("choices-%d", i), tc)
		})
	}
}

func TestAttackNChoicesMultiplyOutput(t *testing.T) {
	count := func(t *testing.T, body string) int { return answerIndexes(t, body, "choices") }
	var cases []choicesCase
	for _, backend := range []string{beOpenAI, beGemini} { // forwarded, translated
		for _, stream := range []bool{false, true} {
			cases = append(cases, choicesCase{door: relOpenAI, backend: backend, stream: stream, body: openAIChoicesBody, answers: count})
		}
	}
	runChoicesCases(t, cases)
}

func TestAttackGeminiCandidateCount(t *testing.T) {
	count := func(t *testing.T, body string) int { return answerIndexes(t, body, "candidates") }
	var cases []choicesCase
	for _, backend := range []string{beGemini, beOpenAI} { // forwarded, translated
		for _, stream := range []bool{false, true} {
			cases = append(cases, choicesCase{door: relGemini, backend: backend, stream: stream, body: geminiChoicesBody, answers: count})
		}
	}
	runChoicesCases(t, cases)
}

// A Gemini upstream that reports no usage: the forwarded stream's estimate counts every
// candidate of every chunk, not one token a chunk.
func TestEstimatedStreamOutputCountsEveryCandidate(t *testing.T) {
	up := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		upstreamtest.WriteEvent(w, beGemini, "", `{"candidates":[{"content":{"role":"model","parts":[{"text":"a"}]},"index":0},{"content":{"role":"model","parts":[{"text":"b"}]},"index":1},{"content":{"role":"model","parts":[{"text":"c"}]},"index":2}]}`)
		upstreamtest.WriteEvent(w, beGemini, "", `{"candidates":[{"content":{"role":"model","parts":[{"text":"d"}]},"finishReason":"STOP","index":0},{"content":{"role":"model","parts":[{"text":"e"}]},"finishReason":"STOP","index":1},{"content":{"role":"model","parts":[{"text":"f"}]},"finishReason":"STOP","index":2}]}`)
	})
	g := startRelGateway(t, nil, "")
	g.createClient(beGemini, up.URL, nil)
	resp, body := g.call(relGemini, beGemini, true, geminiChoicesBody(3, true))
	if resp.StatusCode != http.StatusOK || answerIndexes(t, body, "candidates") != 3 {
		t.Fatalf("status %d, body %.300s", resp.StatusCode, body)
	}
	d := g.openDB()
	var rows []db.RequestLog
	relWaitFor(t, "the request log row", 10*time.Second, func() bool { rows = d.requestLogs(); return len(rows) == 1 })
	if r := rows[0]; !r.Estimated || r.OutputTokens != 6 {
		t.Fatalf("logged output %d (estimated %t), want an estimate of 6: 3 candidates in each of 2 chunks", r.OutputTokens, r.Estimated)
	}
}
