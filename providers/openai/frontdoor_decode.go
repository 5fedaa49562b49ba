package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// DecodeRequest reads an OpenAI Chat Completions request body into the canonical model: string or
// array content, image_url parts, assistant tool calls and tool results, tools, tool_choice,
// parallel_tool_calls, response_format, stop (string or array), max_tokens and
// max_completion_tokens (the latter wins), stream and stream_options.include_usage,
// reasoning_effort; developer messages become system messages. Top-level fields it does not map
// are kept in Extra.
//
// Invalid JSON or a field of the wrong type returns a *providers.Error of KindBadRequest carrying
// the parser's message. Empty string content yields a message with no parts.
func DecodeRequest(body []byte) (*providers.Request, error) {
	if err := jsonscan.Validate(body); err != nil {
		return nil, badRequest("invalid JSON body: %s", jsonscan.SyntaxError(body))
	}
	obj := body[jsonscan.SkipSpace(body, 0):]
	if obj[0] != '{' {
		return nil, badRequest("invalid JSON body: the request must be a JSON object")
	}
	req := &providers.Request{}
	var maxTokens, maxCompletion int
	var sawMessages bool
	var ferr error
	_ = jsonscan.EachMember(obj, func(rawKey, v []byte) bool {
		key := string(rawKey)
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			key, _ = jsonscan.StringValue(append(append([]byte{'"'}, rawKey...), '"'))
		}
		ferr = decodeField(req, key, v, &maxTokens, &maxCompletion)
		if key == "messages" {
			sawMessages = true
		}
		return ferr == nil
	})
	if ferr != nil {
		return nil, ferr
	}
	if !sawMessages {
		return nil, badRequest(`"messages" is required`)
	}
	req.MaxTokens = maxTokens
	if maxCompletion > 0 {
		req.MaxTokens = maxCompletion
	}
	return req, nil
}

// decodeField decodes one top-level member into req.
func decodeField(req *providers.Request, key string, v []byte, maxTokens, maxCompletion *int) error {
	null := jsonscan.IsNull(v)
	unmarshal := func(dst any) error {
		if err := json.Unmarshal(v, dst); err != nil {
			return badRequest("invalid %q: %s", key, jsonMessage(err))
		}
		return nil
	}
	switch key {
	case "model":
		return unmarshal(&req.Model)
	case "messages":
		var msgs []wireMessageIn
		if err := unmarshal(&msgs); err != nil {
			return err
		}
		if len(msgs) == 0 {
			return badRequest(`"messages" must contain at least one message`)
		}
		out, err := decodeMessages(msgs)
		if err != nil {
			return err
		}
		req.Messages = out
	case "tools":
		var tools []wireTool
		if err := unmarshal(&tools); err != nil {
			return err
		}
		for i, t := range tools {
			if t.Type != "function" && t.Type != "" {
				return badRequest("tools[%d]: tool type %q is not supported (only function tools)", i, t.Type)
			}
			if t.Function.Name == "" {
				return badRequest("tools[%d]: function.name is required", i)
			}
			req.Tools = append(req.Tools, providers.Tool{Name: t.Function.Name, Description: t.Function.Description,
				Parameters: clone(t.Function.Parameters), Strict: t.Function.Strict})
		}
	case "tool_choice":
		if null {
			return nil
		}
		tc, err := decodeToolChoice(v)
		if err != nil {
			return err
		}
		req.ToolChoice = tc
	case "parallel_tool_calls":
		return unmarshal(&req.ParallelToolCalls)
	case "max_tokens":
		return unmarshal(maxTokens)
	case "max_completion_tokens":
		return unmarshal(maxCompletion)
	case "temperature":
		return unmarshal(&req.Temperature)
	case "top_p":
		return unmarshal(&req.TopP)
	case "top_k":
		return unmarshal(&req.TopK)
	case "presence_penalty":
		return unmarshal(&req.PresencePenalty)
	case "frequency_penalty":
		return unmarshal(&req.FrequencyPenalty)
	case "seed":
		return unmarshal(&req.Seed)
	case "n":
		var n *int
		if err := unmarshal(&n); err != nil {
			return err
		}
		if n != nil {
			req.N = *n
		}
	case "stop":
		switch {
		case null:
		case v[0] == '"':
			var s string
			if err := unmarshal(&s); err != nil {
				return err
			}
			req.Stop = []string{s}
		default:
			return unmarshal(&req.Stop)
		}
	case "response_format":
		if null {
			return nil
		}
		var rf wireResponseFormat
		if err := unmarshal(&rf); err != nil {
			return err
		}
		f := &providers.ResponseFormat{Type: rf.Type}
		if rf.JSONSchema != nil {
			f.Name, f.Description, f.Schema, f.Strict = rf.JSONSchema.Name, rf.JSONSchema.Description,
				clone(rf.JSONSchema.Schema), rf.JSONSchema.Strict
		}
		req.ResponseFormat = f
	case "reasoning_effort":
		var s *string
		if err := unmarshal(&s); err != nil {
			return err
		}
		if s != nil {
			req.ReasoningEffort = *s
		}
	case "stream":
		var b *bool
		if err := unmarshal(&b); err != nil {
			return err
		}
		req.Stream = b != nil && *b
	case "stream_options":
		var so *struct {
			IncludeUsage *bool `json:"include_usage"`
		}
		if err := unmarshal(&so); err != nil {
			return err
		}
		req.IncludeUsage = so != nil && so.IncludeUsage != nil && *so.IncludeUsage
	case "user":
		var s *string
		if err := unmarshal(&s); err != nil {
			return err
		}
		if s != nil {
			req.User = *s
		}
	default:
		if req.Extra == nil {
			req.Extra = make(map[string]json.RawMessage)
		}
		req.Extra[key] = clone(v)
	}
	return nil
}

// jsonMessage strips the "json: " prefix of encoding/json errors and Go type names a caller
// would not know.
func jsonMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "json: ")
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := te.Field
		if where != "" {
			where = " at " + where
		}
		return fmt.Sprintf("cannot use a JSON %s%s here (expected %s)", te.Value, where, goTypeName(te.Type.String()))
	}
	return s
}

func goTypeName(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case t == "string", t == "openai.jsonArg":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	}
	return "an object"
}

func clone(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return slices.Clone(b)
}

func decodeToolChoice(v []byte) (*providers.ToolChoice, error) {
	if v[0] == '"' {
		s, _ := jsonscan.StringValue(v)
		switch s {
		case "auto", "none", "required":
			return &providers.ToolChoice{Mode: s}, nil
		case "any": // Mistral's spelling of required
			return &providers.ToolChoice{Mode: providers.ToolChoiceRequired}, nil
		}
		return nil, badRequest(`invalid "tool_choice": %q is not one of none, auto, required`, s)
	}
	var tc struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
		AllowedTools struct {
			Mode string `json:"mode"`
		} `json:"allowed_tools"`
	}
	if err := json.Unmarshal(v, &tc); err != nil {
		return nil, badRequest(`invalid "tool_choice": %s`, jsonMessage(err))
	}
	switch tc.Type {
	case "function":
		if tc.Function.Name == "" {
			return nil, badRequest(`invalid "tool_choice": function.name is required`)
		}
		return &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: tc.Function.Name}, nil
	case "allowed_tools":
		if tc.AllowedTools.Mode == "required" {
			return &providers.ToolChoice{Mode: providers.ToolChoiceRequired}, nil
		}
		return &providers.ToolChoice{Mode: providers.ToolChoiceAuto}, nil
	}
	return nil, badRequest(`invalid "tool_choice": type %q is not supported`, tc.Type)
}

func decodeMessages(msgs []wireMessageIn) ([]providers.Message, error) {
	out := make([]providers.Message, 0, len(msgs))
	names := map[string]string{} // tool call id → function name, for tool results
	for i, m := range msgs {
		pm := providers.Message{Name: m.Name}
		switch m.Role {
		case "system", "developer":
			pm.Role = providers.RoleSystem
		case "user":
			pm.Role = providers.RoleUser
		case "assistant":
			pm.Role = providers.RoleAssistant
		case "tool":
			pm.Role = providers.RoleTool
			pm.ToolCallID = m.ToolCallID
			pm.ToolName = names[m.ToolCallID]
		case "function": // deprecated function result: the name is all there is
			pm.Role = providers.RoleTool
			pm.ToolName = m.Name
			pm.ToolCallID = m.Name
			pm.Name = ""
		case "":
			return nil, badRequest("messages[%d]: role is required", i)
		default:
			return nil, badRequest("messages[%d]: role %q is not supported", i, m.Role)
		}
		parts, err := decodeContent(m.Content, i)
		if err != nil {
			return nil, err
		}
		pm.Content = parts
		if m.Role == "assistant" {
			if len(pm.Content) == 0 && m.Refusal != "" {
				pm.Content = []providers.Part{providers.TextPart(m.Refusal)}
			}
			pm.Reasoning = m.ReasoningContent
			if pm.Reasoning == "" {
				pm.Reasoning = m.Reasoning
			}
			for _, tc := range m.ToolCalls {
				pm.ToolCalls = append(pm.ToolCalls, providers.ToolCall{ID: tc.ID, Name: tc.Function.Name,
					Arguments: string(tc.Function.Arguments)})
				names[tc.ID] = tc.Function.Name
			}
			if m.FunctionCall != nil && len(m.ToolCalls) == 0 {
				pm.ToolCalls = append(pm.ToolCalls, providers.ToolCall{ID: m.FunctionCall.Name,
					Name: m.FunctionCall.Name, Arguments: string(m.FunctionCall.Arguments)})
			}
		}
		out = append(out, pm)
	}
	return out, nil
}

func decodeContent(c json.RawMessage, i int) ([]providers.Part, error) {
	if jsonscan.IsNull(c) {
		return nil, nil
	}
	if c[0] == '"' {
		s, _ := jsonscan.StringValue(c)
		if s == "" {
			return nil, nil
		}
		return []providers.Part{providers.TextPart(s)}, nil
	}
	var parts []wirePartIn
	if err := json.Unmarshal(c, &parts); err != nil {
		return nil, badRequest("messages[%d].content must be a string or an array of content parts: %s", i,
			jsonMessage(err))
	}
	out := make([]providers.Part, 0, len(parts))
	for j, p := range parts {
		switch p.Type {
		case "text", "input_text":
			part := providers.TextPart(p.Text)
			if !jsonscan.IsNull(p.CacheControl) {
				part.CacheControl = p.CacheControl
			}
			out = append(out, part)
		case "refusal":
			out = append(out, providers.TextPart(p.Refusal))
		case "image_url":
			part, err := decodeImage(p.ImageURL)
			if err != nil {
				return nil, badRequest("messages[%d].content[%d]: %s", i, j, err.Error())
			}
			out = append(out, part)
		default:
			return nil, badRequest("messages[%d].content[%d]: content part type %q is not supported", i, j, p.Type)
		}
	}
	return out, nil
}

func decodeImage(raw json.RawMessage) (providers.Part, error) {
	var img struct {
		URL    string `json:"url"`
		Detail string `json:"detail"`
	}
	switch {
	case jsonscan.IsNull(raw):
		return providers.Part{}, fmt.Errorf("image_url is required")
	case raw[0] == '"':
		img.URL, _ = jsonscan.StringValue(raw)
	default:
		if err := json.Unmarshal(raw, &img); err != nil {
			return providers.Part{}, fmt.Errorf("invalid image_url: %s", jsonMessage(err))
		}
	}
	if img.URL == "" {
		return providers.Part{}, fmt.Errorf("image_url.url is required")
	}
	return providers.Part{Type: providers.PartImage, URL: img.URL, MIMEType: dataURLMIME(img.URL), Detail: img.Detail}, nil
}

// dataURLMIME returns the media type of a data: URL ("" for other URLs).
func dataURLMIME(u string) string {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, ";,"); i >= 0 {
		return rest[:i]
	}
	return ""
}
