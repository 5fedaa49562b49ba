package openai

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/aigateway/ai-gateway/providers"
)

type encMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []wireToolCall  `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type encStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type encRequest struct {
	Model             string              `json:"model"`
	Messages          []encMessage        `json:"messages"`
	Tools             []wireTool          `json:"tools,omitempty"`
	ToolChoice        json.RawMessage     `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool               `json:"parallel_tool_calls,omitempty"`
	MaxTokens         int                 `json:"max_tokens,omitempty"`
	Temperature       *float64            `json:"temperature,omitempty"`
	TopP              *float64            `json:"top_p,omitempty"`
	TopK              *int                `json:"top_k,omitempty"`
	PresencePenalty   *float64            `json:"presence_penalty,omitempty"`
	FrequencyPenalty  *float64            `json:"frequency_penalty,omitempty"`
	Seed              *int64              `json:"seed,omitempty"`
	N                 int                 `json:"n,omitempty"`
	Stop              []string            `json:"stop,omitempty"`
	ResponseFormat    *wireResponseFormat `json:"response_format,omitempty"`
	ReasoningEffort   string              `json:"reasoning_effort,omitempty"`
	Stream            bool                `json:"stream,omitempty"`
	StreamOptions     *encStreamOptions   `json:"stream_options,omitempty"`
	User              string              `json:"user,omitempty"`
}

// forwardedExtra lists the Extra keys EncodeRequest forwards: OpenAI Chat Completions fields (and
// OpenAI-compatible vendor extensions) the canonical model does not map and that no other
// protocol spells the same with another meaning. Extra from an Anthropic or Gemini request (e.g.
// "thinking", "metadata", "service_tier", "safetySettings") is dropped.
func forwardedExtra(k string) bool {
	switch k {
	case "logprobs", "top_logprobs", "logit_bias", "store", "modalities", "audio", "prediction", "verbosity",
		"safety_identifier", "prompt_cache_key", "web_search_options",
		// Perplexity, Mistral and xAI extensions.
		"search_domain_filter", "search_recency_filter", "search_mode", "return_images",
		"return_related_questions", "safe_prompt", "prompt_mode", "search_parameters":
		return true
	}
	return false
}

// EncodeRequest renders a canonical request as an OpenAI Chat Completions body: what
// Client.Chat and Client.Stream send before the backend's quirks are applied. A streaming request
// always asks for stream_options.include_usage. The output cap is sent as max_tokens (the field
// every compatible server reads; quirks rename it where an upstream wants max_completion_tokens).
// Reasoning text of earlier assistant turns is not sent (Chat Completions has no input field for
// it); images in tool results, which Chat Completions tool messages cannot carry, follow the run
// of tool messages as one user message.
//
// It returns a *providers.Error of KindBadRequest when the request cannot be expressed (an
// unknown part type, invalid JSON in a tool schema).
func EncodeRequest(req *providers.Request) ([]byte, error) {
	w := encRequest{
		Model: req.Model, ParallelToolCalls: req.ParallelToolCalls, MaxTokens: req.MaxTokens,
		Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK, PresencePenalty: req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty, Seed: req.Seed, Stop: req.Stop,
		ReasoningEffort: req.ReasoningEffort, Stream: req.Stream, User: req.User,
	}
	if req.N > 1 {
		w.N = req.N
	}
	if req.Stream {
		w.StreamOptions = &encStreamOptions{IncludeUsage: true}
	}
	msgs, err := encodeMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	w.Messages = msgs
	for _, t := range req.Tools {
		var wt wireTool
		wt.Type = "function"
		wt.Function.Name, wt.Function.Description, wt.Function.Strict = t.Name, t.Description, t.Strict
		wt.Function.Parameters = t.Parameters
		if len(t.Parameters) > 0 && !json.Valid(t.Parameters) {
			return nil, badRequest("tool %q: parameters is not valid JSON", t.Name)
		}
		w.Tools = append(w.Tools, wt)
	}
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case providers.ToolChoiceTool:
			w.ToolChoice = append(append([]byte(`{"type":"function","function":{"name":`),
				appendString(nil, tc.Name)...), '}', '}')
		case providers.ToolChoiceAuto, providers.ToolChoiceNone, providers.ToolChoiceRequired:
			w.ToolChoice = appendString(nil, tc.Mode)
		}
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "" {
		w.ResponseFormat = &wireResponseFormat{Type: rf.Type}
		if rf.Type == "json_schema" {
			name := rf.Name
			if name == "" {
				name = "response"
			}
			w.ResponseFormat.JSONSchema = &struct {
				Name        string          `json:"name"`
				Description string          `json:"description,omitempty"`
				Schema      json.RawMessage `json:"schema,omitempty"`
				Strict      *bool           `json:"strict,omitempty"`
			}{Name: name, Description: rf.Description, Schema: rf.Schema, Strict: rf.Strict}
			if len(rf.Schema) > 0 && !json.Valid(rf.Schema) {
				return nil, badRequest("response_format: schema is not valid JSON")
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, badRequest("cannot encode the request: %s", jsonMessage(err))
	}
	out := bytes.TrimRight(buf.Bytes(), "\n")
	if len(req.Extra) == 0 {
		return out, nil
	}
	keys := make([]string, 0, len(req.Extra))
	for k := range req.Extra {
		if forwardedExtra(k) && json.Valid(req.Extra[k]) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	slices.Sort(keys)
	out = out[:len(out)-1] // drop '}'
	for _, k := range keys {
		out = append(out, ',')
		out = appendString(out, k)
		out = append(out, ':')
		out = append(out, req.Extra[k]...)
	}
	return append(out, '}'), nil
}

func encodeMessages(in []providers.Message) ([]encMessage, error) {
	out := make([]encMessage, 0, len(in))
	var pendingImages []providers.Part // images of tool results, sent after the run of tool messages
	flush := func() {
		if len(pendingImages) == 0 {
			return
		}
		c, _ := encodeParts(pendingImages)
		out = append(out, encMessage{Role: "user", Content: c})
		pendingImages = nil
	}
	for i, m := range in {
		if m.Role != providers.RoleTool {
			flush()
		}
		em := encMessage{Role: m.Role, Name: m.Name}
		for _, p := range m.Content {
			if p.Type != providers.PartText && p.Type != providers.PartImage {
				return nil, badRequest("messages[%d]: content part type %q cannot be sent to this backend", i, p.Type)
			}
		}
		switch m.Role {
		case providers.RoleSystem:
			em.Content = appendString(nil, m.Text())
		case providers.RoleUser:
			c, err := encodeParts(m.Content)
			if err != nil {
				return nil, err
			}
			em.Content = c
		case providers.RoleAssistant:
			text := m.Text()
			switch {
			case text != "":
				em.Content = appendString(nil, text)
			case len(m.ToolCalls) > 0:
				em.Content = json.RawMessage("null")
			default:
				em.Content = json.RawMessage(`""`)
			}
			for _, tc := range m.ToolCalls {
				args := tc.Arguments
				if args == "" {
					args = "{}"
				}
				em.ToolCalls = append(em.ToolCalls, wireToolCall{ID: tc.ID, Type: "function",
					Function: wireFunction{Name: tc.Name, Arguments: jsonArg(args)}})
			}
		case providers.RoleTool:
			em.Name = ""
			em.ToolCallID = m.ToolCallID
			em.Content = appendString(nil, m.Text())
			for _, p := range m.Content {
				if p.Type == providers.PartImage {
					pendingImages = append(pendingImages, p)
				}
			}
		default:
			return nil, badRequest("messages[%d]: role %q is not supported", i, m.Role)
		}
		out = append(out, em)
	}
	flush()
	return out, nil
}

// encodeParts renders user content: a plain string when it is one text part, else an array.
func encodeParts(parts []providers.Part) (json.RawMessage, error) {
	if len(parts) == 0 {
		return json.RawMessage(`""`), nil
	}
	if len(parts) == 1 && parts[0].Type == providers.PartText {
		return appendString(nil, parts[0].Text), nil
	}
	b := []byte{'['}
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		switch p.Type {
		case providers.PartText:
			b = append(b, `{"type":"text","text":`...)
			b = appendString(b, p.Text)
			b = append(b, '}')
		case providers.PartImage:
			b = append(b, `{"type":"image_url","image_url":{"url":`...)
			b = appendString(b, p.URL)
			if p.Detail != "" {
				b = append(b, `,"detail":`...)
				b = appendString(b, p.Detail)
			}
			b = append(b, '}', '}')
		}
	}
	return append(b, ']'), nil
}
