package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// Wire types shared by the request decoder and encoder.

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
	if isNull(b) {
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

func badRequest(format string, args ...any) *providers.Error {
	return providers.Errorf(providers.KindBadRequest, format, args...)
}

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
	if err := validate(body); err != nil {
		return nil, badRequest("invalid JSON body: %s", syntaxError(body))
	}
	obj := body[skipSpace(body, 0):]
	if obj[0] != '{' {
		return nil, badRequest("invalid JSON body: the request must be a JSON object")
	}
	req := &providers.Request{}
	var maxTokens, maxCompletion int
	var sawMessages bool
	var ferr error
	_ = eachMember(obj, func(rawKey, v []byte) bool {
		key := string(rawKey)
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			key, _ = stringValue(append(append([]byte{'"'}, rawKey...), '"'))
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
	null := isNull(v)
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
		s, _ := stringValue(v)
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
	if isNull(c) {
		return nil, nil
	}
	if c[0] == '"' {
		s, _ := stringValue(c)
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
			if !isNull(p.CacheControl) {
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
	case isNull(raw):
		return providers.Part{}, fmt.Errorf("image_url is required")
	case raw[0] == '"':
		img.URL, _ = stringValue(raw)
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

// Encoding.

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
