package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

type wireDelta struct {
	Content          json.RawMessage `json:"content"`
	ReasoningContent string          `json:"reasoning_content"`
	Reasoning        string          `json:"reasoning"`
	Refusal          string          `json:"refusal"`
	ToolCalls        []wireToolCall  `json:"tool_calls"`
}

type wireChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int       `json:"index"`
		Delta        wireDelta `json:"delta"`
		FinishReason *string   `json:"finish_reason"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// chunkStream turns an upstream chat.completion.chunk event stream into canonical events.
type chunkStream struct {
	body io.ReadCloser
	sse  *providers.SSEReader
	c    *Client   // for error scrubbing and the provider id; may be nil
	x    *exchange // id mapping back; may be nil

	queue    []providers.StreamEvent
	qi       int
	err      error
	started  bool
	done     bool // [DONE] seen
	finished bool // a finish_reason seen
	choices  []decChoice
}

type decChoice struct {
	index    int // the choice's index
	calls    []decCall
	sawTools bool
}

type decCall struct {
	upstream int    // the upstream's index
	id       string // the upstream's id
}

// DecodeStream reads an OpenAI Chat Completions event stream (the body of a streamed answer) as
// canonical events: EventStart first, then text, reasoning, tool calls (one ToolIndex per call,
// in order of appearance, following the upstream's indices), finishes and usage. SSE comments,
// CRLF framing and a missing [DONE] are accepted. An error event returns a *providers.Error of
// KindUpstream with the upstream's message; malformed data, or a body that ends before any finish
// and without [DONE], returns a *providers.Error too. Close closes body.
func DecodeStream(body io.ReadCloser) providers.Stream {
	return newChunkStream(body, nil, nil)
}

func newChunkStream(body io.ReadCloser, c *Client, x *exchange) *chunkStream {
	return &chunkStream{body: body, sse: providers.NewSSEReader(body), c: c, x: x}
}

func (s *chunkStream) provider() string {
	if s.c == nil {
		return ""
	}
	return s.c.preset.id
}

func (s *chunkStream) fail(e *providers.Error) error {
	if e.Provider == "" {
		e.Provider = s.provider()
	}
	s.err = e
	return e
}

// Next returns the next event, io.EOF at the end, or a *providers.Error.
func (s *chunkStream) Next() (providers.StreamEvent, error) {
	for {
		if s.qi < len(s.queue) {
			ev := s.queue[s.qi]
			s.qi++
			return ev, nil
		}
		s.queue, s.qi = s.queue[:0], 0
		if s.err != nil {
			return providers.StreamEvent{}, s.err
		}
		if err := s.read(); err != nil {
			return providers.StreamEvent{}, err
		}
	}
}

// read consumes one upstream event and queues what it carries.
func (s *chunkStream) read() error {
	if s.done {
		s.err = io.EOF
		return io.EOF
	}
	ev, err := s.sse.Next()
	if errors.Is(err, io.EOF) {
		events := 0
		if s.started {
			events = 1
		}
		if err := providers.EndOfStream(s.provider(), events, s.finished); err != nil {
			return s.fail(providers.AsError(err))
		}
		s.err = io.EOF
		return io.EOF
	}
	if err != nil {
		return s.fail(providers.AsError(err))
	}
	data := bytes.TrimSpace(ev.Data)
	if bytes.Equal(data, []byte("[DONE]")) {
		s.done = true
		if !s.started {
			return s.fail(providers.AsError(providers.EndOfStream(s.provider(), 0, true)))
		}
		return nil
	}
	if len(data) == 0 {
		return nil
	}
	if s.x != nil {
		data = s.x.mapIDsBack(data)
	}
	var ch wireChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		return s.fail(&providers.Error{Kind: providers.KindUpstream,
			Message: "upstream sent malformed stream data: " + jsonMessage(err)})
	}
	if ev.Name == "error" || !jsonscan.IsNull(ch.Error) || (ch.Object == "error" && len(ch.Choices) == 0) {
		return s.fail(s.errorEvent(data))
	}
	s.handle(&ch)
	return nil
}

func (s *chunkStream) errorEvent(data []byte) *providers.Error {
	if s.c != nil {
		return s.c.streamError(data)
	}
	return (&Client{}).streamError(data)
}

func (s *chunkStream) push(ev providers.StreamEvent) { s.queue = append(s.queue, ev) }

func (s *chunkStream) handle(ch *wireChunk) {
	usage, hasUsage := parseUsage(ch.Usage)
	if !s.started {
		if ch.ID == "" && len(ch.Choices) == 0 && !hasUsage {
			return // e.g. Azure's leading prompt_filter_results chunk
		}
		s.started = true
		s.push(providers.StreamEvent{Kind: providers.EventStart, ID: ch.ID, Model: ch.Model})
	}
	for _, c := range ch.Choices {
		ci := max(c.Index, 0)
		cs := s.choice(ci)
		d := &c.Delta
		if r := d.ReasoningContent; r != "" {
			s.push(providers.StreamEvent{Kind: providers.EventReasoning, Choice: ci, Text: r})
		} else if d.Reasoning != "" {
			s.push(providers.StreamEvent{Kind: providers.EventReasoning, Choice: ci, Text: d.Reasoning})
		}
		for _, p := range responseText(d.Content) {
			s.push(providers.StreamEvent{Kind: providers.EventText, Choice: ci, Text: p.Text})
		}
		if d.Refusal != "" {
			s.push(providers.StreamEvent{Kind: providers.EventText, Choice: ci, Text: d.Refusal})
		}
		for _, tc := range d.ToolCalls {
			s.toolCall(ci, cs, tc)
		}
		if c.FinishReason != nil && *c.FinishReason != "" {
			f := normalizeFinish(*c.FinishReason)
			if cs.sawTools && f == providers.FinishStop {
				f = providers.FinishToolCalls
			}
			s.finished = true
			s.push(providers.StreamEvent{Kind: providers.EventFinish, Choice: ci, FinishReason: f})
		}
	}
	if hasUsage {
		s.push(providers.StreamEvent{Kind: providers.EventUsage, Usage: &usage})
	}
}

// choice returns the state of choice index i. Choices are few; a list avoids trusting the
// upstream's index to size anything.
func (s *chunkStream) choice(i int) *decChoice {
	for k := range s.choices {
		if s.choices[k].index == i {
			return &s.choices[k]
		}
	}
	s.choices = append(s.choices, decChoice{index: i})
	return &s.choices[len(s.choices)-1]
}

// toolCall maps one tool_calls delta onto a canonical call. A fragment belongs to the call the
// upstream gave the same index, unless it brings a different id (some servers send every call
// with index 0); a fragment without index belongs to a new call when it has an id, else to the
// last call.
func (s *chunkStream) toolCall(ci int, cs *decChoice, tc wireToolCall) {
	cs.sawTools = true
	found := -1
	if tc.Index != nil {
		for i := len(cs.calls) - 1; i >= 0; i-- {
			if cs.calls[i].upstream == *tc.Index {
				found = i
				break
			}
		}
	} else if tc.ID == "" && len(cs.calls) > 0 {
		found = len(cs.calls) - 1
	}
	if found >= 0 && (tc.ID == "" || tc.ID == cs.calls[found].id || cs.calls[found].id == "") {
		if cs.calls[found].id == "" {
			cs.calls[found].id = tc.ID
		}
		if tc.Function.Arguments != "" {
			s.push(providers.StreamEvent{Kind: providers.EventToolArgs, Choice: ci, ToolIndex: found,
				Args: string(tc.Function.Arguments)})
		}
		return
	}
	up := len(cs.calls)
	if tc.Index != nil {
		up = *tc.Index
	}
	cs.calls = append(cs.calls, decCall{upstream: up, id: tc.ID})
	s.push(providers.StreamEvent{Kind: providers.EventToolCall, Choice: ci, ToolIndex: len(cs.calls) - 1,
		ToolID: tc.ID, ToolName: tc.Function.Name, Args: string(tc.Function.Arguments)})
}

// Close releases the upstream connection, for reuse after [DONE]; it is safe to call more than
// once.
func (s *chunkStream) Close() error {
	if s.body == nil {
		return nil
	}
	err := providers.CloseStream(s.body, s.done)
	s.body = nil
	return err
}
