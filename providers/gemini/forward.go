package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// Protocol is the native Gemini API (providers.Forwarder).
func (c *Client) Protocol() string { return providers.ProtocolGemini }

// Forward is the same-protocol path (providers.Forwarder): only the system instruction and
// maxOutputTokens change in the body, and the model names the upstream path (validated, so no
// model id can change the URL's meaning). A stream is always asked of the upstream as SSE; the
// front door writes it in the caller's framing. OpCountTokens is models/{model}:countTokens.
func (c *Client) Forward(ctx context.Context, req providers.ForwardRequest) (providers.Forwarded, error) {
	path, err := modelPath(req.Policy.Model)
	if err != nil {
		return providers.Forwarded{}, err
	}
	var body []byte
	switch {
	case req.Op == providers.OpCountTokens:
		path += ":countTokens"
		body, err = RewriteCountTokens(req.Body, req.Policy.Model, req.Policy.SystemPrompt)
	case req.Stream:
		path += ":streamGenerateContent?alt=sse"
		body, err = RewriteRequest(req.Body, Rewrite{SystemPrompt: req.Policy.SystemPrompt, MaxTokens: req.Policy.MaxTokens})
	default:
		path += ":generateContent"
		body, err = RewriteRequest(req.Body, Rewrite{SystemPrompt: req.Policy.SystemPrompt, MaxTokens: req.Policy.MaxTokens})
	}
	if err != nil {
		return providers.Forwarded{}, err
	}
	// A rewritten body is this request's alone: it is sent without a copy.
	resp, err := c.sendBody(ctx, http.MethodPost, path, body, providers.Fresh(body, req.Body))
	if err != nil {
		return providers.Forwarded{}, c.asError(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return providers.Forwarded{}, c.redact(statusError(resp))
	}
	if !req.Stream {
		defer resp.Body.Close()
		b, buf, err := providers.ReadAnswer(resp.Body, resp.ContentLength, providers.MaxAnswerBody)
		if err != nil {
			return providers.Forwarded{}, c.asError(err)
		}
		if e := providers.CheckJSON(c.cfg.Backend, "response", b); e != nil {
			buf.Release()
			return providers.Forwarded{}, e
		}
		f := providers.Forwarded{Body: b, Buffer: buf}
		if req.Op == providers.OpGenerate {
			var finish FinishSniffer
			finish.Observe(b)
			u, ok := UsageFromChunk(b)
			f.Summary = providers.Summary{Usage: u, HasUsage: ok, FinishReason: finish.FinishReason()}
		}
		return f, nil
	}
	return providers.Forwarded{Frames: &frames{c: c, body: resp.Body, sse: providers.NewSSEReader(resp.Body)}}, nil
}

// redact keeps the upstream key out of an error message an upstream may have echoed it into.
func (c *Client) redact(e *providers.Error) *providers.Error {
	e.Provider = c.cfg.Backend
	if k := c.cfg.APIKey; k != "" {
		e.Message = strings.ReplaceAll(e.Message, k, "[redacted]")
	}
	return e
}

const usageKey = `"usageMetadata"`

// UsageFromChunk finds the usage in relayed Gemini bytes: one SSE chunk's data, a piece of a
// JSON-array stream, or a whole non-stream body. It looks for the last complete "usageMetadata"
// object (Gemini repeats it cumulatively, so the last one wins) and only parses that object;
// bytes without the key cost one bytes.Contains. ok is false when there is none.
func UsageFromChunk(data []byte) (providers.Usage, bool) {
	key := []byte(usageKey)
	if !bytes.Contains(data, key) {
		return providers.Usage{}, false
	}
	for idx := bytes.LastIndex(data, key); idx >= 0; idx = bytes.LastIndex(data[:idx], key) {
		j := jsonscan.SkipSpace(data, idx+len(usageKey))
		if j >= len(data) || data[j] != ':' {
			continue
		}
		v := jsonscan.SkipSpace(data, j+1)
		if v >= len(data) || data[v] != '{' {
			continue
		}
		end, err := jsonscan.SkipValue(data, v, 0)
		if err != nil {
			continue
		}
		var u gUsage
		if json.Unmarshal(data[v:end], &u) == nil {
			return usageFrom(&u), true
		}
	}
	return providers.Usage{}, false
}

// CandidatesIn counts the candidates of one relayed stream chunk, at least 1. A streamed chunk
// carries about one token for each candidate in it, so this is a chunk's output estimate when the
// upstream reports no usage (a request with candidateCount gets several per chunk).
func CandidatesIn(data []byte) int {
	n := 0
	_ = jsonscan.EachMember(data, func(key, val []byte) bool {
		if val[0] == '[' && jsonscan.KeyIs(key, "candidates") {
			_ = jsonscan.EachElement(val, func([]byte) bool { n++; return true })
		}
		return true
	})
	return max(n, 1)
}

// FinishSniffer reads the canonical finish reason from relayed Gemini bytes (each SSE chunk's
// data, or a whole non-stream body): the first candidate's finishReason mapped like a translated
// answer (STOP after a functionCall part is tool_calls), and content_filter for a blocked prompt.
// The zero value is ready. Bytes without those keys cost a few bytes.Contains calls.
type FinishSniffer struct {
	reason  string
	sawCall bool
	blocked bool
}

// Observe looks at one chunk.
func (f *FinishSniffer) Observe(data []byte) {
	if bytes.Contains(data, []byte(`"functionCall"`)) {
		f.sawCall = true
	}
	if bytes.Contains(data, []byte(`"blockReason"`)) {
		f.blocked = true
	}
	if !bytes.Contains(data, []byte(`"finishReason"`)) {
		return
	}
	var r struct {
		Candidates []struct {
			Index        int    `json:"index"`
			FinishReason string `json:"finishReason"`
		} `json:"candidates"`
	}
	if json.Unmarshal(data, &r) != nil {
		return
	}
	for _, c := range r.Candidates {
		if c.Index == 0 && c.FinishReason != "" {
			f.reason = c.FinishReason
		}
	}
}

// FinishReason is the canonical finish reason seen so far ("" when none).
func (f *FinishSniffer) FinishReason() string {
	switch {
	case f.reason != "":
		return finishReason(f.reason, f.sawCall)
	case f.blocked:
		return providers.FinishContentFilter
	}
	return ""
}

// frames relays a Gemini SSE stream chunk by chunk, sniffing usage and the finish reason.
type frames struct {
	c        *Client
	body     io.ReadCloser
	sse      *providers.SSEReader
	finish   FinishSniffer
	usage    providers.Usage
	hasUsage bool
	chunks   int
	err      error
}

func (f *frames) Next() (providers.Frame, error) {
	if f.err != nil {
		return providers.Frame{}, f.err
	}
	ev, err := f.sse.Next()
	switch {
	case errors.Is(err, io.EOF):
		f.err = io.EOF
		if e := providers.EndOfStream(f.c.cfg.Backend, f.chunks, f.finish.FinishReason() != ""); e != nil {
			f.err = e
		}
		return providers.Frame{}, f.err
	case err != nil:
		f.err = f.c.asError(err)
		return providers.Frame{}, f.err
	}
	if e := providers.CheckJSON(f.c.cfg.Backend, "stream chunk", ev.Data); e != nil {
		f.err = e
		return providers.Frame{}, e
	}
	pieces := 0
	if u, ok := UsageFromChunk(ev.Data); ok {
		f.usage, f.hasUsage = u, true
	} else if !f.hasUsage {
		pieces = CandidatesIn(ev.Data)
	}
	f.finish.Observe(ev.Data)
	f.chunks++
	return providers.Frame{Data: ev.Data, Content: true, Pieces: pieces}, nil
}

func (f *frames) Summary() providers.Summary {
	return providers.Summary{Usage: f.usage, HasUsage: f.hasUsage, FinishReason: f.finish.FinishReason()}
}

func (f *frames) Close() error { return providers.CloseStream(f.body, f.err == io.EOF) }
