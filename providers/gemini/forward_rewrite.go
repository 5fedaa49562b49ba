package gemini

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
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
	// Members are matched by their exact names, as Google's parser does (encoding/json would also
	// take "GenerationConfig", which Gemini rejects), so this reads what RewriteRequest rewrites.
	o, err := bodyObject(body)
	if err != nil {
		return RequestInfo{}, err
	}
	info := RequestInfo{InputTokens: estimateTokens(body)}
	o.Each(func(key, cfg []byte) bool {
		if !jsonscan.KeyIs(key, "generationConfig") && !jsonscan.KeyIs(key, "generation_config") || string(cfg) == "null" {
			return true
		}
		if cfg[0] != '{' {
			err = providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig must be an object")
			return false
		}
		_ = jsonscan.EachMember(cfg, func(ck, cv []byte) bool {
			var name string
			switch {
			case jsonscan.KeyIs(ck, "maxOutputTokens") || jsonscan.KeyIs(ck, "max_output_tokens"):
				name = "maxOutputTokens"
			case jsonscan.KeyIs(ck, "candidateCount") || jsonscan.KeyIs(ck, "candidate_count"):
				name = "candidateCount"
			}
			if name == "" || string(cv) == "null" {
				return true
			}
			var v protoInt
			if e := v.UnmarshalJSON(cv); e != nil {
				err = providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig.%s: %v", name, e)
				return false
			}
			n := int(max(0, min(int64(v), 1<<31-1)))
			if name == "maxOutputTokens" {
				info.MaxTokens = n
				return true
			}
			if v < 0 {
				err = providers.Errorf(providers.KindBadRequest, "generationConfig.candidateCount must not be negative")
				return false
			}
			info.Choices = n
			return true
		})
		return err == nil
	})
	if err != nil {
		return RequestInfo{}, err
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
		end, err := jsonscan.SkipString(body, i)
		if err != nil {
			break
		}
		if j := jsonscan.SkipSpace(body, end); j < len(body) && body[j] == ':' {
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
	o, err := bodyObject(body)
	if err != nil {
		return nil, err
	}
	if rw.SystemPrompt != "" {
		saw := false
		for _, k := range [...]string{"systemInstruction", "system_instruction"} {
			if v := o.Get(k); v != nil {
				saw = true
				nv, err := prependSystemPart(v, rw.SystemPrompt)
				if err != nil {
					return nil, err
				}
				o.Set(k, nv)
			}
		}
		if !saw {
			o.Set("systemInstruction", append(appendTextPart([]byte(`{"parts":[`), rw.SystemPrompt), ']', '}'))
		}
	}
	if rw.MaxTokens > 0 {
		saw := false
		for _, k := range [...]string{"generationConfig", "generation_config"} {
			if v := o.Get(k); v != nil {
				saw = true
				nv, err := capMaxOutputTokens(v, rw.MaxTokens)
				if err != nil {
					return nil, err
				}
				o.Set(k, nv)
			}
		}
		if !saw {
			o.Set("generationConfig", append(strconv.AppendInt([]byte(`{"maxOutputTokens":`), int64(rw.MaxTokens), 10), '}'))
		}
	}
	return o.Bytes(), nil
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
	o, err := jsonscan.ParseObject(content)
	if err != nil {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: systemInstruction must be an object")
	}
	parts := append(appendTextPart([]byte{'['}, prompt), ']')
	if val := o.Get("parts"); val != nil {
		switch {
		case string(val) == "null":
		case val[0] == '[':
			if inner := bytes.TrimSpace(val[1 : len(val)-1]); len(inner) > 0 {
				parts = append(append(append(parts[:len(parts)-1], ','), inner...), ']')
			}
		default:
			return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: systemInstruction.parts must be an array")
		}
	}
	o.Set("parts", parts)
	return o.Bytes(), nil
}

// capMaxOutputTokens clamps maxOutputTokens in a GenerationConfig object, or adds it.
func capMaxOutputTokens(cfg []byte, limit int) ([]byte, error) {
	capValue := strconv.AppendInt(nil, int64(limit), 10)
	if string(cfg) == "null" {
		return append(append([]byte(`{"maxOutputTokens":`), capValue...), '}'), nil
	}
	o, err := jsonscan.ParseObject(cfg)
	if err != nil {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig must be an object")
	}
	saw := false
	for _, k := range [...]string{"maxOutputTokens", "max_output_tokens"} {
		val := o.Get(k)
		if val == nil {
			continue
		}
		saw = true
		var v protoInt
		if err := v.UnmarshalJSON(val); err != nil || v <= 0 || v > protoInt(limit) {
			o.Set(k, capValue)
		}
	}
	if !saw {
		o.Set("maxOutputTokens", capValue)
	}
	return o.Bytes(), nil
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

// bodyObject parses a request body; malformed JSON or a body that is not an object is a
// KindBadRequest error in Gemini's words.
func bodyObject(body []byte) (*jsonscan.Object, error) {
	o, err := jsonscan.ParseObject(body)
	if err == jsonscan.ErrNotObject {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid JSON payload: the request body must be a JSON object")
	}
	if err != nil {
		var v any
		return nil, badJSON(json.Unmarshal(body, &v))
	}
	return o, nil
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
	o, err := bodyObject(body)
	if err != nil {
		return nil, err
	}
	for _, k := range [...]string{"generateContentRequest", "generate_content_request"} {
		if v := o.Get(k); v != nil {
			inner, err := RewriteRequest(v, Rewrite{SystemPrompt: systemPrompt})
			if err != nil {
				return nil, err
			}
			o.Set(k, inner)
			return o.Bytes(), nil
		}
	}
	contents := o.Get("contents")
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
