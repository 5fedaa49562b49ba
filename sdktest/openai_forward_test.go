package sdktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// members splits a JSON object into its members' raw bytes.
func members(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object %q: %v", b, err)
	}
	return m
}

// elements splits a JSON array into its elements' raw bytes.
func elements(t *testing.T, b []byte) []json.RawMessage {
	t.Helper()
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("not a JSON array %q: %v", b, err)
	}
	return a
}

// A request body with everything a re-encoding gateway would lose: unknown fields, array
// content with an image, "temperature": 0, numbers in their own spelling, odd whitespace.
const richChatBody = `{"model":"gpt-4o",  "messages":[{"role":"system","content":[{"type":"text","text":"sys"}]},` +
	`{"role":"user","content":[{"type":"text","text":"What is in this image?"},` +
	`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==","detail":"high"}}],"name":"ann"}],` +
	`"temperature":0,"top_p":1.0,"x_vendor_extension":{"nested":[1,2.50,"\u00e9"]},"logit_bias":{"50256":-100},` +
	`"seed":42,"max_tokens":64,"response_format":{"type":"json_object"},"tools":[{"type":"function","function":` +
	`{"name":"f","parameters":{"type":"object","properties":{},"additionalProperties":false},"strict":true}}]}`

// TestOpenAIForwardKeepsBody: on the same-protocol path only policy changes the body (SPEC §5):
// every other member reaches the upstream byte for byte.
func TestOpenAIForwardKeepsBody(t *testing.T) {
	g := startGateway(t)
	up := openAIUpstream(t)
	plain, _ := g.newClient(openAIClient(up, client{"quota": client{"max_output_tokens": 0}}))
	policed, _ := g.newClient(openAIClient(up, client{"system_prompt": "Be kind.", "quota": client{"max_output_tokens": 32}}))

	t.Run("no policy to apply: identical bytes", func(t *testing.T) {
		g := g.at(t)
		resp, out := g.call("POST", "/v1/chat/completions", richChatBody, "Authorization", "Bearer "+plain)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		if got := up.Last(t).Body; string(got) != richChatBody {
			t.Errorf("upstream body changed:\n got %s\nwant %s", got, richChatBody)
		}
		// The answer comes back as the upstream sent it.
		if out != chatCompletion("gpt-4o", "Hello") {
			t.Errorf("answer changed: %s", out)
		}
	})

	t.Run("stream: only stream_options added", func(t *testing.T) {
		g := g.at(t)
		body := strings.Replace(richChatBody, `"seed":42,`, `"seed":42,"stream":true,`, 1)
		resp, _ := g.call("POST", "/v1/chat/completions", body, "Authorization", "Bearer "+plain)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		sent, got := members(t, []byte(body)), members(t, up.Last(t).Body)
		for k, v := range sent {
			if !bytes.Equal(got[k], v) {
				t.Errorf("%s: upstream got %s, want %s", k, got[k], v)
			}
		}
		if string(got["stream_options"]) != `{"include_usage":true}` {
			t.Errorf("stream_options %s", got["stream_options"])
		}
		if len(got) != len(sent)+1 {
			t.Errorf("upstream members %d, want %d", len(got), len(sent)+1)
		}
	})

	t.Run("policy: system prompt first, cap lowered, the rest untouched", func(t *testing.T) {
		g := g.at(t)
		resp, out := g.call("POST", "/v1/chat/completions", richChatBody, "Authorization", "Bearer "+policed)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		sent, got := members(t, []byte(richChatBody)), members(t, up.Last(t).Body)
		for k, v := range sent {
			switch k {
			case "messages":
				sm, gm := elements(t, v), elements(t, got[k])
				if len(gm) != len(sm)+1 || string(gm[0]) != `{"role":"system","content":"Be kind."}` {
					t.Fatalf("messages %s", got[k])
				}
				for i := range sm {
					if !bytes.Equal(gm[i+1], sm[i]) {
						t.Errorf("message %d changed: %s", i, gm[i+1])
					}
				}
			case "max_tokens":
				if string(got[k]) != "32" {
					t.Errorf("max_tokens %s, want 32", got[k])
				}
			default:
				if !bytes.Equal(got[k], v) {
					t.Errorf("%s: upstream got %s, want %s", k, got[k], v)
				}
			}
		}
	})
}

// usageReport is the part of GET /v1/usage these tests read.
type usageReport struct {
	Usage struct {
		Requests int64 `json:"requests"`
		// Refused of Requests were refused by the gateway (they do not count against the quota).
		Refused      int64 `json:"refused"`
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
	} `json:"usage"`
}

func (g *gateway) usage(key string) usageReport {
	g.t.Helper()
	resp, out := g.call("GET", "/v1/usage", "", "Authorization", "Bearer "+key)
	if resp.StatusCode != 200 {
		g.t.Fatalf("/v1/usage: %d %s", resp.StatusCode, out)
	}
	var u usageReport
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		g.t.Fatal(err)
	}
	return u
}

// TestOpenAIStreamUsage: usage is always real — include_usage is forced upstream — and the usage
// chunk reaches only the clients that asked for it.
func TestOpenAIStreamUsage(t *testing.T) {
	g := startGateway(t)
	up := openAIUpstream(t)
	key, _ := g.newClient(openAIClient(up, nil))

	tests := []struct {
		name          string
		streamOptions string
		wantUsage     bool
	}{
		{"no stream_options", ``, false},
		{"include_usage true", `,"stream_options":{"include_usage":true}`, true},
		{"include_usage false", `,"stream_options":{"include_usage":false}`, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			body := `{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"hi"}]` + tt.streamOptions + `}`
			resp, out := g.call("POST", "/v1/chat/completions", body, "Authorization", "Bearer "+key)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), out)
			}
			if so := at(decode(t, up.Last(t).Body), "stream_options", "include_usage"); so != true {
				t.Errorf("upstream include_usage %v, want true", so)
			}
			events := sseData(out)
			if len(events) == 0 || events[len(events)-1] != "[DONE]" {
				t.Fatalf("stream does not end with [DONE]: %q", out)
			}
			var text strings.Builder
			sawUsage := false
			for _, ev := range events[:len(events)-1] {
				v := decode(t, []byte(ev))
				if u, ok := v["usage"].(map[string]any); ok {
					sawUsage = true
					if u["prompt_tokens"] != float64(11) || u["completion_tokens"] != float64(7) {
						t.Errorf("usage %v", u)
					}
				}
				if s, ok := at(v, "choices", 0, "delta", "content").(string); ok {
					text.WriteString(s)
				}
			}
			if sawUsage != tt.wantUsage {
				t.Errorf("usage chunk sent: %v, want %v\n%s", sawUsage, tt.wantUsage, out)
			}
			if text.String() != "Hello" {
				t.Errorf("text %q", text.String())
			}
			// The upstream's own counts are what got accounted, whether the client saw them or not.
			u := g.usage(key)
			if n := int64(i + 1); u.Usage.Requests != n || u.Usage.InputTokens != 11*n || u.Usage.OutputTokens != 7*n {
				t.Errorf("accounted %+v after %d streams of 11 in / 7 out", u.Usage, n)
			}
		})
	}
}

// TestOpenAIUpstreamErrors: statuses are truthful, errors keep the OpenAI shape, a stream that
// fails after it started ends with an in-band error event, and no answer is ever an empty 200.
func TestOpenAIUpstreamErrors(t *testing.T) {
	g := startGateway(t)
	head := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}`
	tests := []struct {
		name   string
		stream bool
		reply  func(w http.ResponseWriter)
		status int
		// message must appear in the error; retryAfter is the expected Retry-After.
		message    string
		retryAfter string
		// inBand: the error arrives as a stream event after a 200 (the stream had started).
		inBand bool
		// partial: content the client got before the error.
		partial string
		// fields are error members that must come through as the upstream sent them.
		fields map[string]any
	}{
		{name: "400 passed on with its fields", reply: func(w http.ResponseWriter) {
			upstreamtest.WriteJSON(w, 400, `{"error":{"message":"temperature is out of range","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`)
		}, status: 400, message: "temperature is out of range",
			fields: map[string]any{"type": "invalid_request_error", "param": "temperature", "code": "invalid_value"}},
		{name: "429 keeps Retry-After", reply: func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			upstreamtest.WriteJSON(w, 429, `{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}`)
		}, status: 429, message: "slow down", retryAfter: "7"},
		{name: "500", reply: func(w http.ResponseWriter) {
			upstreamtest.WriteJSON(w, 500, `{"error":{"message":"the model crashed","type":"server_error","param":null,"code":null}}`)
		}, status: 500, message: "the model crashed"},
		{name: "503 before a stream", stream: true, reply: func(w http.ResponseWriter) {
			upstreamtest.WriteJSON(w, 503, `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`)
		}, status: 503, message: "overloaded"},
		{name: "empty 200 from the upstream", reply: func(w http.ResponseWriter) {
			w.WriteHeader(200)
		}, status: 502},
		{name: "non-JSON 200 from the upstream", reply: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(200)
			w.Write([]byte("<html>proxy error</html>"))
		}, status: 502},
		{name: "stream that ends before any event", stream: true, reply: func(w http.ResponseWriter) {
			upstreamtest.WriteSSE(w)
		}, status: 200, inBand: true},
		{name: "error event mid-stream", stream: true, reply: func(w http.ResponseWriter) {
			upstreamtest.WriteSSE(w, data(head), data(`{"error":{"message":"upstream exploded","type":"server_error","param":null,"code":"boom"}}`))
		}, status: 200, inBand: true, message: "upstream exploded", partial: "partial"},
		{name: "malformed chunk mid-stream", stream: true, reply: func(w http.ResponseWriter) {
			upstreamtest.WriteSSE(w, data(head), data(`{"choices":[{`))
		}, status: 200, inBand: true, partial: "partial"},
		{name: "connection dropped mid-stream", stream: true, reply: func(w http.ResponseWriter) {
			upstreamtest.WriteSSE(w, data(head))
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err == nil {
				buf.Flush()
				conn.Close()
			}
		}, status: 200, inBand: true, partial: "partial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g.at(t)
			up := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { tt.reply(w) })
			key, _ := g.newClient(openAIClient(up, nil))
			stream := "false"
			if tt.stream {
				stream = "true"
			}
			resp, out := g.call("POST", "/v1/chat/completions",
				`{"model":"m","stream":`+stream+`,"messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+key)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, out)
			}
			if strings.TrimSpace(out) == "" {
				t.Fatal("empty answer")
			}
			var e map[string]any
			if tt.inBand {
				events := sseData(out)
				if len(events) == 0 {
					t.Fatalf("no events: %q", out)
				}
				lastEv := events[len(events)-1]
				if lastEv == "[DONE]" {
					t.Fatalf("a failed stream ended with [DONE]: %q", out)
				}
				e, _ = decode(t, []byte(lastEv))["error"].(map[string]any)
				var text strings.Builder
				for _, ev := range events[:len(events)-1] {
					if s, ok := at(decode(t, []byte(ev)), "choices", 0, "delta", "content").(string); ok {
						text.WriteString(s)
					}
				}
				if text.String() != tt.partial {
					t.Errorf("content before the error %q, want %q", text.String(), tt.partial)
				}
			} else {
				e, _ = decode(t, []byte(out))["error"].(map[string]any)
			}
			if e == nil {
				t.Fatalf("no OpenAI error object in %s", out)
			}
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error lacks %q: %s", k, out)
				}
			}
			msg, _ := e["message"].(string)
			if msg == "" || !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want it to contain %q", msg, tt.message)
			}
			for k, v := range tt.fields {
				if e[k] != v {
					t.Errorf("error %s = %v, want %v", k, e[k], v)
				}
			}
			if strings.Contains(out, upstreamSecret) {
				t.Error("the upstream key is in the answer")
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}

	t.Run("upstream unreachable", func(t *testing.T) {
		g := g.at(t)
		up := newUpstream(t, func(http.ResponseWriter, *http.Request, []byte) {})
		key, _ := g.newClient(openAIClient(up, nil))
		up.Close()
		for _, stream := range []string{"false", "true"} {
			resp, out := g.call("POST", "/v1/chat/completions",
				`{"model":"m","stream":`+stream+`,"messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+key)
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("stream=%s: status %d, want 502: %s", stream, resp.StatusCode, out)
			}
			if at(decode(t, []byte(out)), "error", "message") == nil {
				t.Errorf("no error message: %s", out)
			}
		}
	})
}
