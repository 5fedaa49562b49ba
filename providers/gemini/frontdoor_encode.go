package gemini

import (
	"encoding/base64"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// EncodeResponse renders a canonical response as a GenerateContentResponse: one candidate per
// choice (content role "model"; parts: reasoning as thought text, text, images, functionCall
// {id,name,args} with its thoughtSignature), finishReason mapped back (stop and tool_calls → STOP,
// length → MAX_TOKENS, content_filter → SAFETY), usageMetadata, modelVersion and responseId.
func EncodeResponse(resp *providers.Response) []byte {
	out := gResponse{ModelVersion: resp.Model, ResponseID: resp.ID, UsageMetadata: usageMetadata(&resp.Usage)}
	for i := range resp.Choices {
		ch := &resp.Choices[i]
		out.Candidates = append(out.Candidates, gCandidate{
			Content:      &gContent{Role: "model", Parts: responseParts(&ch.Message)},
			FinishReason: finishReasonOut(ch.FinishReason),
			Index:        ch.Index,
		})
	}
	return marshal(out)
}

func responseParts(m *providers.Message) []gPart {
	parts := []gPart{}
	if m.Reasoning != "" {
		parts = append(parts, gPart{Text: m.Reasoning, Thought: true})
	}
	for _, p := range m.Content {
		switch p.Type {
		case providers.PartText:
			if p.Text != "" {
				parts = append(parts, gPart{Text: p.Text})
			}
		case providers.PartImage:
			if p.URL != "" {
				parts = append(parts, mediaPart(p))
			}
		}
	}
	for _, tc := range m.ToolCalls {
		args, err := toolArgs(tc.Arguments)
		if err != nil {
			args = []byte("{}")
		} else {
			args = []byte(compactJSON(args))
		}
		parts = append(parts, gPart{
			FunctionCall:     &gFunctionCall{ID: tc.ID, Name: tc.Name, Args: args},
			ThoughtSignature: signatureOut(tc.Signature),
		})
	}
	return parts
}

// signatureOut keeps a thought signature only when it is standard base64: the Go SDK decodes
// thoughtSignature into []byte and would reject the whole response otherwise.
func signatureOut(sig string) string {
	if sig == "" {
		return ""
	}
	if _, err := base64.StdEncoding.DecodeString(sig); err != nil {
		return ""
	}
	return sig
}

// usageMetadata maps canonical usage back: candidatesTokenCount excludes the thought tokens that
// canonical OutputTokens include.
func usageMetadata(u *providers.Usage) *gUsage {
	cand := u.OutputTokens - u.ReasoningTokens
	if cand < 0 {
		cand = 0
	}
	return &gUsage{
		PromptTokenCount:        u.InputTokens,
		CandidatesTokenCount:    cand,
		TotalTokenCount:         u.InputTokens + u.OutputTokens,
		ThoughtsTokenCount:      u.ReasoningTokens,
		CachedContentTokenCount: u.CachedTokens,
	}
}

// finishReasonOut maps a canonical finish reason to Gemini's (tool calls end with STOP in Gemini).
func finishReasonOut(reason string) string {
	switch reason {
	case providers.FinishLength:
		return "MAX_TOKENS"
	case providers.FinishContentFilter:
		return "SAFETY"
	}
	return "STOP"
}

// EncodeModels renders GET /v1beta/models: {"models":[…]} with "models/"-prefixed names.
// Every model is listed with generateContent and countTokens, what the front door serves.
func EncodeModels(models []providers.Model) []byte {
	list := gModelList{Models: make([]gModel, len(models))}
	for i, m := range models {
		list.Models[i] = modelOut(m)
	}
	return marshal(list)
}

// EncodeModel renders GET /v1beta/models/{model}: one model object.
func EncodeModel(m providers.Model) []byte {
	return marshal(modelOut(m))
}

func modelOut(m providers.Model) gModel {
	id := modelName(m.ID)
	display := m.DisplayName
	if display == "" {
		display = id
	}
	return gModel{Name: "models/" + id, BaseModelID: id, DisplayName: display,
		SupportedGenerationMethods: []string{"generateContent", "countTokens"}}
}

// EncodeCountTokensResponse is the countTokens answer.
func EncodeCountTokensResponse(totalTokens int) []byte {
	return []byte(`{"totalTokens":` + strconv.Itoa(totalTokens) + `}`)
}
