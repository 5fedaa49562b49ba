package gemini

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// Same-protocol helpers: when the client's backend is Gemini, the front door forwards the body as
// is and only policy touches it. These work on the raw bytes and keep everything they do not
// have to change.

// RequestInfo is what policy needs to know about a native Gemini request body.
type RequestInfo struct {
	// MaxTokens is generationConfig.maxOutputTokens; 0 when absent.
	MaxTokens int
	// Choices is generationConfig.candidateCount (each candidate may use MaxTokens); 0 when absent.
	Choices int
	// InputTokens is a cheap estimate of the prompt size (see PeekRequest).
	InputTokens int
}

// imageTokens is what Gemini charges for one image (258 tokens up to 384×384 px, per tile beyond).
const imageTokens = 258

// PeekRequest reads what policy needs from a GenerateContentRequest body without translating it.
//
// InputTokens is the body's size in bytes divided by 4 (a common characters-per-token
// rule; the JSON syntax around the text makes it err on the high side), except that inline data
// payloads (the string value of any "data" member: base64 images, audio, PDFs) are not counted as
// text but as 258 tokens each, Gemini's price of one image. Both camelCase and snake_case field
// names are read. Malformed JSON returns a KindBadRequest *providers.Error with the parser's message.
func PeekRequest(body []byte) (RequestInfo, error) {
	if !json.Valid(body) {
		var v any
		return RequestInfo{}, badJSON(json.Unmarshal(body, &v))
	}
	// Members are matched by their exact names, as Google's parser does (encoding/json would also
	// take "GenerationConfig", which Gemini rejects), so this reads what RewriteRequest rewrites.
	ms, err := objectMembers(body)
	if err != nil {
		return RequestInfo{}, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: the request body must be a JSON object")
	}
	info := RequestInfo{InputTokens: estimateTokens(body)}
	for _, m := range ms {
		if m.Key != "generationConfig" && m.Key != "generation_config" {
			continue
		}
		cfg := body[m.ValStart:m.ValEnd]
		if string(cfg) == "null" {
			continue
		}
		cms, err := objectMembers(cfg)
		if err != nil {
			return RequestInfo{}, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig must be an object")
		}
		for _, cm := range cms {
			var name string
			switch cm.Key {
			case "maxOutputTokens", "max_output_tokens":
				name = "maxOutputTokens"
			case "candidateCount", "candidate_count":
				name = "candidateCount"
			}
			if name == "" || string(cfg[cm.ValStart:cm.ValEnd]) == "null" {
				continue
			}
			var v protoInt
			if err := v.UnmarshalJSON(cfg[cm.ValStart:cm.ValEnd]); err != nil {
				return RequestInfo{}, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig.%s: %v", name, err)
			}
			n := int(max(0, min(int64(v), 1<<31-1)))
			if name == "maxOutputTokens" {
				info.MaxTokens = n
				continue
			}
			if v < 0 {
				return RequestInfo{}, providers.Errorf(providers.KindBadRequest, "generationConfig.candidateCount must not be negative")
			}
			info.Choices = n
		}
	}
	return info, nil
}

// estimateTokens implements PeekRequest's estimate in one pass over the bytes.
func estimateTokens(body []byte) int {
	binary, blobs := 0, 0
	afterDataKey := false
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		end := skipString(body, i)
		if end < 0 {
			break
		}
		if j := skipSpace(body, end); j < len(body) && body[j] == ':' {
			afterDataKey = end-i == len(`"data"`) && string(body[i+1:end-1]) == "data"
			i = j
			continue
		}
		if afterDataKey {
			binary += end - i
			blobs++
			afterDataKey = false
		}
		i = end - 1
	}
	return (len(body)-binary)/4 + blobs*imageTokens
}

// Rewrite is the policy applied to a forwarded request body.
type Rewrite struct {
	// SystemPrompt, when not empty, is inserted as the first part of systemInstruction
	// (created when absent); the client's own instruction parts follow it.
	SystemPrompt string
	// MaxTokens, when > 0, caps generationConfig.maxOutputTokens: a larger, zero, negative or
	// unreadable value is replaced, an absent one is set.
	MaxTokens int
}

// RewriteRequest applies rw to a GenerateContentRequest body. Only systemInstruction and
// generationConfig.maxOutputTokens change (in either spelling, camelCase or snake_case); every
// other member keeps its exact bytes and order. A zero Rewrite returns body itself. Malformed
// JSON, a body that is not an object, or a systemInstruction / generationConfig that is not an
// object returns a KindBadRequest *providers.Error.
func RewriteRequest(body []byte, rw Rewrite) ([]byte, error) {
	if rw.SystemPrompt == "" && rw.MaxTokens <= 0 {
		return body, nil
	}
	ms, err := bodyMembers(body)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+len(rw.SystemPrompt)+64)
	out = append(out, '{')
	sawSystem, sawConfig := false, false
	for i, m := range ms {
		if i > 0 {
			out = append(out, ',')
		}
		val := body[m.ValStart:m.ValEnd]
		switch {
		case rw.SystemPrompt != "" && (m.Key == "systemInstruction" || m.Key == "system_instruction"):
			sawSystem = true
			nv, err := prependSystemPart(val, rw.SystemPrompt)
			if err != nil {
				return nil, err
			}
			out = append(out, body[m.Start:m.ValStart]...)
			out = append(out, nv...)
		case rw.MaxTokens > 0 && (m.Key == "generationConfig" || m.Key == "generation_config"):
			sawConfig = true
			nv, err := capMaxOutputTokens(val, rw.MaxTokens)
			if err != nil {
				return nil, err
			}
			out = append(out, body[m.Start:m.ValStart]...)
			out = append(out, nv...)
		default:
			out = append(out, body[m.Start:m.End]...)
		}
	}
	written := len(ms)
	if rw.SystemPrompt != "" && !sawSystem {
		if written > 0 {
			out = append(out, ',')
		}
		out = append(out, `"systemInstruction":{"parts":[`...)
		out = appendTextPart(out, rw.SystemPrompt)
		out = append(out, ']', '}')
		written++
	}
	if rw.MaxTokens > 0 && !sawConfig {
		if written > 0 {
			out = append(out, ',')
		}
		out = append(out, `"generationConfig":{"maxOutputTokens":`...)
		out = strconv.AppendInt(out, int64(rw.MaxTokens), 10)
		out = append(out, '}')
	}
	return append(out, '}'), nil
}

func appendTextPart(dst []byte, text string) []byte {
	dst = append(dst, `{"text":`...)
	dst = appendJSONString(dst, text)
	return append(dst, '}')
}

// prependSystemPart puts {"text":prompt} first in a Content object's parts.
func prependSystemPart(content []byte, prompt string) ([]byte, error) {
	if string(content) == "null" {
		out := append([]byte(`{"parts":[`), appendTextPart(nil, prompt)...)
		return append(out, ']', '}'), nil
	}
	ms, err := objectMembers(content)
	if err != nil {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: systemInstruction must be an object")
	}
	out := make([]byte, 0, len(content)+len(prompt)+32)
	out = append(out, '{')
	sawParts := false
	for i, m := range ms {
		if i > 0 {
			out = append(out, ',')
		}
		if m.Key != "parts" {
			out = append(out, content[m.Start:m.End]...)
			continue
		}
		sawParts = true
		val := content[m.ValStart:m.ValEnd]
		out = append(out, content[m.Start:m.ValStart]...)
		out = append(out, '[')
		out = appendTextPart(out, prompt)
		switch {
		case string(val) == "null":
		case len(val) >= 2 && val[0] == '[':
			if inner := bytes.TrimSpace(val[1 : len(val)-1]); len(inner) > 0 {
				out = append(out, ',')
				out = append(out, inner...)
			}
		default:
			return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: systemInstruction.parts must be an array")
		}
		out = append(out, ']')
	}
	if !sawParts {
		if len(ms) > 0 {
			out = append(out, ',')
		}
		out = append(out, `"parts":[`...)
		out = appendTextPart(out, prompt)
		out = append(out, ']')
	}
	return append(out, '}'), nil
}

// capMaxOutputTokens clamps maxOutputTokens in a GenerationConfig object, or adds it.
func capMaxOutputTokens(cfg []byte, limit int) ([]byte, error) {
	capValue := strconv.AppendInt(nil, int64(limit), 10)
	if string(cfg) == "null" {
		return append(append([]byte(`{"maxOutputTokens":`), capValue...), '}'), nil
	}
	ms, err := objectMembers(cfg)
	if err != nil {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig must be an object")
	}
	out := make([]byte, 0, len(cfg)+32)
	out = append(out, '{')
	saw := false
	for i, m := range ms {
		if i > 0 {
			out = append(out, ',')
		}
		if m.Key != "maxOutputTokens" && m.Key != "max_output_tokens" {
			out = append(out, cfg[m.Start:m.End]...)
			continue
		}
		saw = true
		out = append(out, cfg[m.Start:m.ValStart]...)
		var v protoInt
		if err := v.UnmarshalJSON(cfg[m.ValStart:m.ValEnd]); err != nil || v <= 0 || v > protoInt(limit) {
			out = append(out, capValue...)
		} else {
			out = append(out, cfg[m.ValStart:m.ValEnd]...)
		}
	}
	if !saw {
		if len(ms) > 0 {
			out = append(out, ',')
		}
		out = append(out, `"maxOutputTokens":`...)
		out = append(out, capValue...)
	}
	return append(out, '}'), nil
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
		j := skipSpace(data, idx+len(usageKey))
		if j >= len(data) || data[j] != ':' {
			continue
		}
		v := skipSpace(data, j+1)
		if v >= len(data) || data[v] != '{' {
			continue
		}
		end := skipValue(data, v)
		if end < 0 {
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
	ms, err := objectMembers(data)
	if err != nil {
		return 1
	}
	n := 0
	for _, m := range ms {
		if m.Key != "candidates" || data[m.ValStart] != '[' {
			continue
		}
		arr := data[m.ValStart:m.ValEnd]
		for i := skipSpace(arr, 1); i < len(arr) && arr[i] != ']'; {
			end := skipValue(arr, i)
			if end < 0 {
				break
			}
			n++
			i = skipSpace(arr, end)
			if i < len(arr) && arr[i] == ',' {
				i = skipSpace(arr, i+1)
			}
		}
	}
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

// bodyMembers splits a request body into its members; malformed JSON or a body that is not an
// object is a KindBadRequest error in Gemini's words.
func bodyMembers(body []byte) ([]member, error) {
	if !json.Valid(body) {
		var v any
		return nil, badJSON(json.Unmarshal(body, &v))
	}
	ms, err := objectMembers(body)
	if err != nil {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: the request body must be a JSON object")
	}
	return ms, nil
}

// RewriteCountTokens makes a countTokens body count the client's system prompt too, as the
// gateway will send it with generateContent. A body with generateContentRequest gets the
// prompt in that request's systemInstruction (RewriteRequest); a body with only contents, which
// cannot carry a systemInstruction, becomes a generateContentRequest for model with those
// contents and the prompt. An empty prompt returns body itself.
func RewriteCountTokens(body []byte, model, systemPrompt string) ([]byte, error) {
	if systemPrompt == "" {
		return body, nil
	}
	ms, err := bodyMembers(body)
	if err != nil {
		return nil, err
	}
	var contents []byte
	for _, m := range ms {
		switch m.Key {
		case "generateContentRequest", "generate_content_request":
			inner, err := RewriteRequest(body[m.ValStart:m.ValEnd], Rewrite{SystemPrompt: systemPrompt})
			if err != nil {
				return nil, err
			}
			out := make([]byte, 0, len(body)+len(systemPrompt)+64)
			out = append(out, body[:m.ValStart]...)
			out = append(out, inner...)
			return append(out, body[m.ValEnd:]...), nil
		case "contents":
			contents = body[m.ValStart:m.ValEnd]
		}
	}
	if contents == nil {
		contents = []byte("[]")
	}
	out := append([]byte(`{"generateContentRequest":{"model":`), providers.AppendJSONString(nil, "models/"+model)...)
	out = append(out, `,"contents":`...)
	out = append(out, contents...)
	out = append(out, `,"systemInstruction":{"parts":[`...)
	out = appendTextPart(out, systemPrompt)
	return append(out, "]}}}"...), nil
}
