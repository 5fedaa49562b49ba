package gemini

import (
	"bytes"
	"net/http"
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

// malformed is the error for a response body that is not the JSON Gemini documents.
func malformed(detail string) *providers.Error {
	return &providers.Error{Kind: providers.KindUpstream, HTTPStatus: http.StatusBadGateway, Provider: "gemini",
		Message: "malformed response from Gemini: " + detail}
}
