package openai

import (
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
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
	// both): a larger, zero, negative or unreadable value is replaced by MaxTokens. When the
	// client sent neither, MaxTokensField is set to MaxTokens. 0 = no cap.
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
	o, err := jsonscan.ParseObject(body)
	if err != nil {
		return nil, bodyError(body, err)
	}
	if rw.Model != "" {
		if cur := o.Get("model"); !jsonscan.StringEquals(cur, rw.Model) {
			o.Set("model", appendString(nil, rw.Model))
		}
	}
	if rw.SystemPrompt != "" {
		msgs := o.Get("messages")
		if len(msgs) == 0 || msgs[0] != '[' {
			return nil, badRequest(`"messages" must be an array`)
		}
		o.Set("messages", prependMessage(msgs, rw.SystemPrompt))
	}
	if rw.MaxTokens > 0 {
		capTokens(o, rw)
	}
	if stream := o.Get("stream"); len(stream) == 4 && string(stream) == "true" {
		forceIncludeUsage(o)
	}
	if !o.Changed() {
		return body, nil
	}
	return o.Bytes(), nil
}

// bodyError turns a scanner error into the client-facing 400.
func bodyError(body []byte, err error) *providers.Error {
	if err == jsonscan.ErrNotObject {
		return badRequest("invalid JSON body: the request must be a JSON object")
	}
	return badRequest("invalid JSON body: %s", jsonscan.SyntaxError(body))
}

// prependMessage inserts a system message at the front of the raw messages array.
func prependMessage(msgs []byte, system string) []byte {
	out := make([]byte, 0, len(msgs)+len(system)+40)
	out = append(out, `[{"role":"system","content":`...)
	out = appendString(out, system)
	out = append(out, '}')
	rest := jsonscan.SkipSpace(msgs, 1)
	if rest < len(msgs) && msgs[rest] != ']' {
		out = append(out, ',')
	}
	return append(out, msgs[rest:]...)
}

func capTokens(o *jsonscan.Object, rw Rewrite) {
	limit := appendInt(nil, rw.MaxTokens)
	sent := false
	for _, k := range [...]string{"max_tokens", "max_completion_tokens"} {
		v := o.Get(k)
		if jsonscan.IsNull(v) {
			continue
		}
		sent = true
		if n, ok := jsonscan.IntValue(v); !ok || n <= 0 || n > rw.MaxTokens {
			o.Set(k, limit)
		}
	}
	if !sent {
		f := rw.MaxTokensField
		if f != "max_completion_tokens" {
			f = "max_tokens"
		}
		o.Set(f, limit)
	}
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// forceIncludeUsage sets stream_options.include_usage to true, keeping the other stream options.
func forceIncludeUsage(o *jsonscan.Object) {
	so := o.Get("stream_options")
	if jsonscan.IsNull(so) || so[0] != '{' {
		o.Set("stream_options", []byte(`{"include_usage":true}`))
		return
	}
	if v := jsonscan.Field(so, "include_usage"); len(v) == 4 && string(v) == "true" {
		return
	}
	soo, err := jsonscan.ParseObject(so)
	if err != nil {
		return
	}
	soo.Set("include_usage", []byte("true"))
	o.Set("stream_options", soo.Bytes())
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
	// Choices is n, the number of choices asked for (each may use MaxTokens); 0 when absent.
	Choices int
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

// PeekRequest validates body and reads what RequestInfo describes in one pass, without building
// a canonical request (it allocates only the model string). It returns a *providers.Error of
// KindBadRequest, with the parser's message, for invalid JSON or when model, stream, messages,
// n or the token fields have the wrong type (or n is below 1).
func PeekRequest(body []byte) (RequestInfo, error) {
	var info RequestInfo
	i := jsonscan.SkipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		if jsonscan.Validate(body) != nil {
			return info, bodyError(body, jsonscan.ErrSyntax)
		}
		return info, bodyError(body, jsonscan.ErrNotObject)
	}
	var p peeker
	p.b = body
	var maxTokens, maxCompletion int
	end, err := jsonscan.ScanObject(body, i, 0, func(k []byte, v int) (int, error) {
		end, err := skipValueOrWalk(body, k, v, &p)
		if err != nil {
			return 0, err
		}
		raw := body[v:end]
		switch string(k) {
		case "model":
			s, ok := jsonscan.StringValue(raw)
			if !ok && !jsonscan.IsNull(raw) {
				return 0, badRequest(`invalid "model": expected a string`)
			}
			info.Model = s
		case "stream":
			if !jsonscan.IsNull(raw) && raw[0] != 't' && raw[0] != 'f' {
				return 0, badRequest(`invalid "stream": expected a boolean`)
			}
			info.Stream = raw[0] == 't'
		case "stream_options":
			if raw[0] == '{' {
				iu := jsonscan.Field(raw, "include_usage")
				info.IncludeUsage = len(iu) == 4 && string(iu) == "true"
			}
		case "max_tokens", "max_completion_tokens":
			if jsonscan.IsNull(raw) {
				break
			}
			n, ok := jsonscan.IntValue(raw)
			if !ok {
				return 0, badRequest("invalid %q: expected an integer", string(k))
			}
			if string(k) == "max_tokens" {
				maxTokens = n
			} else {
				maxCompletion = n
			}
		case "n":
			if jsonscan.IsNull(raw) {
				break
			}
			n, ok := jsonscan.IntValue(raw)
			if !ok {
				return 0, badRequest(`invalid "n": expected an integer`)
			}
			if n < 1 {
				return 0, badRequest(`invalid "n": %d is less than the minimum of 1`, n)
			}
			info.Choices = n
		case "messages":
			if raw[0] != '[' {
				return 0, badRequest(`invalid "messages": expected an array`)
			}
		case "tools":
			p.chars += len(raw)
		}
		return end, nil
	})
	if err == nil && jsonscan.SkipSpace(body, end) != len(body) {
		err = jsonscan.ErrSyntax
	}
	if err != nil {
		if e, ok := err.(*providers.Error); ok {
			return info, e
		}
		return info, bodyError(body, err)
	}
	info.Messages = p.messages
	info.MaxTokens = maxTokens
	if maxCompletion > 0 {
		info.MaxTokens = maxCompletion
	}
	info.InputTokens = (p.chars+3)/4 + p.images*imageTokens
	return info, nil
}

// peeker accumulates the size of the messages while they are validated.
type peeker struct {
	b                       []byte
	chars, images, messages int
}

// skipValueOrWalk consumes the top-level value of key k: the messages array is walked (and so
// validated) once while its text is counted; anything else is skipped.
func skipValueOrWalk(b, k []byte, v int, p *peeker) (int, error) {
	if string(k) != "messages" || b[v] != '[' {
		return jsonscan.SkipValue(b, v, 1)
	}
	return jsonscan.ScanArray(b, v, 1, func(m int) (int, error) {
		p.messages++
		if b[m] != '{' {
			return jsonscan.SkipValue(b, m, 2)
		}
		return jsonscan.ScanObject(b, m, 2, p.messageMember)
	})
}

// messageMember counts one member of a message.
func (p *peeker) messageMember(k []byte, v int) (int, error) {
	b := p.b
	switch string(k) {
	case "content":
		switch b[v] {
		case '"':
			return p.countString(v)
		case '[':
			return jsonscan.ScanArray(b, v, 3, func(e int) (int, error) {
				if b[e] != '{' {
					return jsonscan.SkipValue(b, e, 4)
				}
				return jsonscan.ScanObject(b, e, 4, func(pk []byte, pv int) (int, error) {
					switch string(pk) {
					case "text", "refusal":
						if b[pv] == '"' {
							return p.countString(pv)
						}
					case "image_url":
						p.images++
					}
					return jsonscan.SkipValue(b, pv, 5)
				})
			})
		}
	case "refusal", "reasoning_content":
		if b[v] == '"' {
			return p.countString(v)
		}
	case "tool_calls":
		if b[v] == '[' {
			return jsonscan.ScanArray(b, v, 3, func(e int) (int, error) {
				if b[e] != '{' {
					return jsonscan.SkipValue(b, e, 4)
				}
				return jsonscan.ScanObject(b, e, 4, func(tk []byte, tv int) (int, error) {
					if string(tk) != "function" || b[tv] != '{' {
						return jsonscan.SkipValue(b, tv, 5)
					}
					return jsonscan.ScanObject(b, tv, 5, func(fk []byte, fv int) (int, error) {
						if (string(fk) == "name" || string(fk) == "arguments") && b[fv] == '"' {
							return p.countString(fv)
						}
						return jsonscan.SkipValue(b, fv, 6)
					})
				})
			})
		}
	}
	return jsonscan.SkipValue(b, v, 3)
}

// countString validates the string at v and adds its characters.
func (p *peeker) countString(v int) (int, error) {
	end, err := jsonscan.SkipString(p.b, v)
	if err != nil {
		return 0, err
	}
	p.chars += jsonscan.CountChars(p.b[v:end])
	return end, nil
}

// appendString appends s as a JSON string literal (see providers.AppendJSONString).
func appendString(dst []byte, s string) []byte { return providers.AppendJSONString(dst, s) }
