package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// The cache usage every backend reports, in its own terms: 2,507 prompt tokens of which 2,000
// were read from the cache (and, on Anthropic, 500 written to it, 100 of them for an hour; 7
// uncached), 5 output tokens.
const (
	matrixPrompt  = 2507
	matrixCached  = 2000
	matrixWrite   = 500
	matrixWrite1h = 100
	matrixOutput  = 5
)

// cacheUsageMock answers every protocol with the usage above, streamed or not.
func cacheUsageMock(t *testing.T) http.HandlerFunc {
	anthropicUsage := fmt.Sprintf(`{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d},"output_tokens":%d}`,
		matrixPrompt-matrixCached-matrixWrite, matrixWrite, matrixCached, matrixWrite-matrixWrite1h, matrixWrite1h, matrixOutput)
	openaiUsage := fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d}}`,
		matrixPrompt, matrixOutput, matrixPrompt+matrixOutput, matrixCached)
	geminiUsage := fmt.Sprintf(`{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d,"cachedContentTokenCount":%d}`,
		matrixPrompt, matrixOutput, matrixPrompt+matrixOutput, matrixCached)
	return func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if !u.Stream {
			w.Header().Set("Content-Type", "application/json")
			switch u.Proto {
			case beAnthropic:
				fmt.Fprintf(w, `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":%s}`, anthropicUsage)
			case beOpenAI:
				fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":%s}`, openaiUsage)
			case beGemini:
				fmt.Fprintf(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP","index":0}],"usageMetadata":%s,"modelVersion":"m"}`, geminiUsage)
			default:
				t.Errorf("unexpected upstream request %s", r.URL.Path)
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		switch u.Proto {
		case beAnthropic:
			upstreamtest.WriteEvent(w, u.Proto, "message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":`+strings.Replace(anthropicUsage, `"output_tokens":5`, `"output_tokens":1`, 1)+`}}`)
			upstreamtest.WriteEvent(w, u.Proto, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
			upstreamtest.WriteEvent(w, u.Proto, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`)
			upstreamtest.WriteEvent(w, u.Proto, "content_block_stop", `{"type":"content_block_stop","index":0}`)
			upstreamtest.WriteEvent(w, u.Proto, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, matrixOutput))
			upstreamtest.WriteEvent(w, u.Proto, "message_stop", `{"type":"message_stop"}`)
		case beOpenAI:
			upstreamtest.WriteEvent(w, u.Proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"logprobs":null,"finish_reason":null}]}`)
			upstreamtest.WriteEvent(w, u.Proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
			upstreamtest.WriteEvent(w, u.Proto, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[],"usage":`+openaiUsage+`}`)
			upstreamtest.WriteEvent(w, u.Proto, "", "[DONE]")
		case beGemini:
			upstreamtest.WriteEvent(w, u.Proto, "", `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"index":0}],"modelVersion":"m"}`)
			upstreamtest.WriteEvent(w, u.Proto, "", `{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":`+geminiUsage+`,"modelVersion":"m"}`)
		}
	}
}

// anthropicUsageSeen is an Anthropic client's view of usage: message_start's, with what
// message_delta carries laid over it (as the SDKs accumulate it), or the Message's.
func anthropicUsageSeen(t *testing.T, stream bool, body string) map[string]json.RawMessage {
	t.Helper()
	if !stream {
		var m struct {
			Usage map[string]json.RawMessage `json:"usage"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil || m.Usage == nil {
			t.Fatalf("no usage in %s", body)
		}
		return m.Usage
	}
	out := map[string]json.RawMessage{}
	for _, d := range sseData(body) {
		var ev struct {
			Type    string `json:"type"`
			Message struct {
				Usage map[string]json.RawMessage `json:"usage"`
			} `json:"message"`
			Usage map[string]json.RawMessage `json:"usage"`
		}
		json.Unmarshal([]byte(d), &ev)
		src := ev.Usage
		if ev.Type == "message_start" {
			src = ev.Message.Usage
		}
		for k, v := range src {
			out[k] = v
		}
	}
	return out
}

// TestPromptCacheUsageEveryDoorAndBackend: Anthropic's, OpenAI's and Gemini's cache usage reach
// a client of each protocol, streamed and not, in that protocol's own fields and meaning:
// OpenAI's prompt_tokens and Gemini's promptTokenCount include the cache reads and writes,
// Anthropic's input_tokens excludes them (and a forwarded Anthropic answer keeps the 5m/1h split).
// Every request is logged with the same input and cached counts.
func TestPromptCacheUsageEveryDoorAndBackend(t *testing.T) {
	up := newRelMock(t, cacheUsageMock(t))
	g := startRelGateway(t, nil, up.URL)
	calls := 0
	for _, backend := range relBackends {
		// Only Anthropic reports cache writes; for the others the uncached input is the rest.
		write, write1h := 0, 0
		if backend == beAnthropic {
			write, write1h = matrixWrite, matrixWrite1h
		}
		for _, d := range relDoors {
			for _, stream := range []bool{false, true} {
				body := ""
				if d.name == "openai" && stream {
					body = `{"model":"m","messages":[{"role":"user","content":"hello there"}],"stream":true,"stream_options":{"include_usage":true}}`
				}
				resp, out := g.call(d, backend, stream, body)
				calls++
				if resp.StatusCode != 200 {
					t.Fatalf("%s → %s stream=%t: %d %s", d.name, backend, stream, resp.StatusCode, out)
				}
				where := fmt.Sprintf("%s door → %s backend, stream=%t", d.name, backend, stream)
				switch d.name {
				case "openai":
					u := openAIUsage(t, stream, out)
					if u.prompt != matrixPrompt || u.cached != matrixCached || u.total != matrixPrompt+matrixOutput {
						t.Errorf("%s: prompt_tokens %d cached_tokens %d total %d, want %d %d %d", where, u.prompt, u.cached, u.total,
							matrixPrompt, matrixCached, matrixPrompt+matrixOutput)
					}
				case "gemini":
					u := geminiUsage(t, stream, out)
					if u.prompt != matrixPrompt || u.cached != matrixCached || u.total != matrixPrompt+matrixOutput {
						t.Errorf("%s: promptTokenCount %d cachedContentTokenCount %d total %d, want %d %d %d", where, u.prompt, u.cached, u.total,
							matrixPrompt, matrixCached, matrixPrompt+matrixOutput)
					}
				case "anthropic":
					u := anthropicUsageSeen(t, stream, out)
					want := map[string]string{
						"input_tokens":                fmt.Sprint(matrixPrompt - matrixCached - write),
						"cache_read_input_tokens":     fmt.Sprint(matrixCached),
						"cache_creation_input_tokens": fmt.Sprint(write),
						"cache_creation":              fmt.Sprintf(`{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d}`, write-write1h, write1h),
						"output_tokens":               fmt.Sprint(matrixOutput),
					}
					for k, v := range want {
						if string(u[k]) != v {
							t.Errorf("%s: usage.%s = %s, want %s", where, k, u[k], v)
						}
					}
				}
			}
		}
	}

	d := g.openDB()
	relWaitFor(t, "the request log", 10*time.Second, func() bool { return len(d.requestLogs()) == calls })
	for _, r := range d.requestLogs() {
		if r.InputTokens != matrixPrompt || r.CachedTokens != matrixCached || r.OutputTokens != matrixOutput || r.Estimated {
			t.Errorf("log row %d (%s, client %d): input %d cached %d output %d estimated %t, want %d %d %d",
				r.ID, r.Endpoint, r.ClientID, r.InputTokens, r.CachedTokens, r.OutputTokens, r.Estimated, matrixPrompt, matrixCached, matrixOutput)
		}
	}
}
