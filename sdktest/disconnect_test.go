package sdktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// Wire-format snippets of the three upstream protocols, used by several tests.
const (
	openAIFirstChunk = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`

	anthropicFirstEvents = "event: message_start\n" +
		`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}` + "\n\n" +
		"event: content_block_start\n" +
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n" +
		"event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}` + "\n\n"

	geminiFirstChunk = `data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],` +
		`"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6},"modelVersion":"gemini-x"}` + "\r\n\r\n"
)

// TestClientDisconnectCancelsUpstream: when the client goes away, the gateway cancels its
// upstream request within a second (SPEC §10) — on every front door, on the forwarding and the
// translating path, mid-stream, while the upstream is silent, and while the handler still waits
// for the upstream's headers or for a whole non-streamed answer.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	g := startGateway(t)
	const (
		openAIBody    = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		anthropicBody = `{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
		geminiBody    = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
		noHeaders     = "no headers"
	)
	tests := []struct {
		name    string
		backend string
		// first is what the upstream sends before it goes silent: "" = nothing after its
		// headers, noHeaders = not even those.
		first string
		path  string
		body  string
	}{
		{"OpenAI door, forwarded, after the first chunk", "openai-compatible", data(openAIFirstChunk), "/v1/chat/completions", openAIBody},
		{"OpenAI door, forwarded, silent upstream", "openai-compatible", "", "/v1/chat/completions", openAIBody},
		{"OpenAI door, forwarded, no headers yet", "openai-compatible", noHeaders, "/v1/chat/completions", openAIBody},
		{"OpenAI door, forwarded, non-stream", "openai-compatible", noHeaders, "/v1/chat/completions", strings.Replace(openAIBody, "true", "false", 1)},
		{"OpenAI door, Anthropic backend, after the first event", "anthropic", anthropicFirstEvents, "/v1/chat/completions", openAIBody},
		{"OpenAI door, Anthropic backend, non-stream", "anthropic", noHeaders, "/v1/chat/completions", strings.Replace(openAIBody, "true", "false", 1)},
		{"OpenAI door, Gemini backend, silent upstream", "gemini", "", "/v1/chat/completions", openAIBody},
		{"Anthropic door, forwarded, after the first event", "anthropic", anthropicFirstEvents, "/v1/messages", anthropicBody},
		{"Anthropic door, forwarded, silent upstream", "anthropic", "", "/v1/messages", anthropicBody},
		{"Anthropic door, OpenAI backend, silent upstream", "openai-compatible", "", "/v1/messages", anthropicBody},
		{"Anthropic door, OpenAI backend, after the first chunk", "openai-compatible", data(openAIFirstChunk), "/v1/messages", anthropicBody},
		{"Gemini door (SSE), forwarded, after the first chunk", "gemini", geminiFirstChunk, "/v1beta/models/m:streamGenerateContent?alt=sse", geminiBody},
		{"Gemini door (SSE), forwarded, silent upstream", "gemini", "", "/v1beta/models/m:streamGenerateContent?alt=sse", geminiBody},
		{"Gemini door, forwarded, non-stream", "gemini", noHeaders, "/v1beta/models/m:generateContent", geminiBody},
		{"Gemini door (JSON array), forwarded, after the first chunk", "gemini", geminiFirstChunk, "/v1beta/models/m:streamGenerateContent", geminiBody},
		{"Gemini door (JSON array), forwarded, silent upstream", "gemini", "", "/v1beta/models/m:streamGenerateContent", geminiBody},
		{"Gemini door (JSON array), OpenAI backend, after the first chunk", "openai-compatible", data(openAIFirstChunk), "/v1beta/models/m:streamGenerateContent", geminiBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			arrived, canceled := make(chan struct{}), make(chan struct{})
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if tt.first != noHeaders {
					upstreamtest.WriteSSE(w, tt.first)
				}
				close(arrived)
				<-r.Context().Done()
				close(canceled)
			})
			base := up.URL
			if tt.backend == "openai-compatible" {
				base += "/v1"
			}
			key, _ := g.newClient(client{"backend": tt.backend, "base_url": base, "upstream_key": "up-key"})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", g.url+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-api-key", key)
			req.Header.Set("anthropic-version", "2023-06-01")
			// The client reads the answer until the first piece of text, then waits to be cancelled.
			sawText, clientDone := make(chan struct{}), make(chan error, 1)
			go func() {
				hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				resp, err := hc.Do(req)
				if err != nil {
					clientDone <- err
					return
				}
				defer resp.Body.Close()
				var got []byte
				buf := make([]byte, 4096)
				seen := false
				for {
					n, err := resp.Body.Read(buf)
					got = append(got, buf[:n]...)
					if !seen && bytes.Contains(got, []byte("Hel")) {
						close(sawText)
						seen = true
					}
					if err != nil {
						clientDone <- fmt.Errorf("%w after %q", err, got)
						return
					}
				}
			}()
			<-arrived
			if strings.Contains(tt.first, "Hel") {
				select {
				case <-sawText:
				case err := <-clientDone:
					t.Fatalf("the client never saw the first chunk: %v", err)
				}
			}
			select {
			case <-canceled:
				t.Fatal("the upstream was cancelled before the client left")
			default:
			}
			left := time.Now()
			cancel()
			select {
			case <-canceled:
				t.Logf("upstream cancelled %v after the client left", time.Since(left).Round(time.Millisecond))
			case <-time.After(time.Second):
				t.Fatal("the upstream request was still open 1s after the client left")
			}
			<-clientDone
		})
	}
}

// TestKeepaliveWhileUpstreamSilent: while the upstream is silent the client gets keepalives in
// its own protocol — an SSE comment, an Anthropic ping, whitespace between the elements of
// Gemini's JSON array — and the whole answer still parses.
func TestKeepaliveWhileUpstreamSilent(t *testing.T) {
	g := startGateway(t)
	tests := []struct {
		name, backend, base, path, body string
		// first and rest are what the upstream sends before and after its silence.
		first, rest string
		// keepalive must appear times times (the Anthropic encoder sends one ping of its own).
		keepalive string
		times     int
		parse     func(t *testing.T, out string) string
	}{
		{
			name: "OpenAI door", backend: "openai-compatible", base: "/v1", path: "/v1/chat/completions",
			body:  `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			first: strings.Join(chatStream("m", "Hel", "lo")[:2], ""), rest: strings.Join(chatStream("m", "Hel", "lo")[2:], ""),
			keepalive: ": keepalive\n\n",
			parse: func(t *testing.T, out string) string {
				var s strings.Builder
				for _, d := range sseData(out) {
					if d != "[DONE]" {
						s.WriteString(fmt.Sprint(orEmpty(at(decode(t, []byte(d)), "choices", 0, "delta", "content"))))
					}
				}
				return s.String()
			},
		},
		{
			name: "Anthropic door", backend: "openai-compatible", base: "/v1", path: "/v1/messages",
			body:  `{"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			first: strings.Join(chatStream("m", "Hel", "lo")[:2], ""), rest: strings.Join(chatStream("m", "Hel", "lo")[2:], ""),
			keepalive: "event: ping\ndata: {\"type\":\"ping\"}\n\n", times: 2,
			parse: func(t *testing.T, out string) string {
				names, datas := anthropicEvents(t, out)
				var s strings.Builder
				for i := range names {
					s.WriteString(fmt.Sprint(orEmpty(at(datas[i], "delta", "text"))))
				}
				return s.String()
			},
		},
		{
			name: "Gemini door, JSON array", backend: "gemini", path: "/v1beta/models/m:streamGenerateContent",
			body:  `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			first: geminiText("Hel", "lo")[0], rest: geminiText("Hel", "lo")[1], keepalive: "}\r\n",
			parse: func(t *testing.T, out string) string {
				var answers []map[string]any
				if err := jsonUnmarshal([]byte(out), &answers); err != nil {
					t.Fatalf("not a JSON array: %v\n%q", err, out)
				}
				var s strings.Builder
				for _, a := range answers {
					s.WriteString(fmt.Sprint(orEmpty(at(a, "candidates", 0, "content", "parts", 0, "text"))))
				}
				return s.String()
			},
		},
		{
			name: "Gemini door, SSE", backend: "gemini", path: "/v1beta/models/m:streamGenerateContent?alt=sse",
			body:  `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			first: geminiText("Hel", "lo")[0], rest: geminiText("Hel", "lo")[1], keepalive: ": keepalive\r\n\r\n",
			parse: func(t *testing.T, out string) string {
				var s strings.Builder
				for _, d := range sseData(out) {
					s.WriteString(fmt.Sprint(orEmpty(at(decode(t, []byte(d)), "candidates", 0, "content", "parts", 0, "text"))))
				}
				return s.String()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			release := make(chan struct{})
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				upstreamtest.WriteSSE(w, tt.first)
				select {
				case <-release: // the client has seen a keepalive
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, tt.rest)
			})
			key, _ := g.newClient(client{"backend": tt.backend, "base_url": up.URL + tt.base, "upstream_key": upstreamSecret})
			req, _ := http.NewRequest("POST", g.url+tt.path, strings.NewReader(tt.body))
			req.Header.Set("x-api-key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got []byte
			buf := make([]byte, 4096)
			released := false
			for {
				n, err := resp.Body.Read(buf)
				got = append(got, buf[:n]...)
				if !released && bytes.Count(got, []byte(tt.keepalive)) >= max(tt.times, 1) {
					close(release)
					released = true
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !released {
				t.Fatalf("no keepalive %q in %q", tt.keepalive, got)
			}
			if text := tt.parse(t, string(got)); text != "Hello" {
				t.Errorf("text %q from %q", text, got)
			}
		})
	}
}
