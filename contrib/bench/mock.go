package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// mockUpstream is a fast OpenAI-compatible upstream for the benchmark. The request's model
// chooses the answer: "stream-N" streams N content events, anything else gets a ~1 KB
// non-stream answer. It does as little work as possible so the numbers measure the gateway.
type mockUpstream struct {
	answer []byte
	event  []byte
}

func newMockUpstream() *mockUpstream {
	text := strings.Repeat("lorem ipsum ", 80) // ~960 bytes of content
	answer := fmt.Sprintf(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":200,"total_tokens":212}}`, text)
	event := []byte(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{"content":"token "},"logprobs":null,"finish_reason":null}]}` + "\n\n")
	return &mockUpstream{answer: []byte(answer), event: event}
}

var (
	streamMarker = []byte(`"stream":true`)
	modelMarker  = []byte(`"model":"stream-`)
)

func (m *mockUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b := body.Bytes()
	if !bytes.Contains(b, streamMarker) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(m.answer)))
		w.Write(m.answer)
		return
	}
	events := 1
	if i := bytes.Index(b, modelMarker); i >= 0 {
		rest := b[i+len(modelMarker):]
		j := bytes.IndexByte(rest, '"')
		if n, err := strconv.Atoi(string(rest[:max(j, 0)])); err == nil && n > 0 {
			events = n
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	head := `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n"
	w.Write([]byte(head))
	fl.Flush()
	hold := r.URL.Query().Get("hold") != "" || bytes.Contains(b, []byte(`"model":"hold"`))
	if hold {
		<-r.Context().Done()
		return
	}
	for range events {
		if _, err := w.Write(m.event); err != nil {
			return
		}
		fl.Flush()
	}
	w.Write([]byte(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n"))
	w.Write([]byte(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":` + strconv.Itoa(events) + `,"total_tokens":` + strconv.Itoa(12+events) + `}}` + "\n\n"))
	w.Write([]byte("data: [DONE]\n\n"))
	fl.Flush()
}

// serveMock serves the mock on a free loopback port until the process ends, announcing its
// base URL on stdout for the parent bench process.
func serveMock() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println("http://" + ln.Addr().String())
	return http.Serve(ln, newMockUpstream())
}
