// Package responses is the OpenAI Responses API front door (SPEC §14): it reads a
// CreateResponse body into the canonical request, and writes a canonical answer back as a
// Response object or as the Responses event stream, for any backend the gateway translates to.
package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// Request is a CreateResponse body as the caller sent it, read once. Tools and ToolChoice keep
// their raw JSON too, so the answer echoes them as they were asked for.
type Request struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       *string           `json:"instructions"`
	PreviousResponseID string            `json:"previous_response_id"`
	Store              *bool             `json:"store"`
	Stream             bool              `json:"stream"`
	Background         bool              `json:"background"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Text               *textConfig       `json:"text"`
	Reasoning          *reasoningConfig  `json:"reasoning"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	Metadata           map[string]string `json:"metadata"`
	User               string            `json:"user"`
	SafetyIdentifier   string            `json:"safety_identifier"`
	PromptCacheKey     string            `json:"prompt_cache_key"`
	Conversation       json.RawMessage   `json:"conversation"`
	Prompt             json.RawMessage   `json:"prompt"`

	// items is Input read as items (a string input is one user message), earlier turns
	// first once resolved; turn is this turn's own items.
	items []Item
	turn  []Item
	// tools are the function tools offered, custom ones as functions (built-ins left out).
	tools []tool
	// untranslatable is why the request cannot be translated (see Translatable).
	untranslatable *providers.Error
	// Dropped names the offered tools a translated backend cannot express (built-in and
	// namespaced ones): they are left out, not refused.
	Dropped []string
}

type textConfig struct {
	Format    *textFormat `json:"format"`
	Verbosity string      `json:"verbosity,omitempty"`
}

type textFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

type reasoningConfig struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// Item is one input or output item. Its fields are the union of the item types the door reads.
type Item struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Status  string          `json:"status"`
	// function_call, custom_tool_call and their outputs.
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Namespace string          `json:"namespace"`
	Arguments string          `json:"arguments"`
	Input     string          `json:"input"`
	Output    json.RawMessage `json:"output"`
	// reasoning.
	Summary          []contentPart `json:"summary"`
	EncryptedContent string        `json:"encrypted_content"`

	// raw is the item as it was sent (or stored): what the state keeps.
	raw json.RawMessage
}

// contentPart is one part of a message's content (input_text, input_image, output_text,
// refusal, input_file) or of a reasoning item's summary and content.
type contentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL string `json:"image_url"`
	FileID   string `json:"file_id"`
	Detail   string `json:"detail"`
	FileData string `json:"file_data"`
	Filename string `json:"filename"`
}

// tool is one offered tool a translated backend can call.
type tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// customInputSchema is the one string argument a custom tool (free-form input such as Codex's
// apply_patch) is offered as on a backend that only has function tools.
const customInputSchema = `{"type":"object","properties":{"input":{"type":"string"}},"required":["input"],"additionalProperties":false}`

// badRequest is an OpenAI-shaped 400 about param.
func badRequest(param, format string, args ...any) *providers.Error {
	return &providers.Error{Kind: providers.KindBadRequest, Type: "invalid_request_error", Param: param,
		Message: fmt.Sprintf(format, args...)}
}

// ParseRequest reads a CreateResponse body. It returns a *providers.Error 400 for invalid JSON
// or a top-level field of the wrong type; what only a translation cannot serve is Translatable's
// verdict, so that a backend serving the Responses API itself still gets such a request.
func ParseRequest(body []byte) (*Request, error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil {
		return nil, badRequest("", "the request body is not a valid Responses request: %s", jsonMessage(err))
	}
	r.untranslatable = r.readForTranslation()
	return &r, nil
}

// Translatable is nil when the request can be translated for another backend, else the 400
// saying why not: background mode, conversations and stored prompts (state only OpenAI keeps),
// input items it cannot read, a tool_choice that forces a tool the backend cannot be offered.
func (r *Request) Translatable() error {
	if r.untranslatable != nil {
		return r.untranslatable
	}
	return nil
}

func (r *Request) readForTranslation() *providers.Error {
	if r.Background {
		return badRequest("background", "background responses are not supported by this gateway; send the request without background")
	}
	if len(r.Conversation) > 0 && string(r.Conversation) != "null" {
		return badRequest("conversation", "conversations are not supported by this gateway; use previous_response_id or send the input items")
	}
	if len(r.Prompt) > 0 && string(r.Prompt) != "null" {
		return badRequest("prompt", "stored prompt templates are not supported by this gateway; send instructions and input instead")
	}
	if r.MaxOutputTokens != nil && *r.MaxOutputTokens < 0 {
		return badRequest("max_output_tokens", "max_output_tokens must not be negative")
	}
	items, err := readInput(r.Input)
	if err != nil {
		return err
	}
	r.items = items
	return r.readTools()
}

// readInput reads input: a string is one user message; an array holds items.
func readInput(raw json.RawMessage) ([]Item, *providers.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("input", "input: %s", jsonMessage(err))
		}
		return readItems([]json.RawMessage{userMessage(s)}, "input")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("input", "input must be a string or an array of items: %s", jsonMessage(err))
	}
	return readItems(list, "input")
}

// userMessage is a string input as the user message item it stands for.
func userMessage(s string) json.RawMessage {
	return marshal(map[string]any{"type": "message", "role": providers.RoleUser,
		"content": []map[string]string{{"type": "input_text", "text": s}}})
}

// readItems reads items, each keeping its raw JSON. what names them in errors.
func readItems(list []json.RawMessage, what string) ([]Item, *providers.Error) {
	items := make([]Item, len(list))
	for i, raw := range list {
		if err := json.Unmarshal(raw, &items[i]); err != nil {
			return nil, badRequest("input", "%s[%d] is not a valid item: %s", what, i, jsonMessage(err))
		}
		it := &items[i]
		it.raw = raw
		if it.Type == "" {
			if it.Role != "" {
				it.Type = "message"
			} else if it.ID != "" {
				it.Type = "item_reference"
			}
		}
	}
	return items, nil
}

// readTools keeps the function and custom tools; built-in and namespaced tools are left out
// (Codex offers web_search and a namespace on every turn), unless tool_choice forces one.
func (r *Request) readTools() *providers.Error {
	for i, raw := range r.Tools {
		var t struct {
			tool
			Format json.RawMessage `json:"format"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return badRequest(fmt.Sprintf("tools[%d]", i), "tools[%d]: %s", i, jsonMessage(err))
		}
		switch t.Type {
		case "function":
			if t.Name == "" {
				return badRequest(fmt.Sprintf("tools[%d].name", i), "tools[%d] is a function without a name", i)
			}
			r.tools = append(r.tools, t.tool)
		case "custom":
			if t.Name == "" {
				return badRequest(fmt.Sprintf("tools[%d].name", i), "tools[%d] is a custom tool without a name", i)
			}
			r.tools = append(r.tools, tool{Type: "custom", Name: t.Name, Description: t.Description,
				Parameters: json.RawMessage(customInputSchema)})
		default:
			name := t.Type
			if t.Name != "" {
				name += " " + t.Name
			}
			r.Dropped = append(r.Dropped, name)
		}
	}
	return r.checkToolChoice()
}

// checkToolChoice refuses a tool_choice that forces a tool the backend is not offered.
func (r *Request) checkToolChoice() *providers.Error {
	tc := bytes.TrimSpace(r.ToolChoice)
	if len(tc) == 0 || tc[0] != '{' {
		return nil
	}
	var c struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Mode  string `json:"mode"`
		Tools []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(tc, &c); err != nil {
		return badRequest("tool_choice", "tool_choice: %s", jsonMessage(err))
	}
	switch c.Type {
	case "function", "custom":
		if !r.offers(c.Name) {
			return badRequest("tool_choice", "tool_choice forces the %s tool %q, which is not among the function and custom tools offered", c.Type, c.Name)
		}
	case "allowed_tools":
		for _, t := range c.Tools {
			if t.Type != "function" && t.Type != "custom" {
				return badRequest("tool_choice", "tool_choice allows the %s tool, which this gateway's backend cannot be offered", t.Type)
			}
		}
	default:
		return badRequest("tool_choice", "tool_choice forces the %s tool, which this gateway's backend cannot be offered (only function and custom tools can be)", c.Type)
	}
	return nil
}

func (r *Request) offers(name string) bool {
	for _, t := range r.tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// isCustom reports whether name is a custom tool: its calls carry free-form input.
func (r *Request) isCustom(name string) bool {
	for _, t := range r.tools {
		if t.Name == name {
			return t.Type == "custom"
		}
	}
	return false
}

// Stored reports whether the response is to be kept (store defaults to true).
func (r *Request) Stored() bool { return r.Store == nil || *r.Store }

// jsonMessage is a decoder error without Go type names.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "field " + te.Field + " has the wrong type (" + te.Value + ")"
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return msg
}

// InputTokens estimates the prompt's tokens for admission: one per four bytes of the input
// items (earlier turns included once resolved), the instructions and the tools offered.
func (r *Request) InputTokens() int {
	n := 0
	for _, it := range r.items {
		n += len(it.raw)
	}
	if r.items == nil {
		n = len(r.Input)
	}
	if r.Instructions != nil {
		n += len(*r.Instructions)
	}
	for _, t := range r.tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return (n + 3) / 4
}
