package responses

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// signaturePrefix tags a reasoning item's encrypted_content that holds a signature the gateway
// carried for the upstream (an Anthropic thinking signature). Anything else in encrypted_content
// (OpenAI's own gAAAA… blobs, another gateway's envelope) is not ours and is never sent upstream.
const signaturePrefix = "aigw.sig:"

// Decode builds the canonical request from r: instructions first, then the input items in
// order, the tools a translated backend can be offered, and the sampling, output and
// reasoning settings. Input items that name stored state (item_reference) must have been
// resolved before (see Request.Resolve); an unresolved one is a 404.
func (r *Request) Decode() (*providers.Request, error) {
	if err := r.Translatable(); err != nil {
		return nil, err
	}
	req := &providers.Request{Model: r.Model, Stream: r.Stream, IncludeUsage: true,
		ParallelToolCalls: r.ParallelToolCalls, Temperature: r.Temperature, TopP: r.TopP}
	if r.MaxOutputTokens != nil {
		req.MaxTokens = *r.MaxOutputTokens
	}
	if r.Instructions != nil && *r.Instructions != "" {
		req.Messages = append(req.Messages, providers.Message{Role: providers.RoleSystem,
			Content: []providers.Part{providers.TextPart(*r.Instructions)}})
	}
	b := builder{msgs: req.Messages, req: r}
	for i := range r.items {
		if err := b.item(i, &r.items[i]); err != nil {
			return nil, err
		}
	}
	req.Messages = b.msgs
	if err := r.decodeTools(req); err != nil {
		return nil, err
	}
	req.OmittedTools = r.Dropped
	if t := r.Text; t != nil {
		if f := t.Format; f != nil && (f.Type == "json_schema" || f.Type == "json_object") {
			req.ResponseFormat = &providers.ResponseFormat{Type: f.Type, Name: f.Name, Description: f.Description,
				Schema: f.Schema, Strict: f.Strict}
		}
		if t.Verbosity != "" {
			req.Extra = extra(req.Extra, "verbosity", t.Verbosity)
		}
	}
	if rc := r.Reasoning; rc != nil && rc.Effort != "" && rc.Effort != "none" {
		req.ReasoningEffort = rc.Effort
	}
	req.User = r.SafetyIdentifier
	if req.User == "" {
		req.User = r.User
	}
	if r.PromptCacheKey != "" {
		req.Extra = extra(req.Extra, "prompt_cache_key", r.PromptCacheKey)
	}
	return req, nil
}

func extra(m map[string]json.RawMessage, k, v string) map[string]json.RawMessage {
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(v)
	m[k] = b
	return m
}

// decodeTools offers the function and custom tools and maps tool_choice; allowed_tools narrows
// the offer to the tools it lists.
func (r *Request) decodeTools(req *providers.Request) error {
	var allowed []string
	tc := bytes.TrimSpace(r.ToolChoice)
	switch {
	case len(tc) == 0 || string(tc) == "null":
	case tc[0] == '"':
		var mode string
		if err := json.Unmarshal(tc, &mode); err != nil {
			return badRequest("tool_choice", "tool_choice: %s", jsonMessage(err))
		}
		switch mode {
		case providers.ToolChoiceAuto, providers.ToolChoiceNone, providers.ToolChoiceRequired:
			req.ToolChoice = &providers.ToolChoice{Mode: mode}
		default:
			return badRequest("tool_choice", "tool_choice must be auto, none, required or an object, not %q", mode)
		}
	default:
		var c struct {
			Type  string `json:"type"`
			Name  string `json:"name"`
			Mode  string `json:"mode"`
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		}
		_ = json.Unmarshal(tc, &c) // checked by checkToolChoice
		if c.Type == "allowed_tools" {
			mode := c.Mode
			if mode == "" {
				mode = providers.ToolChoiceAuto
			}
			req.ToolChoice = &providers.ToolChoice{Mode: mode}
			allowed = []string{}
			for _, t := range c.Tools {
				allowed = append(allowed, t.Name)
			}
		} else {
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: c.Name}
		}
	}
	for _, t := range r.tools {
		if allowed != nil && !contains(allowed, t.Name) {
			continue
		}
		pt := providers.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict}
		if len(pt.Parameters) == 0 || string(pt.Parameters) == "null" {
			pt.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		req.Tools = append(req.Tools, pt)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// builder turns input items into canonical messages: consecutive assistant output (a
// message, its function calls) becomes one assistant message, a reasoning item is carried on
// the assistant message that follows it, each call output is one tool message.
type builder struct {
	msgs []providers.Message
	req  *Request
	// reasoning is a reasoning item waiting for the assistant output it precedes.
	reasoning    string
	signature    string
	hasReasoning bool
	// names maps call ids to the called tool, for the backends that name a tool result.
	names map[string]string
}

func (b *builder) item(i int, it *Item) error {
	switch it.Type {
	case "message":
		return b.message(i, it)
	case "function_call", "custom_tool_call":
		args := it.Arguments
		if it.Type == "custom_tool_call" {
			a, _ := json.Marshal(map[string]string{"input": it.Input})
			args = string(a)
		} else if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		if it.CallID == "" {
			return badRequest("input", "input[%d] is a %s without a call_id", i, it.Type)
		}
		if b.names == nil {
			b.names = map[string]string{}
		}
		b.names[it.CallID] = it.Name
		m := b.assistant(true)
		m.ToolCalls = append(m.ToolCalls, providers.ToolCall{ID: it.CallID, Name: it.Name, Arguments: args})
	case "function_call_output", "custom_tool_call_output":
		parts, err := outputParts(i, it.Output)
		if err != nil {
			return err
		}
		b.msgs = append(b.msgs, providers.Message{Role: providers.RoleTool, ToolCallID: it.CallID,
			ToolName: b.names[it.CallID], Content: parts})
	case "reasoning":
		b.reasoning, b.signature, b.hasReasoning = reasoningText(it), "", true
		if sig, ok := strings.CutPrefix(it.EncryptedContent, signaturePrefix); ok {
			b.signature = sig
		}
	case "item_reference":
		return &providers.Error{Kind: providers.KindNotFound, Type: "invalid_request_error", Param: "input",
			Message: "Item with id '" + it.ID + "' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input."}
	case "compaction", "compaction_trigger":
		return badRequest("input", "input[%d]: %s items are not supported on this gateway's backend; compact the conversation locally", i, it.Type)
	default:
		// Items of built-in tools (web_search_call, …) a translated backend never offered: the
		// backend cannot read them, and the conversation stays whole without them.
	}
	return nil
}

// assistant is the assistant message the next output goes on: the last message when it is
// the assistant's and can take it, else a new one carrying any pending reasoning.
func (b *builder) assistant(call bool) *providers.Message {
	if n := len(b.msgs); n > 0 && !b.hasReasoning {
		last := &b.msgs[n-1]
		if last.Role == providers.RoleAssistant && (call || len(last.ToolCalls) == 0) {
			return last
		}
	}
	m := providers.Message{Role: providers.RoleAssistant}
	if b.hasReasoning {
		m.Reasoning, m.ReasoningSignature = b.reasoning, b.signature
		b.reasoning, b.signature, b.hasReasoning = "", "", false
	}
	b.msgs = append(b.msgs, m)
	return &b.msgs[len(b.msgs)-1]
}

func (b *builder) message(i int, it *Item) error {
	parts, err := contentParts(i, it.Content)
	if err != nil {
		return err
	}
	switch it.Role {
	case providers.RoleUser:
		b.msgs = append(b.msgs, providers.Message{Role: providers.RoleUser, Content: parts})
	case providers.RoleSystem, "developer":
		b.msgs = append(b.msgs, providers.Message{Role: providers.RoleSystem, Content: parts})
	case providers.RoleAssistant:
		m := b.assistant(false)
		m.Content = append(m.Content, parts...)
	default:
		return badRequest("input", "input[%d] has role %q; use user, assistant, system or developer", i, it.Role)
	}
	return nil
}

// contentParts reads a message's content: a string, or input/output parts.
func contentParts(i int, raw json.RawMessage) ([]providers.Part, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("input", "input[%d].content: %s", i, jsonMessage(err))
		}
		return []providers.Part{providers.TextPart(s)}, nil
	}
	var ps []contentPart
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, badRequest("input", "input[%d].content must be a string or an array of parts: %s", i, jsonMessage(err))
	}
	out := make([]providers.Part, 0, len(ps))
	for _, p := range ps {
		switch p.Type {
		case "input_text", "output_text", "text":
			out = append(out, providers.TextPart(p.Text))
		case "refusal":
			out = append(out, providers.TextPart(p.Refusal))
		case "input_image":
			if p.ImageURL == "" {
				return nil, badRequest("input", "input[%d]: an input_image needs an image_url (uploaded files are not available on this gateway's backend)", i)
			}
			out = append(out, providers.Part{Type: providers.PartImage, URL: p.ImageURL, Detail: p.Detail})
		default:
			return nil, badRequest("input", "input[%d]: content parts of type %q are not supported on this gateway's backend", i, p.Type)
		}
	}
	return out, nil
}

// outputParts reads a tool call's output: a string, or content parts.
func outputParts(i int, raw json.RawMessage) ([]providers.Part, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("input", "input[%d].output: %s", i, jsonMessage(err))
		}
		return []providers.Part{providers.TextPart(s)}, nil
	}
	parts, err := contentParts(i, raw)
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		parts = []providers.Part{providers.TextPart("")}
	}
	return parts, nil
}

// reasoningText is a reasoning item's text: its raw reasoning content when it has some, else
// its summary.
func reasoningText(it *Item) string {
	var content []contentPart
	if len(it.Content) > 0 && json.Unmarshal(it.Content, &content) == nil {
		var sb strings.Builder
		for _, p := range content {
			sb.WriteString(p.Text)
		}
		if sb.Len() > 0 {
			return sb.String()
		}
	}
	texts := make([]string, 0, len(it.Summary))
	for _, p := range it.Summary {
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n\n")
}
