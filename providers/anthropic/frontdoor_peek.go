package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
)

// imageTokens is the input-token estimate for one image or document block (Anthropic bills an
// image of about 1.15 megapixels at ~1,600 tokens; their base64 data says little about that).
const imageTokens = 1600

// RequestInfo is what the gateway needs to know about a Messages request before forwarding it.
type RequestInfo struct {
	Model  string
	Stream bool
	// MaxTokens is the caller's max_tokens; 0 when absent.
	MaxTokens int
	// InputTokens estimates the prompt size: the bytes of its text (system, messages' text,
	// thinking, tool inputs and results, tool definitions) divided by 4, plus imageTokens per
	// image or document block.
	InputTokens int
}

type peekBlock struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	Input    json.RawMessage `json:"input"`
	Content  json.RawMessage `json:"content"`
}

// PeekRequest reads the model, stream flag, max_tokens and an input-token estimate from a
// Messages body. It returns a KindBadRequest *providers.Error with the parser's message when the
// body is not a JSON object of the right shape.
func PeekRequest(body []byte) (RequestInfo, error) {
	var p struct {
		Model     string          `json:"model"`
		Stream    bool            `json:"stream"`
		MaxTokens json.Number     `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return RequestInfo{}, badRequest("%s: invalid type: %v", te.Field, err)
		}
		if errors.As(err, &te) {
			return RequestInfo{}, badRequest("request body must be a JSON object")
		}
		return RequestInfo{}, badRequest("invalid JSON body: %v", err)
	}
	info := RequestInfo{Model: p.Model, Stream: p.Stream}
	if p.MaxTokens != "" {
		n, ok := intValue([]byte(p.MaxTokens))
		if !ok {
			return RequestInfo{}, badRequest("max_tokens: Input should be a valid integer")
		}
		info.MaxTokens = n
	}
	var chars, images int
	count := func(raw json.RawMessage) {
		c, i := contentSize(raw, 0)
		chars += c
		images += i
	}
	count(p.System)
	for _, m := range p.Messages {
		count(m.Content)
	}
	chars += len(p.Tools)
	info.InputTokens = (chars+3)/4 + images*imageTokens
	return info, nil
}

// contentSize counts the text bytes and the image/document blocks of content (a string or a
// list of blocks); content it cannot read counts as its raw size.
func contentSize(raw json.RawMessage, depth int) (chars, images int) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return 0, 0
	}
	if t[0] == '"' {
		return len(t) - 2, 0
	}
	if t[0] != '[' || depth > 2 {
		return len(t), 0
	}
	var blocks []peekBlock
	if json.Unmarshal(t, &blocks) != nil {
		return len(t), 0
	}
	for _, b := range blocks {
		switch b.Type {
		case "image", "document":
			images++
		default:
			chars += len(b.Text) + len(b.Thinking) + len(b.Input)
			c, i := contentSize(b.Content, depth+1)
			chars += c
			images += i
		}
	}
	return chars, images
}
