package gemini

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// maxCandidates bounds a candidate index taken from the wire (Gemini allows at most 8).
const maxCandidates = 256

// finishReason maps a Gemini finishReason onto the canonical one. Gemini says STOP when the turn
// ended in function calls, so sawCall turns a normal end into tool_calls.
func finishReason(reason string, sawCall bool) string {
	switch reason {
	case "MAX_TOKENS":
		return providers.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII":
		return providers.FinishContentFilter
	}
	if strings.HasPrefix(reason, "IMAGE_") {
		return providers.FinishContentFilter
	}
	if sawCall {
		return providers.FinishToolCalls
	}
	return providers.FinishStop
}

// usageFrom maps usageMetadata: completion tokens include thoughts, as canonical OutputTokens do.
func usageFrom(u *gUsage) providers.Usage {
	return providers.Usage{
		InputTokens:     u.PromptTokenCount,
		OutputTokens:    u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens:    u.CachedContentTokenCount,
		ReasoningTokens: u.ThoughtsTokenCount,
	}
}

// toolCallFrom builds the canonical call for a functionCall part; the id carries the name, the
// upstream id and the part's signature (see encodeToolID).
func toolCallFrom(p *gPart, random string) providers.ToolCall {
	fc := p.FunctionCall
	args := "{}"
	if a := bytes.TrimSpace(fc.Args); len(a) > 0 && string(a) != "null" {
		args = compactJSON(a)
	}
	return providers.ToolCall{
		ID:        encodeToolID(random, fc.Name, fc.ID, p.ThoughtSignature),
		Name:      fc.Name,
		Arguments: args,
		Signature: p.ThoughtSignature,
	}
}

// decodeResponse translates a GenerateContentResponse. A prompt blocked before generation
// (HTTP 200, promptFeedback.blockReason, no candidates) becomes one content_filter choice with
// empty content. model is used when the response names none; random makes tool-call ids.
func decodeResponse(r *gResponse, model string, random func() string) (*providers.Response, error) {
	resp := &providers.Response{ID: r.ResponseID, Model: r.ModelVersion}
	if resp.Model == "" {
		resp.Model = model
	}
	if resp.ID == "" {
		resp.ID = random()
	}
	if r.UsageMetadata != nil {
		resp.Usage = usageFrom(r.UsageMetadata)
	}
	for _, c := range r.Candidates {
		if c.Index < 0 || c.Index >= maxCandidates {
			return nil, malformed("candidate index out of range")
		}
		msg := providers.Message{Role: providers.RoleAssistant}
		var text, reasoning strings.Builder
		var media []providers.Part
		if c.Content != nil {
			for i := range c.Content.Parts {
				p := &c.Content.Parts[i]
				switch {
				case p.FunctionCall != nil:
					msg.ToolCalls = append(msg.ToolCalls, toolCallFrom(p, random()))
				case p.Thought:
					reasoning.WriteString(p.Text)
				case p.Text != "":
					text.WriteString(p.Text)
				case p.InlineData != nil:
					media = append(media, providers.Part{Type: providers.PartImage, MIMEType: p.InlineData.MimeType,
						URL: "data:" + p.InlineData.MimeType + ";base64," + p.InlineData.Data})
				case p.FileData != nil:
					media = append(media, providers.Part{Type: providers.PartImage, MIMEType: p.FileData.MimeType,
						URL: p.FileData.FileURI})
				}
			}
		}
		if text.Len() > 0 {
			msg.Content = append(msg.Content, providers.TextPart(text.String()))
		}
		msg.Content = append(msg.Content, media...)
		msg.Reasoning = reasoning.String()
		resp.Choices = append(resp.Choices, providers.Choice{
			Index:        c.Index,
			Message:      msg,
			FinishReason: finishReason(c.FinishReason, len(msg.ToolCalls) > 0),
		})
	}
	if len(resp.Choices) == 0 {
		reason := providers.FinishStop
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			reason = providers.FinishContentFilter
		}
		resp.Choices = []providers.Choice{{Message: providers.Message{Role: providers.RoleAssistant}, FinishReason: reason}}
	}
	return resp, nil
}

// streamDecoder turns the data of each streamGenerateContent SSE event (one whole
// GenerateContentResponse with incremental parts) into canonical stream events.
type streamDecoder struct {
	model  string
	random func() string

	started  bool
	nextTool int
	sawCall  map[int]bool
	usage    providers.Usage
	hasUsage bool
	// finished is set once a finish reason (or a prompt block) arrived: a stream that ends
	// without one was cut off.
	finished bool
}

// decode appends the events of one chunk to out. Each chunk yields, in order: EventStart (first
// chunk only), the candidates' text, reasoning and tool-call events, their finish events, and an
// EventUsage when usageMetadata changed (it is cumulative; the last one wins). An error object
// in the stream becomes the upstream's *providers.Error; malformed JSON a KindUpstream one.
// Thought signatures on text parts are not passed on: Gemini validates only the signatures of
// function calls, and those travel in the tool-call ids.
func (d *streamDecoder) decode(data []byte, out []providers.StreamEvent) ([]providers.StreamEvent, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return out, nil
	}
	var r gResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return out, malformed(err.Error())
	}
	if r.Error != nil {
		return out, errorFrom(r.Error, http.StatusBadGateway, "")
	}
	if !d.started {
		d.started = true
		ev := providers.StreamEvent{Kind: providers.EventStart, ID: r.ResponseID, Model: r.ModelVersion}
		if ev.ID == "" {
			ev.ID = d.random()
		}
		if ev.Model == "" {
			ev.Model = d.model
		}
		out = append(out, ev)
	}
	var finishes []providers.StreamEvent
	for ci := range r.Candidates {
		c := &r.Candidates[ci]
		if c.Index < 0 || c.Index >= maxCandidates {
			return out, malformed("candidate index out of range")
		}
		if c.Content != nil {
			for i := range c.Content.Parts {
				p := &c.Content.Parts[i]
				switch {
				case p.FunctionCall != nil:
					tc := toolCallFrom(p, d.random())
					out = append(out, providers.StreamEvent{Kind: providers.EventToolCall, Choice: c.Index,
						ToolIndex: d.nextTool, ToolID: tc.ID, ToolName: tc.Name, Args: tc.Arguments, Signature: tc.Signature})
					d.nextTool++
					if d.sawCall == nil {
						d.sawCall = map[int]bool{}
					}
					d.sawCall[c.Index] = true
				case p.Text == "":
				case p.Thought:
					out = append(out, providers.StreamEvent{Kind: providers.EventReasoning, Choice: c.Index, Text: p.Text})
				default:
					out = append(out, providers.StreamEvent{Kind: providers.EventText, Choice: c.Index, Text: p.Text})
				}
			}
		}
		if c.FinishReason != "" {
			finishes = append(finishes, providers.StreamEvent{Kind: providers.EventFinish, Choice: c.Index,
				FinishReason: finishReason(c.FinishReason, d.sawCall[c.Index])})
		}
	}
	out = append(out, finishes...)
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		out = append(out, providers.StreamEvent{Kind: providers.EventFinish, FinishReason: providers.FinishContentFilter})
		d.finished = true
	}
	if len(finishes) > 0 {
		d.finished = true
	}
	if r.UsageMetadata != nil {
		u := usageFrom(r.UsageMetadata)
		if !d.hasUsage || u != d.usage {
			d.usage, d.hasUsage = u, true
			out = append(out, providers.StreamEvent{Kind: providers.EventUsage, Usage: &u})
		}
	}
	return out, nil
}

// malformed is the error for a response body that is not the JSON Gemini documents.
func malformed(detail string) *providers.Error {
	return &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway, Provider: "gemini",
		Message: "malformed response from Gemini: " + detail}
}

// errorFrom builds the *providers.Error for a Gemini error object; status is used when the
// object carries no code.
func errorFrom(e *gError, status int, retryAfter string) *providers.Error {
	if e.Code >= 400 && e.Code <= 599 {
		status = e.Code
	}
	if retryAfter == "" {
		retryAfter = retryDelay(e.Details)
	}
	return providers.UpstreamError("gemini", status, e.Message, e.Status, e.Status, retryAfter)
}

// retryDelay reads the google.rpc.RetryInfo detail ("retryDelay":"17s" or "1.5s") that Gemini puts
// on 429s instead of a Retry-After header, as whole seconds (rounded up).
func retryDelay(details json.RawMessage) string {
	if len(details) == 0 || !bytes.Contains(details, []byte("retryDelay")) {
		return ""
	}
	var ds []struct {
		RetryDelay string `json:"retryDelay"`
	}
	if json.Unmarshal(details, &ds) != nil {
		return ""
	}
	for _, d := range ds {
		s, ok := strings.CutSuffix(d.RetryDelay, "s")
		if !ok || s == "" {
			continue
		}
		whole, frac, _ := strings.Cut(s, ".")
		n := 0
		for _, c := range whole {
			if c < '0' || c > '9' || n > 1e6 {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n < 0 {
			continue
		}
		if strings.Trim(frac, "0") != "" {
			n++
		}
		return strconv.Itoa(n)
	}
	return ""
}
