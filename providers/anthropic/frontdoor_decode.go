package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// AdaptiveThinkingBudget is the ThinkingBudget given to a request with thinking
// {"type":"adaptive"}: the model decides how much to think on Anthropic, other backends need a
// number.
const AdaptiveThinkingBudget = 8192

// ResponseFormatName is the schema name given to output_config.format, which has none and which
// OpenAI's json_schema requires.
const ResponseFormatName = "response"

// DecodeRequest translates a Messages request body into the canonical request.
//
// system (a string or text blocks, cache_control kept on the parts) and role "system" messages
// become system messages; tool_result blocks become RoleTool messages (ToolName recovered from
// the tool_use with that id) placed before the rest of their user turn; thinking blocks become
// the assistant's Reasoning and ReasoningSignature (redacted_thinking is dropped: no other
// backend can read it); text documents become text. thinking "enabled" gives its budget_tokens,
// "adaptive" AdaptiveThinkingBudget, "disabled" none; output_config.effort gives ReasoningEffort
// ("max" and "xhigh" → "high"). Top-level fields with no canonical meaning are kept in Extra.
//
// Every error is a *providers.Error of KindBadRequest with an Anthropic-style message
// ("max_tokens: Field required"); for a body that is not JSON the message is the parser's.
// Content only an Anthropic backend can use (PDF documents, Files API sources, server tools)
// is refused with a message that says so rather than silently dropped.
func DecodeRequest(body []byte) (*providers.Request, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, badRequest("request body must be a JSON object")
		}
		return nil, badRequest("invalid JSON body: %v", err)
	}
	req := &providers.Request{}
	if raw, ok := top["model"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &req.Model); err != nil {
			return nil, badRequest("model: Input should be a valid string")
		}
	}
	raw, ok := top["max_tokens"]
	if !ok || isNull(raw) {
		return nil, badRequest("max_tokens: Field required")
	}
	n, ok := intValue(raw)
	if !ok {
		return nil, badRequest("max_tokens: Input should be a valid integer")
	}
	req.MaxTokens = n
	if req.MaxTokens < 1 {
		return nil, badRequest("max_tokens: Input should be greater than or equal to 1")
	}
	raw, ok = top["messages"]
	if !ok || isNull(raw) {
		return nil, badRequest("messages: Field required")
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, badRequest("messages: Input should be a valid list of messages: %v", err)
	}

	if raw, ok := top["system"]; ok && !isNull(raw) {
		m, err := systemMessage(raw, "system")
		if err != nil {
			return nil, err
		}
		if len(m.Content) > 0 {
			req.Messages = append(req.Messages, m)
		}
	}
	toolNames := map[string]string{}
	for i, m := range msgs {
		path := fmt.Sprintf("messages.%d", i)
		var err error
		switch m.Role {
		case "user":
			req.Messages, err = decodeUser(req.Messages, m.Content, path, toolNames)
		case "assistant":
			req.Messages, err = decodeAssistant(req.Messages, m.Content, path, toolNames)
		case "system":
			var sm providers.Message
			sm, err = systemMessage(m.Content, path+".content")
			if err == nil && len(sm.Content) > 0 {
				req.Messages = append(req.Messages, sm)
			}
		case "":
			err = badRequest("%s.role: Field required", path)
		default:
			err = badRequest("%s.role: Input should be 'user', 'assistant' or 'system'", path)
		}
		if err != nil {
			return nil, err
		}
	}

	if err := decodeTools(req, top); err != nil {
		return nil, err
	}
	if err := decodeOptions(req, top); err != nil {
		return nil, err
	}
	for k, v := range top {
		if !knownRequestKey(k) {
			if req.Extra == nil {
				req.Extra = map[string]json.RawMessage{}
			}
			req.Extra[k] = v
		}
	}
	return req, nil
}

func knownRequestKey(k string) bool {
	switch k {
	case "model", "max_tokens", "messages", "system", "stop_sequences", "stream", "temperature", "top_p", "top_k",
		"tools", "tool_choice", "thinking", "output_config", "metadata":
		return true
	}
	return false
}

// intValue reads a JSON number that is an integer, also when written 1000.0 or 1e3 (the
// Messages API accepts those).
func intValue(raw []byte) (int, bool) {
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// blocksOf reads content that is a string or a list of blocks; a string becomes one text block.
func blocksOf(raw json.RawMessage, path string) ([]wireBlock, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, badRequest("%s: Field required", path)
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return nil, badRequest("%s: %v", path, err)
		}
		return []wireBlock{{Type: "text", Text: s}}, nil
	case '[':
		var blocks []wireBlock
		if err := json.Unmarshal(t, &blocks); err != nil {
			return nil, badRequest("%s: Input should be a valid list of content blocks: %v", path, err)
		}
		return blocks, nil
	}
	return nil, badRequest("%s: Input should be a valid string or list of content blocks", path)
}

// systemMessage reads top-level system or a role "system" message: text only.
func systemMessage(raw json.RawMessage, path string) (providers.Message, error) {
	blocks, err := blocksOf(raw, path)
	if err != nil {
		return providers.Message{}, err
	}
	m := providers.Message{Role: providers.RoleSystem}
	for j, b := range blocks {
		if b.Type != "text" {
			return m, badRequest("%s.%d.type: system content must be text blocks, not %q", path, j, b.Type)
		}
		if b.Text == "" {
			continue
		}
		m.Content = append(m.Content, providers.Part{Type: providers.PartText, Text: b.Text, CacheControl: b.CacheControl})
	}
	return m, nil
}

// decodeUser appends a user turn: its tool results first, as RoleTool messages, then a user
// message with the rest of its content.
func decodeUser(out []providers.Message, raw json.RawMessage, path string, toolNames map[string]string) ([]providers.Message, error) {
	blocks, err := blocksOf(raw, path+".content")
	if err != nil {
		return nil, err
	}
	var parts []providers.Part
	for j, b := range blocks {
		bpath := fmt.Sprintf("%s.content.%d", path, j)
		if b.Type == "tool_result" {
			if b.ToolUseID == "" {
				return nil, badRequest("%s.tool_use_id: Field required", bpath)
			}
			tm := providers.Message{Role: providers.RoleTool, ToolCallID: b.ToolUseID, ToolName: toolNames[b.ToolUseID], IsError: b.IsError}
			if !isNull(b.Content) {
				inner, err := blocksOf(b.Content, bpath+".content")
				if err != nil {
					return nil, err
				}
				for k, ib := range inner {
					p, err := contentPart(ib, fmt.Sprintf("%s.content.%d", bpath, k))
					if err != nil {
						return nil, err
					}
					tm.Content = append(tm.Content, p...)
				}
			}
			out = append(out, tm)
			continue
		}
		p, err := contentPart(b, bpath)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p...)
	}
	if len(parts) > 0 {
		out = append(out, providers.Message{Role: providers.RoleUser, Content: parts})
	}
	return out, nil
}

// decodeAssistant appends an assistant message: text, tool calls, and thinking.
func decodeAssistant(out []providers.Message, raw json.RawMessage, path string, toolNames map[string]string) ([]providers.Message, error) {
	blocks, err := blocksOf(raw, path+".content")
	if err != nil {
		return nil, err
	}
	m := providers.Message{Role: providers.RoleAssistant}
	for j, b := range blocks {
		bpath := fmt.Sprintf("%s.content.%d", path, j)
		switch b.Type {
		case "tool_use":
			if b.ID == "" || b.Name == "" {
				return nil, badRequest("%s: tool_use blocks need an id and a name", bpath)
			}
			toolNames[b.ID] = b.Name
			m.ToolCalls = append(m.ToolCalls, providers.ToolCall{ID: b.ID, Name: b.Name, Arguments: compactArgs(b.Input)})
		case "thinking":
			if m.Reasoning != "" && b.Thinking != "" {
				m.Reasoning += "\n\n"
			}
			m.Reasoning += b.Thinking
			if b.Signature != "" {
				m.ReasoningSignature = b.Signature
			}
		case "redacted_thinking":
			// Encrypted reasoning only Anthropic can read.
		default:
			p, err := contentPart(b, bpath)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, p...)
		}
	}
	if len(m.Content) == 0 && len(m.ToolCalls) == 0 && m.Reasoning == "" {
		return out, nil
	}
	return append(out, m), nil
}

// contentPart maps a text, image or document block to canonical parts.
func contentPart(b wireBlock, path string) ([]providers.Part, error) {
	switch b.Type {
	case "text":
		return []providers.Part{{Type: providers.PartText, Text: b.Text, CacheControl: b.CacheControl}}, nil
	case "image":
		if b.Source == nil {
			return nil, badRequest("%s.source: Field required", path)
		}
		switch b.Source.Type {
		case "base64":
			if b.Source.MediaType == "" {
				return nil, badRequest("%s.source.media_type: Field required", path)
			}
			return []providers.Part{{Type: providers.PartImage, URL: "data:" + b.Source.MediaType + ";base64," + b.Source.Data,
				MIMEType: b.Source.MediaType, CacheControl: b.CacheControl}}, nil
		case "url":
			if b.Source.URL == "" {
				return nil, badRequest("%s.source.url: Field required", path)
			}
			return []providers.Part{{Type: providers.PartImage, URL: b.Source.URL, CacheControl: b.CacheControl}}, nil
		case "file":
			return nil, badRequest("%s.source: Files API sources only work when the backend is Anthropic", path)
		}
		return nil, badRequest("%s.source.type: unsupported image source type %q", path, b.Source.Type)
	case "document":
		return documentParts(b, path)
	case "tool_use", "tool_result", "thinking", "redacted_thinking":
		return nil, badRequest("%s: %s blocks are not allowed in this message", path, b.Type)
	}
	return nil, badRequest("%s.type: content block type %q is not supported when the backend is not Anthropic", path, b.Type)
}

// documentParts maps a document block when it is text; anything else (PDF, Files API) is
// refused, since only Anthropic reads those.
func documentParts(b wireBlock, path string) ([]providers.Part, error) {
	s := b.Source
	if s == nil {
		return nil, badRequest("%s.source: Field required", path)
	}
	text := func(t string) []providers.Part {
		return []providers.Part{{Type: providers.PartText, Text: t, CacheControl: b.CacheControl}}
	}
	switch {
	case s.Type == "text":
		return text(s.Data), nil
	case s.Type == "base64" && strings.HasPrefix(s.MediaType, "text/"):
		raw, err := base64.StdEncoding.DecodeString(s.Data)
		if err != nil {
			return nil, badRequest("%s.source.data: invalid base64: %v", path, err)
		}
		return text(string(raw)), nil
	case s.Type == "content":
		inner, err := blocksOf(s.Content, path+".source.content")
		if err != nil {
			return nil, err
		}
		var out []providers.Part
		for k, ib := range inner {
			p, err := contentPart(ib, fmt.Sprintf("%s.source.content.%d", path, k))
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	}
	kind := s.MediaType
	if kind == "" {
		kind = s.Type
	}
	return nil, badRequest("%s: %s documents are only supported when the backend is Anthropic", path, kind)
}

// decodeTools reads tools and tool_choice.
func decodeTools(req *providers.Request, top map[string]json.RawMessage) error {
	if raw, ok := top["tools"]; ok && !isNull(raw) {
		var tools []wireTool
		if err := json.Unmarshal(raw, &tools); err != nil {
			return badRequest("tools: Input should be a valid list of tools: %v", err)
		}
		for i, t := range tools {
			if t.Type != "" && t.Type != "custom" {
				return badRequest("tools.%d: %s tools are only supported when the backend is Anthropic", i, t.Type)
			}
			if t.Name == "" {
				return badRequest("tools.%d.name: Field required", i)
			}
			if isNull(t.InputSchema) {
				return badRequest("tools.%d.input_schema: Field required", i)
			}
			req.Tools = append(req.Tools, providers.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema, Strict: t.Strict})
		}
	}
	if raw, ok := top["tool_choice"]; ok && !isNull(raw) {
		var tc wireToolChoice
		if err := json.Unmarshal(raw, &tc); err != nil {
			return badRequest("tool_choice: %v", err)
		}
		switch tc.Type {
		case "auto":
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceAuto}
		case "any":
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceRequired}
		case "none":
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceNone}
		case "tool":
			if tc.Name == "" {
				return badRequest("tool_choice.name: Field required")
			}
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: tc.Name}
		default:
			return badRequest("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
		}
		if tc.DisableParallelToolUse {
			f := false
			req.ParallelToolCalls = &f
		}
	}
	return nil
}

// decodeOptions reads the sampling, thinking, output and metadata fields.
func decodeOptions(req *providers.Request, top map[string]json.RawMessage) error {
	fields := []struct {
		key string
		dst any
		msg string
	}{
		{"stream", &req.Stream, "a valid boolean"},
		{"stop_sequences", &req.Stop, "a valid list of strings"},
		{"temperature", &req.Temperature, "a valid number"},
		{"top_p", &req.TopP, "a valid number"},
		{"top_k", &req.TopK, "a valid integer"},
	}
	for _, f := range fields {
		if raw, ok := top[f.key]; ok && !isNull(raw) {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return badRequest("%s: Input should be %s", f.key, f.msg)
			}
		}
	}
	if raw, ok := top["thinking"]; ok && !isNull(raw) {
		var th wireThinking
		if err := json.Unmarshal(raw, &th); err != nil {
			return badRequest("thinking: %v", err)
		}
		switch th.Type {
		case "enabled":
			if th.BudgetTokens < 1 {
				return badRequest("thinking.enabled.budget_tokens: Field required")
			}
			req.ThinkingBudget = th.BudgetTokens
		case "adaptive":
			req.ThinkingBudget = AdaptiveThinkingBudget
		case "disabled":
		default:
			return badRequest("thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'")
		}
	}
	if raw, ok := top["output_config"]; ok && !isNull(raw) {
		var oc wireOutputConfig
		if err := json.Unmarshal(raw, &oc); err != nil {
			return badRequest("output_config: %v", err)
		}
		switch oc.Effort {
		case "low", "medium", "high":
			req.ReasoningEffort = oc.Effort
		case "xhigh", "max":
			req.ReasoningEffort = "high"
		}
		if f := oc.Format; f != nil {
			if f.Type != "json_schema" {
				return badRequest("output_config.format.type: Input should be 'json_schema'")
			}
			if isNull(f.Schema) {
				return badRequest("output_config.format.schema: Field required")
			}
			req.ResponseFormat = &providers.ResponseFormat{Type: "json_schema", Name: ResponseFormatName, Schema: f.Schema}
		}
	}
	if raw, ok := top["metadata"]; ok && !isNull(raw) {
		var md wireMetadata
		if err := json.Unmarshal(raw, &md); err != nil {
			return badRequest("metadata: %v", err)
		}
		req.User = md.UserID
	}
	return nil
}
