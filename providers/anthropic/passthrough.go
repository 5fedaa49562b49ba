package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/aigateway/ai-gateway/providers"
)

// Same-protocol path: the Anthropic front door forwards the caller's Messages body to an
// Anthropic backend. These helpers read what policy needs and change only what policy requires,
// keeping every other byte.

// imageTokens is the input-token estimate for one image or document block (Anthropic bills an
// image of about 1.15 megapixels at ~1,600 tokens; their base64 data says little about that).
const imageTokens = 1600

// RequestInfo is what the gateway needs to know about a Messages request before forwarding it.
type RequestInfo struct {
	Model  string
	Stream bool
	// MaxTokens is the caller's max_tokens; 0 when absent.
	MaxTokens int
	// InputTokens estimates the prompt size: the bytes of its text (system, messages' text,
	// thinking, tool inputs and results, tool definitions) divided by 4, plus imageTokens per
	// image or document block.
	InputTokens int
}

type peekBlock struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	Input    json.RawMessage `json:"input"`
	Content  json.RawMessage `json:"content"`
}

// PeekRequest reads the model, stream flag, max_tokens and an input-token estimate from a
// Messages body. It returns a KindBadRequest *providers.Error with the parser's message when the
// body is not a JSON object of the right shape.
func PeekRequest(body []byte) (RequestInfo, error) {
	var p struct {
		Model     string          `json:"model"`
		Stream    bool            `json:"stream"`
		MaxTokens json.Number     `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Messages  []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return RequestInfo{}, badRequest("%s: invalid type: %v", te.Field, err)
		}
		if errors.As(err, &te) {
			return RequestInfo{}, badRequest("request body must be a JSON object")
		}
		return RequestInfo{}, badRequest("invalid JSON body: %v", err)
	}
	info := RequestInfo{Model: p.Model, Stream: p.Stream}
	if p.MaxTokens != "" {
		n, ok := intValue([]byte(p.MaxTokens))
		if !ok {
			return RequestInfo{}, badRequest("max_tokens: Input should be a valid integer")
		}
		info.MaxTokens = n
	}
	var chars, images int
	count := func(raw json.RawMessage) {
		c, i := contentSize(raw, 0)
		chars += c
		images += i
	}
	count(p.System)
	for _, m := range p.Messages {
		count(m.Content)
	}
	chars += len(p.Tools)
	info.InputTokens = (chars+3)/4 + images*imageTokens
	return info, nil
}

// contentSize counts the text bytes and the image/document blocks of content (a string or a
// list of blocks); content it cannot read counts as its raw size.
func contentSize(raw json.RawMessage, depth int) (chars, images int) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return 0, 0
	}
	if t[0] == '"' {
		return len(t) - 2, 0
	}
	if t[0] != '[' || depth > 2 {
		return len(t), 0
	}
	var blocks []peekBlock
	if json.Unmarshal(t, &blocks) != nil {
		return len(t), 0
	}
	for _, b := range blocks {
		switch b.Type {
		case "image", "document":
			images++
		default:
			chars += len(b.Text) + len(b.Thinking) + len(b.Input)
			c, i := contentSize(b.Content, depth+1)
			chars += c
			images += i
		}
	}
	return chars, images
}

// Rewrite says what policy changes in a forwarded Messages body.
type Rewrite struct {
	// Model replaces "model" when not empty.
	Model string
	// System is injected as the first system text when not empty: a missing system becomes
	// this string, a string system becomes [this, the caller's] as text blocks, and a block list
	// gets this text block in front (the caller's blocks, cache_control included, stay as sent).
	System string
	// MaxTokens caps max_tokens when > 0: a larger value is lowered to it, a missing one set to it.
	MaxTokens int
}

// member is one top-level key of a JSON object, as byte offsets into the body.
type member struct {
	key              string
	valStart, valEnd int
}

// edit replaces body[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// RewriteRequest applies rw to a Messages body and returns the new body (body itself when
// nothing changes). Only the values of
// model, system and max_tokens change (or are added right after the opening brace); every other
// byte of the body is kept as sent. Errors are KindBadRequest *providers.Error: a body that is not
// a JSON object (with the parser's message), or a system / max_tokens of the wrong type.
func RewriteRequest(body []byte, rw Rewrite) ([]byte, error) {
	if !json.Valid(body) {
		var v json.RawMessage
		err := json.Unmarshal(body, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, badRequest("invalid JSON body: %v", err)
	}
	open, members, ok := topLevel(body)
	if !ok {
		return nil, badRequest("request body must be a JSON object")
	}
	var edits []edit
	var inserts []byte
	insert := func(key string, value []byte) {
		if len(inserts) > 0 {
			inserts = append(inserts, ',')
		}
		inserts = appendString(inserts, key)
		inserts = append(inserts, ':')
		inserts = append(inserts, value...)
	}

	if rw.Model != "" {
		v := appendString(nil, rw.Model)
		found, _ := replaceAll(&edits, body, members, "model", func([]byte) ([]byte, error) { return v, nil })
		if !found {
			insert("model", v)
		}
	}
	if rw.MaxTokens > 0 {
		capped := appendInt(nil, rw.MaxTokens)
		found, err := replaceAll(&edits, body, members, "max_tokens", func(old []byte) ([]byte, error) {
			if string(old) == "null" {
				return capped, nil
			}
			f, err := strconv.ParseFloat(string(old), 64)
			if err != nil || math.IsNaN(f) {
				return nil, badRequest("max_tokens: Input should be a valid integer")
			}
			if f > float64(rw.MaxTokens) {
				return capped, nil
			}
			return nil, nil
		})
		if err != nil {
			return nil, err
		}
		if !found {
			insert("max_tokens", capped)
		}
	}
	if rw.System != "" {
		found, err := replaceAll(&edits, body, members, "system", func(old []byte) ([]byte, error) {
			return injectSystem(old, rw.System)
		})
		if err != nil {
			return nil, err
		}
		if !found {
			insert("system", appendString(nil, rw.System))
		}
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })

	if len(edits) == 0 && len(inserts) == 0 {
		return body, nil
	}
	out := make([]byte, 0, len(body)+len(inserts)+len(rw.System)+64)
	pos := open + 1
	out = append(out, body[:pos]...)
	if len(inserts) > 0 {
		out = append(out, inserts...)
		if len(members) > 0 {
			out = append(out, ',')
		}
	}
	for _, e := range edits {
		out = append(out, body[pos:e.start]...)
		out = append(out, e.repl...)
		pos = e.end
	}
	return append(out, body[pos:]...), nil
}

// replaceAll adds an edit for every member named key (a duplicated key is rewritten in every
// place); f returns the new value, or nil to keep the old one. It reports whether key was found.
func replaceAll(edits *[]edit, body []byte, members []member, key string, f func(old []byte) ([]byte, error)) (bool, error) {
	found := false
	for _, m := range members {
		if m.key != key {
			continue
		}
		found = true
		v, err := f(body[m.valStart:m.valEnd])
		if err != nil {
			return true, err
		}
		if v != nil {
			*edits = append(*edits, edit{start: m.valStart, end: m.valEnd, repl: v})
		}
	}
	return found, nil
}

// injectSystem puts prompt in front of a system value.
func injectSystem(old []byte, prompt string) ([]byte, error) {
	switch old[0] {
	case 'n': // null
		return appendString(nil, prompt), nil
	case '"':
		if string(old) == `""` {
			return appendString(nil, prompt), nil
		}
		v := append([]byte(`[{"type":"text","text":`), appendString(nil, prompt)...)
		v = append(v, `},{"type":"text","text":`...)
		v = append(v, old...)
		return append(v, "}]"...), nil
	case '[':
		v := append([]byte(`[{"type":"text","text":`), appendString(nil, prompt)...)
		v = append(v, '}')
		rest := bytes.TrimLeft(old[1:], " \t\r\n")
		if len(rest) > 0 && rest[0] != ']' {
			v = append(v, ',')
		}
		return append(v, old[1:]...), nil
	}
	return nil, badRequest("system: Input should be a valid string or list of text blocks")
}

// topLevel splits a valid JSON document's top-level object into members. It returns the offset
// of the opening brace, and ok=false when the document is not an object.
func topLevel(b []byte) (open int, members []member, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, nil, false
	}
	open = i
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, nil, false
		}
		switch b[i] {
		case '}':
			return open, members, true
		case ',':
			i = skipSpace(b, i+1)
		}
		if i >= len(b) || b[i] != '"' {
			return 0, nil, false
		}
		keyEnd := stringEnd(b, i)
		rawKey := b[i:keyEnd]
		key := string(rawKey[1 : len(rawKey)-1])
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			if json.Unmarshal(rawKey, &key) != nil {
				return 0, nil, false
			}
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, nil, false
		}
		start := skipSpace(b, i+1)
		end := valueEnd(b, start)
		if end <= start {
			return 0, nil, false
		}
		members = append(members, member{key: key, valStart: start, valEnd: end})
		i = end
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the offset just past the JSON value starting at b[i] (b is valid JSON).
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// usageEvent is the part of message_start / message_delta / error data the sniffer reads.
type usageEvent struct {
	Type    string `json:"type"`
	Message *struct {
		Usage wireUsage `json:"usage"`
	} `json:"message"`
	Delta struct {
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage *wireUsage `json:"usage"`
	Error *wireError `json:"error"`
}

// UsageFromEvent returns the usage one relayed Anthropic SSE event carries: message_start's
// input and cache counts (and its initial output count), or message_delta's cumulative output
// count (plus input and cache counts when the upstream includes them). Counts the event does not
// carry are 0; UsageSniffer merges a whole stream. ok is false for every other event, which costs
// a string comparison (or, without an event name, a bytes.Contains).
func UsageFromEvent(name string, data []byte) (u providers.Usage, ok bool) {
	var s UsageSniffer
	if !s.observe(name, data) {
		return providers.Usage{}, false
	}
	return s.Usage(), true
}

// UsageSniffer collects usage, the stop reason and an in-band error from the events of a relayed
// Anthropic stream. The zero value is ready; feed it every event with Observe. Only
// message_start, message_delta and error events are parsed.
type UsageSniffer struct {
	counts usageCounts
	seen   bool
	stop   string
	err    *providers.Error
}

// Observe looks at one SSE event (name may be empty when the stream has no event lines).
func (s *UsageSniffer) Observe(name string, data []byte) { s.observe(name, data) }

func (s *UsageSniffer) observe(name string, data []byte) bool {
	switch name {
	case "message_start", "message_delta", "error":
	case "":
		if !bytes.Contains(data, []byte(`"message_start"`)) && !bytes.Contains(data, []byte(`"message_delta"`)) &&
			!bytes.Contains(data, []byte(`"error"`)) {
			return false
		}
	default:
		return false
	}
	var ev usageEvent
	if json.Unmarshal(data, &ev) != nil {
		return false
	}
	if name == "error" || ev.Type == "error" {
		if ev.Error != nil {
			s.err = streamError(ev.Error)
		}
		return false
	}
	switch ev.Type {
	case "message_start":
		if ev.Message == nil {
			return false
		}
		s.counts.set(&ev.Message.Usage)
	case "message_delta":
		if ev.Delta.StopReason != "" {
			s.stop = ev.Delta.StopReason
		}
		if u := ev.Usage; u != nil {
			s.counts.merge(u)
		}
	default:
		return false
	}
	s.seen = true
	return true
}

// Usage is the usage so far, in canonical terms (input includes cache writes and reads).
func (s *UsageSniffer) Usage() providers.Usage {
	return s.counts.canonical()
}

// Seen reports whether any usage event was observed (false: the upstream reported nothing and
// the caller should estimate).
func (s *UsageSniffer) Seen() bool { return s.seen }

// StopReason is the Anthropic stop_reason of the last message_delta ("" before it).
func (s *UsageSniffer) StopReason() string { return s.stop }

// FinishReason is StopReason as a canonical finish reason ("" before message_delta).
func (s *UsageSniffer) FinishReason() string {
	if s.stop == "" {
		return ""
	}
	return finishReason(s.stop)
}

// Err is the in-band error event the stream carried, if any.
func (s *UsageSniffer) Err() *providers.Error { return s.err }

// UsageFromBody reads usage and the canonical finish reason from a non-stream Messages answer.
// ok is false when the body carries no usage (an error body, or not a Message).
func UsageFromBody(body []byte) (u providers.Usage, finish string, ok bool) {
	if !bytes.Contains(body, []byte(`"usage"`)) {
		return providers.Usage{}, "", false
	}
	var m struct {
		StopReason string     `json:"stop_reason"`
		Usage      *wireUsage `json:"usage"`
	}
	if json.Unmarshal(body, &m) != nil || m.Usage == nil {
		return providers.Usage{}, "", false
	}
	finish = ""
	if m.StopReason != "" {
		finish = finishReason(m.StopReason)
	}
	return usageOf(*m.Usage), finish, true
}
