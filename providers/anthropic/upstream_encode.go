package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// minThinkingBudget is the smallest budget_tokens the Messages API accepts.
const minThinkingBudget = 1024

// EncodeRequest translates a canonical request into a POST /v1/messages body (with "stream"
// as req.Stream says).
//
// The mapping: every system message, in order, becomes a text block of the top-level system
// (cache_control kept); consecutive tool results become one user turn of tool_result blocks
// placed before any other content of that turn; consecutive turns of the same role are merged;
// assistant reasoning with a signature becomes a leading thinking block; tool call arguments
// become the tool_use input object ({} when they are not a JSON object); image data URLs become
// base64 sources and http(s) URLs url sources (a PDF becomes a document block); max_tokens is
// DefaultMaxTokens when unset. When thinking is on, the sampling parameters Anthropic rejects
// with it (temperature, top_k, top_p below 0.95) are dropped, and thinking itself is dropped
// when the last assistant turn calls tools without a signed thinking block (history from
// another model), which Anthropic would reject.
//
// Errors are *providers.Error of KindBadRequest (an unknown role, an image URL Anthropic cannot
// use, tool parameters that are not JSON).
func EncodeRequest(req *providers.Request) ([]byte, error) {
	if req == nil {
		return nil, &providers.Error{Kind: providers.KindInternal, Message: "nil request"}
	}
	return encodeRequest(req, req.Stream)
}

func encodeRequest(req *providers.Request, stream bool) ([]byte, error) {
	w, err := buildRequest(req, stream)
	if err != nil {
		return nil, err
	}
	if req.AutoCache {
		placeCacheBreakpoints(w)
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInternal, Message: "encoding the Messages request: " + err.Error()}
	}
	return b, nil
}

// buildRequest is EncodeRequest before marshalling.
func buildRequest(req *providers.Request, stream bool) (*wireRequest, error) {
	w := &wireRequest{
		Model:       req.Model,
		Stream:      stream,
		Temperature: req.Temperature,
		TopP:        req.TopP,
		TopK:        req.TopK,
	}
	for _, s := range req.Stop {
		// Anthropic rejects empty and whitespace-only stop sequences.
		if strings.TrimSpace(s) != "" {
			w.StopSequences = append(w.StopSequences, s)
		}
	}
	w.MaxTokens = req.MaxTokens
	defaulted := w.MaxTokens <= 0
	if defaulted {
		w.MaxTokens = DefaultMaxTokens
	}

	var b turnBuilder
	for i, m := range req.Messages {
		var err error
		switch m.Role {
		case providers.RoleSystem, "developer":
			for _, p := range m.Content {
				if p.Type == providers.PartText && p.Text != "" {
					w.System = append(w.System, wireBlock{Type: "text", Text: p.Text, CacheControl: p.CacheControl})
				}
			}
		case providers.RoleUser:
			err = b.user(i, m)
		case providers.RoleAssistant:
			err = b.assistant(i, m)
		case providers.RoleTool:
			err = b.toolResult(i, m)
		default:
			err = badRequest("messages[%d]: unsupported role %q", i, m.Role)
		}
		if err != nil {
			return nil, err
		}
	}
	w.Messages = b.messages()

	for i, t := range req.Tools {
		schema := bytes.TrimSpace(t.Parameters)
		if len(schema) == 0 || string(schema) == "null" {
			schema = []byte(`{"type":"object","properties":{}}`)
		} else if !json.Valid(schema) {
			return nil, badRequest("tools[%d] (%s): parameters is not valid JSON", i, t.Name)
		}
		wt := wireTool{Name: t.Name, Description: t.Description, InputSchema: schema}
		if t.Strict != nil && *t.Strict {
			wt.Strict = t.Strict
		}
		w.Tools = append(w.Tools, wt)
	}
	if len(w.Tools) > 0 {
		if tc := req.ToolChoice; tc != nil {
			switch tc.Mode {
			case providers.ToolChoiceAuto, "":
				w.ToolChoice = &wireToolChoice{Type: "auto"}
			case providers.ToolChoiceRequired:
				w.ToolChoice = &wireToolChoice{Type: "any"}
			case providers.ToolChoiceNone:
				w.ToolChoice = &wireToolChoice{Type: "none"}
			case providers.ToolChoiceTool:
				w.ToolChoice = &wireToolChoice{Type: "tool", Name: tc.Name}
			default:
				return nil, badRequest("unsupported tool_choice %q", tc.Mode)
			}
		}
		if p := req.ParallelToolCalls; p != nil && !*p {
			if w.ToolChoice == nil {
				w.ToolChoice = &wireToolChoice{Type: "auto"}
			}
			// "none" does not take the flag: no tool is called at all.
			if w.ToolChoice.Type != "none" {
				w.ToolChoice.DisableParallelToolUse = true
			}
		}
	}

	if budget := thinkingBudget(req); budget > 0 && lastToolTurnHasThinking(w.Messages) {
		budget = max(budget, minThinkingBudget)
		if defaulted {
			// No cap was asked for: leave room for the answer after the thinking.
			w.MaxTokens = budget + DefaultMaxTokens
		} else if budget >= w.MaxTokens {
			// budget_tokens must stay below max_tokens, which is the caller's (or policy's) cap.
			budget = w.MaxTokens - 1
		}
		if budget >= minThinkingBudget {
			w.Thinking = &wireThinking{Type: "enabled", BudgetTokens: budget}
			w.Temperature, w.TopK = nil, nil
			if w.TopP != nil && *w.TopP < 0.95 {
				w.TopP = nil
			}
		}
	}

	if rf := req.ResponseFormat; rf != nil && rf.Type == "json_schema" && len(rf.Schema) > 0 {
		if !json.Valid(rf.Schema) {
			return nil, badRequest("response_format: schema is not valid JSON")
		}
		w.OutputConfig = &wireOutputConfig{Format: &wireFormat{Type: "json_schema", Schema: rf.Schema}}
	}
	if req.User != "" {
		w.Metadata = &wireMetadata{UserID: req.User}
	}
	return w, nil
}

// effortBudgets turn an OpenAI reasoning effort (reasoning_effort, the Responses API's
// reasoning.effort, a Gemini thinkingLevel) into Anthropic's budget_tokens.
var effortBudgets = map[string]int{"minimal": minThinkingBudget, "low": minThinkingBudget, "medium": 4096,
	"high": 16384, "xhigh": 32768, "max": 32768}

// thinkingBudget is the request's thinking budget: its own, else its reasoning effort's.
func thinkingBudget(req *providers.Request) int {
	if req.ThinkingBudget > 0 {
		return req.ThinkingBudget
	}
	return effortBudgets[strings.ToLower(req.ReasoningEffort)]
}

// lastToolTurnHasThinking reports whether thinking may be turned on for this history: Anthropic
// requires the last assistant turn, when it calls tools, to start with a thinking block.
func lastToolTurnHasThinking(msgs []wireMessage) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role != "assistant" {
			continue
		}
		hasTool := false
		for _, b := range m.Content {
			if b.Type == "tool_use" {
				hasTool = true
			}
		}
		if !hasTool {
			return true
		}
		return len(m.Content) > 0 && (m.Content[0].Type == "thinking" || m.Content[0].Type == "redacted_thinking")
	}
	return true
}

// turn is one Messages turn being built: lead blocks (tool results of a user turn, thinking of
// an assistant turn) must come before the rest.
type turn struct {
	role       string
	lead, rest []wireBlock
}

// turnBuilder merges canonical messages into alternating Messages turns and keeps tool_use ids
// and tool_result ids in step.
type turnBuilder struct {
	turns []turn
	// pending are the tool calls not answered yet, for tool results that come without an id.
	pending []pendingCall
}

type pendingCall struct{ id, name string }

func (b *turnBuilder) add(role string, lead, rest []wireBlock) {
	if len(lead)+len(rest) == 0 {
		return
	}
	if n := len(b.turns); n > 0 && b.turns[n-1].role == role {
		t := &b.turns[n-1]
		t.lead = append(t.lead, lead...)
		t.rest = append(t.rest, rest...)
		return
	}
	b.turns = append(b.turns, turn{role: role, lead: lead, rest: rest})
}

func (b *turnBuilder) messages() []wireMessage {
	out := make([]wireMessage, 0, len(b.turns))
	for _, t := range b.turns {
		out = append(out, wireMessage{Role: t.role, Content: append(t.lead, t.rest...)})
	}
	return out
}

func (b *turnBuilder) user(i int, m providers.Message) error {
	blocks, err := contentBlocks(i, m.Content)
	if err != nil {
		return err
	}
	b.add("user", nil, blocks)
	return nil
}

func (b *turnBuilder) assistant(i int, m providers.Message) error {
	var lead []wireBlock
	if m.Reasoning != "" && m.ReasoningSignature != "" {
		// Without its signature Anthropic rejects a thinking block; unsigned reasoning (from
		// another model) is not sent back.
		lead = []wireBlock{{Type: "thinking", Thinking: m.Reasoning, Signature: m.ReasoningSignature}}
	}
	rest, err := contentBlocks(i, m.Content)
	if err != nil {
		return err
	}
	for j, tc := range m.ToolCalls {
		id := toolID(tc.ID)
		if id == "" {
			id = "toolu_gw_" + strconv.Itoa(i) + "_" + strconv.Itoa(j)
		}
		b.pending = append(b.pending, pendingCall{id: id, name: tc.Name})
		rest = append(rest, wireBlock{Type: "tool_use", ID: id, Name: tc.Name, Input: toolInput(tc.Arguments)})
	}
	b.add("assistant", lead, rest)
	return nil
}

func (b *turnBuilder) toolResult(i int, m providers.Message) error {
	id := toolID(m.ToolCallID)
	if id == "" {
		id = b.claim(m.ToolName)
	} else {
		b.answer(id)
	}
	blk := wireBlock{Type: "tool_result", ToolUseID: id, IsError: m.IsError}
	content, err := toolResultContent(i, m.Content)
	if err != nil {
		return err
	}
	blk.Content = content
	b.add("user", []wireBlock{blk}, nil)
	return nil
}

// answer marks the pending call id as answered.
func (b *turnBuilder) answer(id string) {
	for k, p := range b.pending {
		if p.id == id {
			b.pending = append(b.pending[:k], b.pending[k+1:]...)
			return
		}
	}
}

// claim answers the oldest pending call named name (or the oldest one when name is unknown)
// and returns its id; a tool result without an id is matched this way.
func (b *turnBuilder) claim(name string) string {
	for k, p := range b.pending {
		if name == "" || p.name == name {
			b.pending = append(b.pending[:k], b.pending[k+1:]...)
			return p.id
		}
	}
	return ""
}

// toolID makes id fit Anthropic's ^[a-zA-Z0-9_-]+$; the same id always maps the same way, so
// tool_use and tool_result stay paired.
func toolID(id string) string {
	ok := true
	for i := 0; i < len(id); i++ {
		if !idByte(id[i]) {
			ok = false
			break
		}
	}
	if ok {
		return id
	}
	b := []byte(id)
	for i := range b {
		if !idByte(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}

func idByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// toolInput is the tool_use input for a call's arguments: the arguments when they are a JSON
// object, else {} (a truncated or empty arguments string cannot be sent).
func toolInput(args string) json.RawMessage {
	s := strings.TrimSpace(args)
	if s == "" || s[0] != '{' || !json.Valid([]byte(s)) {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(s)
}

// contentBlocks maps text and image parts; empty text parts are skipped (Anthropic rejects them).
func contentBlocks(i int, parts []providers.Part) ([]wireBlock, error) {
	out := make([]wireBlock, 0, len(parts))
	for _, p := range parts {
		switch p.Type {
		case providers.PartText:
			if p.Text != "" {
				out = append(out, wireBlock{Type: "text", Text: p.Text, CacheControl: p.CacheControl})
			}
		case providers.PartImage:
			blk, err := imageBlock(p)
			if err != nil {
				return nil, badRequest("messages[%d]: %s", i, err.Error())
			}
			out = append(out, blk)
		default:
			return nil, badRequest("messages[%d]: unsupported content part %q", i, p.Type)
		}
	}
	return out, nil
}

// toolResultContent is a tool_result's content: a string when the result is only text without
// cache_control, blocks when it has images or marks, nothing when it is empty.
func toolResultContent(i int, parts []providers.Part) (json.RawMessage, error) {
	onlyText := true
	for _, p := range parts {
		if p.Type != providers.PartText || len(p.CacheControl) > 0 {
			onlyText = false
		}
	}
	if onlyText {
		text := providers.Message{Content: parts}.Text()
		if text == "" {
			return nil, nil
		}
		return appendString(nil, text), nil
	}
	blocks, err := contentBlocks(i, parts)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(blocks)
	if err != nil {
		return nil, badRequest("messages[%d]: %v", i, err)
	}
	return b, nil
}

// imageBlock maps an image part: data URL → base64 source, http(s) URL → url source. A PDF
// (by media type) becomes a document block, which Anthropic reads the same way.
func imageBlock(p providers.Part) (wireBlock, error) {
	u := p.URL
	switch {
	case strings.HasPrefix(u, "data:"):
		mediaType, data, err := splitDataURL(u)
		if err != nil {
			return wireBlock{}, err
		}
		if mediaType == "" {
			mediaType = p.MIMEType
		}
		typ := "image"
		if mediaType == "application/pdf" {
			typ = "document"
		}
		return wireBlock{Type: typ, Source: &wireSource{Type: "base64", MediaType: mediaType, Data: data}, CacheControl: p.CacheControl}, nil
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		typ := "image"
		if p.MIMEType == "application/pdf" {
			typ = "document"
		}
		return wireBlock{Type: typ, Source: &wireSource{Type: "url", URL: u}, CacheControl: p.CacheControl}, nil
	}
	scheme, _, _ := strings.Cut(u, ":")
	if len(scheme) > 20 {
		scheme = scheme[:20]
	}
	return wireBlock{}, fmt.Errorf("image URL must be an http(s) or data: URL for Anthropic, not %q", scheme+":")
}

// splitDataURL splits data:[<media type>][;params][;base64],<data> into the media type and the
// base64 payload (a percent-encoded payload is base64-encoded).
func splitDataURL(u string) (mediaType, data string, err error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !ok {
		return "", "", fmt.Errorf("malformed data URL: no comma")
	}
	isBase64 := strings.HasSuffix(meta, ";base64")
	meta = strings.TrimSuffix(meta, ";base64")
	mediaType, _, _ = strings.Cut(meta, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if isBase64 {
		return mediaType, payload, nil
	}
	raw, err := url.PathUnescape(payload)
	if err != nil {
		return "", "", fmt.Errorf("malformed data URL: %v", err)
	}
	return mediaType, base64.StdEncoding.EncodeToString([]byte(raw)), nil
}
