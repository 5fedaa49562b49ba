package openai

import (
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

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
