package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Behaviours the soak asks the mock upstream for, named in the request's prompt ("soak:<name>"),
// which survives every translation.
const (
	behaveOK     = "ok"     // a normal answer
	behaveSlow   = "slow"   // a normal answer, streamed with pauses
	behaveLag    = "lag"    // a normal answer after 30ms of thought before the headers
	behave500    = "err500" // HTTP 500 with the protocol's error body
	behave429    = "err429" // HTTP 429 with Retry-After
	behaveReset  = "reset"  // the connection is cut mid-answer
	behaveHangup = "hangup" // an endless stream: the soak client hangs up
)

var behaviourMarker = regexp.MustCompile(`soak:([a-z0-9]+)`)

// Usage every well-behaved answer reports.
const (
	answerInput  = 11
	answerEvents = 6
)

// tally is what the upstream did for one protocol.
type tally struct {
	Received int64 // requests received
	Served   int64 // answered in full with a success
	Input    int64 // tokens reported in answers served in full
	Output   int64
	Failed   int64 // answered with an error status
	Cut      int64 // reset, or ended because the gateway hung up
}

// mockUpstream speaks the OpenAI, Anthropic and Gemini wire formats on one server.
type mockUpstream struct {
	mu      sync.Mutex
	tallies map[string]*tally
}

func newMockUpstream() *mockUpstream {
	return &mockUpstream{tallies: map[string]*tally{protoOpenAI: {}, protoAnthropic: {}, protoGemini: {}}}
}

func (m *mockUpstream) count(proto string, f func(*tally)) {
	m.mu.Lock()
	f(m.tallies[proto])
	m.mu.Unlock()
}

func (m *mockUpstream) snapshot() map[string]tally {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]tally{}
	for k, v := range m.tallies {
		out[k] = *v
	}
	return out
}

func protoOf(r *http.Request) string {
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		return protoOpenAI
	case strings.HasSuffix(r.URL.Path, "/v1/messages"):
		return protoAnthropic
	case strings.Contains(r.URL.Path, "/v1beta/models/"):
		return protoGemini
	}
	return ""
}

func (m *mockUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	proto := protoOf(r)
	if proto == "" {
		http.NotFound(w, r)
		return
	}
	m.count(proto, func(t *tally) { t.Received++ })
	stream := strings.Contains(r.URL.Path, ":streamGenerateContent")
	if proto != protoGemini {
		var s struct {
			Stream bool `json:"stream"`
		}
		json.Unmarshal(body, &s)
		stream = s.Stream
	}
	behave := behaveOK
	if mm := behaviourMarker.FindSubmatch(body); mm != nil {
		behave = string(mm[1])
	}
	a := answer{w: w, proto: proto}
	if behave == behaveLag {
		time.Sleep(30 * time.Millisecond)
	}
	switch behave {
	case behave500, behave429:
		status := http.StatusInternalServerError
		if behave == behave429 {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "3")
		}
		a.error(status, "injected failure")
		m.count(proto, func(t *tally) { t.Failed++ })
		return
	case behaveReset:
		if stream {
			a.head()
			a.text("partial ", 1)
			a.text("answer ", 2)
		}
		reset(w)
		m.count(proto, func(t *tally) { t.Cut++ })
		return
	case behaveHangup:
		a.head()
		for i := 1; ; i++ {
			if a.text("more ", i) != nil {
				break
			}
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Millisecond):
				continue
			}
			break
		}
		m.count(proto, func(t *tally) { t.Cut++ })
		return
	}
	if !stream {
		if a.message(strings.Repeat("word ", answerEvents)) != nil {
			m.count(proto, func(t *tally) { t.Cut++ })
			return
		}
	} else {
		a.head()
		for i := 1; i <= answerEvents; i++ {
			if behave == behaveSlow {
				time.Sleep(40 * time.Millisecond)
			}
			if a.text("word ", i) != nil {
				m.count(proto, func(t *tally) { t.Cut++ })
				return
			}
		}
		if a.tail() != nil {
			m.count(proto, func(t *tally) { t.Cut++ })
			return
		}
	}
	m.count(proto, func(t *tally) {
		t.Served++
		t.Input += answerInput
		t.Output += answerEvents
	})
}

// answer writes one protocol's answer events.
type answer struct {
	w     http.ResponseWriter
	proto string
}

func (a answer) event(name, data string) error {
	var err error
	switch a.proto {
	case protoAnthropic:
		_, err = fmt.Fprintf(a.w, "event: %s\ndata: %s\n\n", name, data)
	case protoGemini:
		_, err = fmt.Fprintf(a.w, "data: %s\r\n\r\n", data)
	default:
		_, err = fmt.Fprintf(a.w, "data: %s\n\n", data)
	}
	if err == nil {
		a.w.(http.Flusher).Flush()
	}
	return err
}

func (a answer) head() error {
	a.w.Header().Set("Content-Type", "text/event-stream")
	a.w.WriteHeader(http.StatusOK)
	switch a.proto {
	case protoOpenAI:
		return a.event("", `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	case protoAnthropic:
		if err := a.event("message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":1}}}`, answerInput)); err != nil {
			return err
		}
		return a.event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	}
	return nil
}

func (a answer) text(s string, n int) error {
	q, _ := json.Marshal(s)
	switch a.proto {
	case protoOpenAI:
		return a.event("", `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":`+string(q)+`},"finish_reason":null}]}`)
	case protoAnthropic:
		return a.event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(q)+`}}`)
	}
	return a.event("", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d}}`,
		q, answerInput, n, answerInput+n))
}

func (a answer) tail() error {
	switch a.proto {
	case protoOpenAI:
		if err := a.event("", `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`); err != nil {
			return err
		}
		if err := a.event("", fmt.Sprintf(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, answerInput, answerEvents, answerInput+answerEvents)); err != nil {
			return err
		}
		return a.event("", "[DONE]")
	case protoAnthropic:
		if err := a.event("content_block_stop", `{"type":"content_block_stop","index":0}`); err != nil {
			return err
		}
		if err := a.event("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, answerEvents)); err != nil {
			return err
		}
		return a.event("message_stop", `{"type":"message_stop"}`)
	}
	return a.event("", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d}}`,
		answerInput, answerEvents, answerInput+answerEvents))
}

func (a answer) message(text string) error {
	q, _ := json.Marshal(text)
	a.w.Header().Set("Content-Type", "application/json")
	var err error
	switch a.proto {
	case protoOpenAI:
		_, err = fmt.Fprintf(a.w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, q, answerInput, answerEvents, answerInput+answerEvents)
	case protoAnthropic:
		_, err = fmt.Fprintf(a.w, `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`, q, answerInput, answerEvents)
	default:
		_, err = fmt.Fprintf(a.w, `{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d}}`, q, answerInput, answerEvents, answerInput+answerEvents)
	}
	return err
}

func (a answer) error(status int, msg string) {
	a.w.Header().Set("Content-Type", "application/json")
	a.w.WriteHeader(status)
	switch a.proto {
	case protoOpenAI:
		fmt.Fprintf(a.w, `{"error":{"message":%q,"type":"server_error","param":null,"code":null}}`, msg)
	case protoAnthropic:
		typ := "api_error"
		if status == http.StatusTooManyRequests {
			typ = "rate_limit_error"
		}
		fmt.Fprintf(a.w, `{"type":"error","error":{"type":%q,"message":%q}}`, typ, msg)
	default:
		st := "INTERNAL"
		if status == http.StatusTooManyRequests {
			st = "RESOURCE_EXHAUSTED"
		}
		fmt.Fprintf(a.w, `{"error":{"code":%d,"message":%q,"status":%q}}`, status, msg, st)
	}
}

// reset cuts the connection with an RST after what was written so far.
func reset(w http.ResponseWriter) {
	w.(http.Flusher).Flush()
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// serveMock starts the mock on a free loopback port.
func serveMock(m *mockUpstream) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: m}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
