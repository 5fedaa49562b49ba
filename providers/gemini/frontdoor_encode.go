package gemini

import (
	"encoding/base64"
	"net/http"
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

// EncodeError renders e as Gemini's error body {"error":{"code","message","status"}}, to send
// with e.Status(); googleStatus says how the status name is chosen.
func EncodeError(e *providers.Error) []byte {
	return appendError(make([]byte, 0, 80+len(e.Message)), e)
}

// appendError writes the error object of both the HTTP error body and the in-band stream error.
func appendError(dst []byte, e *providers.Error) []byte {
	code := e.Status()
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(code)
		if msg == "" {
			msg = "error"
		}
	}
	dst = append(dst, `{"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, msg)
	dst = append(dst, `,"status":`...)
	dst = appendJSONString(dst, googleStatus(e))
	return append(dst, '}', '}')
}

// googleStatus decides the google.rpc status name for e, which google-genai keeps as
// APIError.Status (it picks ClientError or ServerError by the code). A Gemini upstream's own name
// (kept in Error.Type) passes through, so FAILED_PRECONDITION stays itself; another protocol's
// type ("overloaded_error") gives way to the name of the status, as Google maps them: 400/413/422
// INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED, 429
// RESOURCE_EXHAUSTED, 499 CANCELLED, 501 UNIMPLEMENTED, 502/503/529 UNAVAILABLE, 504
// DEADLINE_EXCEEDED; another 4xx is INVALID_ARGUMENT when the request was at fault (405, 431)
// and FAILED_PRECONDITION when an upstream refused it (402); another 5xx INTERNAL.
func googleStatus(e *providers.Error) string {
	if e.Provider == "" || e.Provider == "gemini" {
		switch e.Type {
		case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "UNAUTHENTICATED", "PERMISSION_DENIED",
			"NOT_FOUND", "ABORTED", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED", "CANCELLED", "DATA_LOSS", "UNKNOWN",
			"INTERNAL", "UNIMPLEMENTED", "UNAVAILABLE", "DEADLINE_EXCEEDED":
			return e.Type
		}
	}
	switch code := e.Status(); code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusBadGateway, http.StatusServiceUnavailable, 529:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	default:
		switch {
		case code < 500 && e.Kind == providers.KindBadRequest:
			return "INVALID_ARGUMENT"
		case code < 500:
			return "FAILED_PRECONDITION"
		}
		return "INTERNAL"
	}
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

// EncodeStreamError appends e as an in-band error of an SSE stream, `data: {"error":{…}}\r\n\r\n`
// with the object EncodeError renders, for an error after the stream has started; the caller closes the stream after it. A
// StreamEncoder's EncodeError does the same in either framing.
func EncodeStreamError(dst []byte, e *providers.Error) []byte {
	dst = append(dst, "data: "...)
	dst = appendError(dst, e)
	return append(dst, "\r\n\r\n"...)
}
