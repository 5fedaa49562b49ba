package upstreamtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// Reply is what a well-behaved upstream sends: texts as content events (or one message),
// and the usage it reports.
type Reply struct {
	Texts  []string
	Input  int
	Output int
}

func (a Reply) Joined() string { return strings.Join(a.Texts, "") }

// WriteEvent writes one event in the protocol's framing and flushes it.
func WriteEvent(w http.ResponseWriter, proto, name, data string) error {
	var err error
	switch proto {
	case Anthropic:
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
	case Gemini:
		_, err = fmt.Fprintf(w, "data: %s\r\n\r\n", data)
	default:
		_, err = fmt.Fprintf(w, "data: %s\n\n", data)
	}
	w.(http.Flusher).Flush()
	return err
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// WriteStreamHead writes the events before the content (OpenAI's role chunk, Anthropic's
// message_start with the input tokens, nothing for Gemini).
func WriteStreamHead(w http.ResponseWriter, proto string, input int) error {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	switch proto {
	case OpenAI:
		return WriteEvent(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`)
	case Anthropic:
		if err := WriteEvent(w, proto, "message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":1}}}`, input)); err != nil {
			return err
		}
		return WriteEvent(w, proto, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	}
	return nil
}

// WriteStreamText writes one content event.
func WriteStreamText(w http.ResponseWriter, proto, text string, input, outputSoFar int) error {
	switch proto {
	case OpenAI:
		return WriteEvent(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":`+quote(text)+`},"logprobs":null,"finish_reason":null}]}`)
	case Anthropic:
		return WriteEvent(w, proto, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+quote(text)+`}}`)
	}
	return WriteEvent(w, proto, "", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
		quote(text), input, outputSoFar, input+outputSoFar))
}

// WriteStreamTail ends a stream normally with the final usage.
func WriteStreamTail(w http.ResponseWriter, proto string, input, output int) error {
	switch proto {
	case OpenAI:
		if err := WriteEvent(w, proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`); err != nil {
			return err
		}
		if err := WriteEvent(w, proto, "", fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, input, output, input+output)); err != nil {
			return err
		}
		return WriteEvent(w, proto, "", "[DONE]")
	case Anthropic:
		WriteEvent(w, proto, "content_block_stop", `{"type":"content_block_stop","index":0}`)
		WriteEvent(w, proto, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, output))
		return WriteEvent(w, proto, "message_stop", `{"type":"message_stop"}`)
	}
	return WriteEvent(w, proto, "", fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`,
		input, output, input+output))
}

// WriteAnswer answers a request well: streamed event by event, or as one message.
func WriteAnswer(w http.ResponseWriter, u Request, a Reply) error {
	if u.Stream {
		if err := WriteStreamHead(w, u.Proto, a.Input); err != nil {
			return err
		}
		for i, t := range a.Texts {
			if err := WriteStreamText(w, u.Proto, t, a.Input, i+1); err != nil {
				return err
			}
		}
		return WriteStreamTail(w, u.Proto, a.Input, a.Output)
	}
	w.Header().Set("Content-Type", "application/json")
	text := quote(a.Joined())
	var body string
	switch u.Proto {
	case OpenAI:
		body = fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, text, a.Input, a.Output, a.Input+a.Output)
	case Anthropic:
		body = fmt.Sprintf(`{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`, text, a.Input, a.Output)
	default:
		body = fmt.Sprintf(`{"candidates":[{"content":{"role":"model","parts":[{"text":%s}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"m"}`, text, a.Input, a.Output, a.Input+a.Output)
	}
	_, err := io.WriteString(w, body)
	return err
}

// WriteError answers with status and the protocol's error body carrying message.
func WriteError(w http.ResponseWriter, proto string, status int, retryAfter, message string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch proto {
	case OpenAI:
		fmt.Fprintf(w, `{"error":{"message":%s,"type":"server_error","param":null,"code":null}}`, quote(message))
	case Anthropic:
		typ := "api_error"
		switch status {
		case 429:
			typ = "rate_limit_error"
		case 503, 529:
			typ = "overloaded_error"
		case 401:
			typ = "authentication_error"
		}
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%s}}`, typ, quote(message))
	default:
		st := "INTERNAL"
		switch status {
		case 429:
			st = "RESOURCE_EXHAUSTED"
		case 503:
			st = "UNAVAILABLE"
		case 401:
			st = "UNAUTHENTICATED"
		}
		fmt.Fprintf(w, `{"error":{"code":%d,"message":%s,"status":%q}}`, status, quote(message), st)
	}
}

// Reset cuts the connection under a handler: buffered bytes are flushed, then the socket is
// closed with an RST.
func Reset(t testing.TB, w http.ResponseWriter) {
	w.(http.Flusher).Flush()
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
