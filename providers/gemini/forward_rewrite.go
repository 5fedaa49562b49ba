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
