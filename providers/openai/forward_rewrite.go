package openai

import (
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
	defer o.Release()
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
