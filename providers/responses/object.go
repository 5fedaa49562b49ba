package responses

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// Object is a Response object (the answer, and the state a continuation reads back).
type Object struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	CompletedAt        *int64            `json:"completed_at,omitempty"`
	Background         bool              `json:"background"`
	Error              *objectError      `json:"error"`
	IncompleteDetails  *incomplete       `json:"incomplete_details"`
	Instructions       *string           `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []json.RawMessage `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Reasoning          reasoningConfig   `json:"reasoning"`
	Store              bool              `json:"store"`
	Temperature        float64           `json:"temperature"`
	Text               textConfig        `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              []json.RawMessage `json:"tools"`
	TopP               float64           `json:"top_p"`
	Truncation         string            `json:"truncation"`
	Usage              *Usage            `json:"usage"`
	User               *string           `json:"user"`
	Metadata           map[string]string `json:"metadata"`
}

type objectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type incomplete struct {
	Reason string `json:"reason"`
}

// Usage is a Response's usage, all five fields always present.
type Usage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens     int `json:"cached_tokens"`
		CacheWriteTokens int `json:"cache_write_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

func usageOf(u providers.Usage) *Usage {
	var out Usage
	out.InputTokens, out.OutputTokens = u.InputTokens, u.OutputTokens
	out.InputTokensDetails.CachedTokens = u.CachedTokens
	out.InputTokensDetails.CacheWriteTokens = u.CacheCreationTokens
	out.OutputTokensDetails.ReasoningTokens = u.ReasoningTokens
	out.TotalTokens = u.InputTokens + u.OutputTokens
	return &out
}

// object is the Response object of this door's request in the given status, echoing the
// effective request settings.
func (d *Door) object(status, model string) *Object {
	r := d.req
	o := &Object{ID: d.id, Object: "response", CreatedAt: d.created, Status: status, Model: model,
		Instructions: r.Instructions, MaxOutputTokens: r.MaxOutputTokens, Output: []json.RawMessage{},
		ParallelToolCalls: r.ParallelToolCalls == nil || *r.ParallelToolCalls, Store: r.Stored(),
		Temperature: 1, TopP: 1, Truncation: "disabled", Text: textConfig{Format: &textFormat{Type: "text"}},
		ToolChoice: json.RawMessage(`"auto"`), Tools: r.Tools, Metadata: r.Metadata}
	if r.PreviousResponseID != "" {
		o.PreviousResponseID = &r.PreviousResponseID
	}
	if r.Reasoning != nil {
		o.Reasoning = *r.Reasoning
	}
	if r.Temperature != nil {
		o.Temperature = *r.Temperature
	}
	if r.TopP != nil {
		o.TopP = *r.TopP
	}
	if r.Text != nil {
		o.Text.Verbosity = r.Text.Verbosity
		if r.Text.Format != nil {
			o.Text.Format = r.Text.Format
		}
	}
	if tc := bytes.TrimSpace(r.ToolChoice); len(tc) > 0 && string(tc) != "null" {
		o.ToolChoice = tc
	}
	if o.Tools == nil {
		o.Tools = []json.RawMessage{}
	}
	if o.Metadata == nil {
		o.Metadata = map[string]string{}
	}
	if r.User != "" {
		o.User = &r.User
	}
	return o
}

// finish sets the terminal status of o from the canonical finish reason.
func (o *Object) finish(reason string, now int64) {
	switch reason {
	case providers.FinishLength:
		o.Status, o.IncompleteDetails = "incomplete", &incomplete{Reason: "max_output_tokens"}
	case providers.FinishContentFilter:
		o.Status, o.IncompleteDetails = "incomplete", &incomplete{Reason: "content_filter"}
	default:
		o.Status, o.CompletedAt = "completed", &now
	}
}

// output is one output item under construction.
type output struct {
	kind   string // message, function_call, custom_tool_call, reasoning
	id     string
	text   strings.Builder // message text, reasoning text, call arguments
	callID string
	name   string
	sig    string
	done   bool
}

type outputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
}

type summaryText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type messageItem struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Status  string       `json:"status"`
	Role    string       `json:"role"`
	Content []outputText `json:"content"`
}

type callItem struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Arguments string `json:"arguments"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
}

type customItem struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	CallID string `json:"call_id"`
	Name   string `json:"name"`
	Input  string `json:"input"`
}

type reasoningItem struct {
	ID               string        `json:"id"`
	Type             string        `json:"type"`
	Summary          []summaryText `json:"summary"`
	EncryptedContent string        `json:"encrypted_content,omitempty"`
}

// item is the output item as the wire shows it: in progress (added) or done.
func (o *output) item(done bool) any {
	status := "in_progress"
	if done {
		status = "completed"
	}
	switch o.kind {
	case "message":
		it := messageItem{ID: o.id, Type: "message", Status: status, Role: "assistant", Content: []outputText{}}
		if done {
			it.Content = append(it.Content, textPart(o.text.String()))
		}
		return it
	case "function_call":
		it := callItem{ID: o.id, Type: "function_call", Status: status, CallID: o.callID, Name: o.name}
		if done {
			it.Arguments = arguments(o.text.String())
		}
		return it
	case "custom_tool_call":
		it := customItem{ID: o.id, Type: "custom_tool_call", Status: status, CallID: o.callID, Name: o.name}
		if done {
			it.Input = customInput(o.text.String())
		}
		return it
	default:
		it := reasoningItem{ID: o.id, Type: "reasoning", Summary: []summaryText{}}
		if done {
			if t := o.text.String(); t != "" {
				it.Summary = append(it.Summary, summaryText{Type: "summary_text", Text: t})
			}
			if o.sig != "" {
				it.EncryptedContent = signaturePrefix + o.sig
			}
		}
		return it
	}
}

func textPart(s string) outputText {
	return outputText{Type: "output_text", Text: s, Annotations: []any{}, Logprobs: []any{}}
}

// arguments is a call's arguments as a client reads them: never empty.
func arguments(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// customInput is a custom tool's free-form input from the arguments object the backend was
// asked for ({"input": "…"}); arguments of another shape are passed on as they are.
func customInput(args string) string {
	var a struct {
		Input *string `json:"input"`
	}
	if json.Unmarshal([]byte(args), &a) == nil && a.Input != nil {
		return *a.Input
	}
	return args
}

// marshal is json.Marshal without HTML escaping: the text goes back as the model wrote it.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}
