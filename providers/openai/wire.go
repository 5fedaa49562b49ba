package openai

import (
	"encoding/json"

	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// Wire types of Chat Completions shared by the decoders and encoders of both directions.

type wireToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name      string  `json:"name,omitempty"`
	Arguments jsonArg `json:"arguments"`
}

// jsonArg is a function-call arguments string. Some servers send the arguments as a JSON object
// instead of a string; it is accepted and kept as its JSON text.
type jsonArg string

func (a *jsonArg) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = jsonArg(s)
		return nil
	}
	if jsonscan.IsNull(b) {
		*a = ""
		return nil
	}
	*a = jsonArg(b)
	return nil
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
		Strict      *bool           `json:"strict,omitempty"`
	} `json:"function"`
}

type wireResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema,omitempty"`
		Strict      *bool           `json:"strict,omitempty"`
	} `json:"json_schema,omitempty"`
}

type wireMessageIn struct {
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	Name             string          `json:"name"`
	ToolCalls        []wireToolCall  `json:"tool_calls"`
	ToolCallID       string          `json:"tool_call_id"`
	ReasoningContent string          `json:"reasoning_content"`
	Reasoning        string          `json:"reasoning"`
	Refusal          string          `json:"refusal"`
	FunctionCall     *wireFunction   `json:"function_call"`
}

type wirePartIn struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Refusal  string          `json:"refusal"`
	ImageURL json.RawMessage `json:"image_url"`
	// CacheControl is Anthropic's mark, which OpenAI-compatible clients of Claude (OpenRouter's
	// convention) put on text parts; an Anthropic backend receives it as sent.
	CacheControl json.RawMessage `json:"cache_control"`
}

type wireChoiceOut struct {
	Index        int           `json:"index"`
	Message      wireMessageIn `json:"message"`
	FinishReason *string       `json:"finish_reason"`
}

type wireResponse struct {
	ID      string          `json:"id"`
	Model   string          `json:"model"`
	Created int64           `json:"created"`
	Choices []wireChoiceOut `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
	Error   json.RawMessage `json:"error"`
}
