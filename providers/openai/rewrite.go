package openai

import (
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// Rewrite is the policy applied to a client's Chat Completions body on the same-protocol path.
// The zero value changes nothing but stream_options (see RewriteRequest).
type Rewrite struct {
	// Model replaces the request's model when non-empty.
	Model string
	// SystemPrompt, when non-empty, is inserted as the first message (role system); the client's
	// own system messages are kept after it.
	SystemPrompt string
	// MaxTokens caps max_tokens and max_completion_tokens (whichever the client sent; both when
	// both). When the client sent neither, MaxTokensField is set to MaxTokens. 0 = no cap.
	MaxTokens int
	// MaxTokensField is the field added when the client sent no output cap: "max_tokens" (the
	// default, read by every compatible server) or "max_completion_tokens".
	MaxTokensField string
}

// RewriteRequest applies rw to body and returns the new body. Only the keys policy owns are
// touched — model, messages (one message prepended; the others keep their bytes), max_tokens /
// max_completion_tokens, and stream_options.include_usage, which is forced to true when the
// request streams so usage is always known (ForwardChat can hide the usage chunk again). Every
// other key keeps its raw bytes and its position: unknown fields, array content, images and
// "temperature": 0 come out exactly as they went in.
//
// It returns a *providers.Error of KindBadRequest, with the parser's message, when body is not a
// valid JSON object or "messages" is not an array while a system prompt must be inserted.
func RewriteRequest(body []byte, rw Rewrite) ([]byte, error) {
	o, err := parseObject(body)
	if err != nil {
		return nil, bodyError(body, err)
	}
	if rw.Model != "" {
		if cur := o.get("model"); !stringEquals(cur, rw.Model) {
			o.set("model", appendString(nil, rw.Model))
		}
	}
	if rw.SystemPrompt != "" {
		msgs := o.get("messages")
		if len(msgs) == 0 || msgs[0] != '[' {
			return nil, badRequest(`"messages" must be an array`)
		}
		o.set("messages", prependMessage(msgs, rw.SystemPrompt))
	}
	if rw.MaxTokens > 0 {
		capTokens(o, rw)
	}
	if stream := o.get("stream"); len(stream) == 4 && string(stream) == "true" {
		forceIncludeUsage(o)
	}
	if !o.changed {
		return body, nil
	}
	return o.bytes(), nil
}

// bodyError turns a scanner error into the client-facing 400.
func bodyError(body []byte, err error) *providers.Error {
	if err == errNotObject {
		return badRequest("invalid JSON body: the request must be a JSON object")
	}
	return badRequest("invalid JSON body: %s", syntaxError(body))
}

// prependMessage inserts a system message at the front of the raw messages array.
func prependMessage(msgs []byte, system string) []byte {
	out := make([]byte, 0, len(msgs)+len(system)+40)
	out = append(out, `[{"role":"system","content":`...)
	out = appendString(out, system)
	out = append(out, '}')
	rest := skipSpace(msgs, 1)
	if rest < len(msgs) && msgs[rest] != ']' {
		out = append(out, ',')
	}
	return append(out, msgs[rest:]...)
}

func capTokens(o *object, rw Rewrite) {
	limit := appendInt(nil, rw.MaxTokens)
	sent := false
	for _, k := range [...]string{"max_tokens", "max_completion_tokens"} {
		v := o.get(k)
		if isNull(v) {
			continue
		}
		sent = true
		if n, ok := intValue(v); !ok || n > rw.MaxTokens {
			o.set(k, limit)
		}
	}
	if !sent {
		f := rw.MaxTokensField
		if f != "max_completion_tokens" {
			f = "max_tokens"
		}
		o.set(f, limit)
	}
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// forceIncludeUsage sets stream_options.include_usage to true, keeping the other stream options.
func forceIncludeUsage(o *object) {
	so := o.get("stream_options")
	if isNull(so) || so[0] != '{' {
		o.set("stream_options", []byte(`{"include_usage":true}`))
		return
	}
	if v := field(so, "include_usage"); len(v) == 4 && string(v) == "true" {
		return
	}
	soo, err := parseObject(so)
	if err != nil {
		return
	}
	soo.set("include_usage", []byte("true"))
	o.set("stream_options", soo.bytes())
}

// RequestInfo is what the gateway's policy needs to know about a Chat Completions body before
// rewriting it.
type RequestInfo struct {
	Model  string
	Stream bool
	// IncludeUsage is true when the client asked for stream_options.include_usage.
	IncludeUsage bool
	// MaxTokens is the requested output cap: max_completion_tokens when set, else max_tokens; 0 = none.
	MaxTokens int
	// InputTokens estimates the prompt size: characters/4 (rounded up) over the text of every
	// message (string content, text parts, refusals, tool-call names and arguments) plus the raw
	// tools definitions, plus 85 tokens per image (OpenAI's low-detail price; larger images cost
	// more, so this never over-counts them). Characters are Unicode characters of the decoded
	// text, so escapes and multi-byte letters count once.
	InputTokens int
	// Messages is the number of messages.
	Messages int
}

// imageTokens is the estimate for one image part.
const imageTokens = 85

// PeekRequest validates body and reads what RequestInfo describes, without building a canonical
// request (it allocates nothing per message). It returns a *providers.Error of KindBadRequest, with
// the parser's message, for invalid JSON or when model, stream, messages or the token fields have
// the wrong type.
func PeekRequest(body []byte) (RequestInfo, error) {
	var info RequestInfo
	if err := validate(body); err != nil {
		return info, bodyError(body, err)
	}
	obj := body[skipSpace(body, 0):]
	if obj[0] != '{' {
		return info, bodyError(body, errNotObject)
	}
	var chars, images int
	var maxTokens, maxCompletion int
	var perr *providers.Error
	_ = eachMember(obj, func(k, v []byte) bool {
		switch string(k) {
		case "model":
			s, ok := stringValue(v)
			if !ok && !isNull(v) {
				perr = badRequest(`invalid "model": expected a string`)
				return false
			}
			info.Model = s
		case "stream":
			if !isNull(v) && v[0] != 't' && v[0] != 'f' {
				perr = badRequest(`invalid "stream": expected a boolean`)
				return false
			}
			info.Stream = v[0] == 't'
		case "stream_options":
			if len(v) > 0 && v[0] == '{' {
				iu := field(v, "include_usage")
				info.IncludeUsage = len(iu) == 4 && string(iu) == "true"
			}
		case "max_tokens", "max_completion_tokens":
			if isNull(v) {
				return true
			}
			n, ok := intValue(v)
			if !ok {
				perr = badRequest("invalid %q: expected an integer", string(k))
				return false
			}
			if string(k) == "max_tokens" {
				maxTokens = n
			} else {
				maxCompletion = n
			}
		case "messages":
			if len(v) == 0 || v[0] != '[' {
				perr = badRequest(`invalid "messages": expected an array`)
				return false
			}
			_ = eachElement(v, func(m []byte) bool {
				info.Messages++
				c, i := messageSize(m)
				chars += c
				images += i
				return true
			})
		case "tools":
			chars += len(v)
		}
		return true
	})
	if perr != nil {
		return info, perr
	}
	info.MaxTokens = maxTokens
	if maxCompletion > 0 {
		info.MaxTokens = maxCompletion
	}
	info.InputTokens = (chars+3)/4 + images*imageTokens
	return info, nil
}

// messageSize counts the text characters and images of one raw message.
func messageSize(m []byte) (chars, images int) {
	if len(m) == 0 || m[0] != '{' {
		return 0, 0
	}
	_ = eachMember(m, func(k, v []byte) bool {
		switch string(k) {
		case "content":
			switch {
			case isNull(v):
			case v[0] == '"':
				chars += countChars(v)
			case v[0] == '[':
				_ = eachElement(v, func(p []byte) bool {
					if len(p) == 0 || p[0] != '{' {
						return true
					}
					_ = eachMember(p, func(pk, pv []byte) bool {
						switch string(pk) {
						case "text", "refusal":
							chars += countChars(pv)
						case "image_url":
							images++
						}
						return true
					})
					return true
				})
			}
		case "refusal", "reasoning_content":
			if len(v) > 0 && v[0] == '"' {
				chars += countChars(v)
			}
		case "tool_calls":
			if len(v) > 0 && v[0] == '[' {
				_ = eachElement(v, func(tc []byte) bool {
					if fn := field(tc, "function"); len(fn) > 0 && fn[0] == '{' {
						chars += countChars(field(fn, "name")) + countChars(field(fn, "arguments"))
					}
					return true
				})
			}
		}
		return true
	})
	return chars, images
}
