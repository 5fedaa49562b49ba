package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

var _ providers.NativeForwarder = (*Client)(nil)

// ServesNatively reports whether the backend serves the Responses API itself: OpenAI, xAI and
// Azure's v1 API do; openai-compatible, ollama and lmstudio do when the client says so
// (Config.ResponsesAPI "native"); the others are translated to Chat Completions.
func (c *Client) ServesNatively(protocol string) bool {
	if protocol != providers.ProtocolResponses {
		return false
	}
	switch c.preset.id {
	case "openai", "xai":
		return true
	case "azure":
		return c.azureV1
	case "openai-compatible", "ollama", "lmstudio":
		return c.cfg.ResponsesAPI == "native"
	}
	return false
}

// ForwardNative forwards a Responses API request (providers.NativeForwarder): a creation with
// the policy applied (model, the client's system prompt before the instructions, the output cap
// on max_output_tokens), an input_tokens count, a compaction, or a read or delete of a stored
// response.
func (c *Client) ForwardNative(ctx context.Context, protocol string, req providers.ForwardRequest) (providers.Forwarded, error) {
	if !c.ServesNatively(protocol) {
		return providers.Forwarded{}, &providers.Error{Kind: providers.KindBadRequest, Provider: c.preset.id,
			Message: "the " + c.preset.id + " backend does not serve the " + protocol + " API"}
	}
	switch req.Op {
	case providers.OpRead, providers.OpDelete:
		method := http.MethodGet
		if req.Op == providers.OpDelete {
			method = http.MethodDelete
		}
		return c.responsesCall(ctx, method, "responses/"+req.Path, nil, false)
	case providers.OpCountTokens:
		body, err := rewriteResponses(req.Body, req.Policy, false)
		if err != nil {
			return providers.Forwarded{}, err
		}
		return c.responsesCall(ctx, http.MethodPost, "responses/input_tokens", body, providers.Fresh(body, req.Body))
	case providers.OpCompact:
		body, err := rewriteResponses(req.Body, req.Policy, false)
		if err != nil {
			return providers.Forwarded{}, err
		}
		f, err := c.responsesCall(ctx, http.MethodPost, "responses/compact", body, providers.Fresh(body, req.Body))
		if err != nil {
			return providers.Forwarded{}, err
		}
		f.Summary = responsesSummary(f.Body)
		return f, nil
	}
	body, err := rewriteResponses(req.Body, req.Policy, true)
	if err != nil {
		return providers.Forwarded{}, err
	}
	if !req.Stream {
		f, err := c.responsesCall(ctx, http.MethodPost, "responses", body, providers.Fresh(body, req.Body))
		if err != nil {
			return providers.Forwarded{}, err
		}
		f.Summary = responsesSummary(f.Body)
		return f, nil
	}
	resp, err := c.do(ctx, "responses", body, true, providers.Fresh(body, req.Body))
	if err != nil {
		return providers.Forwarded{}, err
	}
	if !ok(resp.StatusCode) {
		return providers.Forwarded{}, c.statusError(resp)
	}
	return providers.Forwarded{Frames: &responsesFrames{c: c, body: resp.Body, sse: providers.NewSSEReader(resp.Body)}}, nil
}

// responsesCall sends one whole-body request and returns the upstream's JSON answer. owned says
// body is the request's to keep (providers.NewRequestOwned): the policy's rewrite of it.
func (c *Client) responsesCall(ctx context.Context, method, op string, body []byte, owned bool) (providers.Forwarded, error) {
	u, err := c.endpoint(op, "")
	if err != nil {
		return providers.Forwarded{}, err
	}
	req, err := providers.NewRequestOwned(ctx, method, u, body, owned)
	if err != nil {
		return providers.Forwarded{}, &providers.Error{Kind: providers.KindInternal, Provider: c.preset.id,
			Message: "cannot build the upstream request: " + err.Error()}
	}
	c.setHeaders(req.Header, body, false)
	resp, err := providers.Do(&c.cfg, req)
	if err != nil {
		return providers.Forwarded{}, err
	}
	if !ok(resp.StatusCode) {
		return providers.Forwarded{}, c.statusError(resp)
	}
	defer resp.Body.Close()
	data, err := c.readBody(resp)
	if err != nil {
		return providers.Forwarded{}, err
	}
	if e := providers.CheckJSON(c.preset.id, "answer", data); e != nil {
		return providers.Forwarded{}, e
	}
	return providers.Forwarded{Body: data}, nil
}

// rewriteResponses applies the policy to a Responses body, keeping every other field as it
// was, in its place: the model, the client's system prompt before the caller's instructions,
// and (create) max_output_tokens clamped to the cap.
func rewriteResponses(body []byte, p providers.Policy, create bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, badRequest("the request body must be a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, badRequest("the request body is not valid JSON: %s", jsonMessage(err))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, badRequest("the request body is not valid JSON: %s", jsonMessage(err))
		}
		keys, vals = append(keys, t.(string)), append(vals, v)
	}
	set := func(k string, v json.RawMessage) {
		for i := range keys {
			if keys[i] == k {
				vals[i] = v
				return
			}
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	get := func(k string) json.RawMessage {
		for i := range keys {
			if keys[i] == k {
				return vals[i]
			}
		}
		return nil
	}
	if p.Model != "" {
		m, _ := json.Marshal(p.Model)
		set("model", m)
	}
	if p.SystemPrompt != "" {
		instr := p.SystemPrompt
		var own string
		if json.Unmarshal(get("instructions"), &own) == nil && own != "" {
			instr += "\n\n" + own
		}
		v, _ := json.Marshal(instr)
		set("instructions", v)
	}
	if create && p.MaxTokens > 0 {
		var own int
		if err := json.Unmarshal(get("max_output_tokens"), &own); err != nil || own <= 0 || own > p.MaxTokens {
			v, _ := json.Marshal(p.MaxTokens)
			set("max_output_tokens", v)
		}
	}
	out := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		out = append(out, vals[i]...)
	}
	return append(out, '}'), nil
}

// responsesObject is what the gateway reads of a Response object: usage, status, model.
type responsesObject struct {
	Model             string `json:"model"`
	Status            string `json:"status"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Output []struct {
		Type string `json:"type"`
	} `json:"output"`
	Usage *struct {
		InputTokens        int `json:"input_tokens"`
		OutputTokens       int `json:"output_tokens"`
		InputTokensDetails struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"input_tokens_details"`
		OutputTokensDetails struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
	} `json:"usage"`
}

func (r *responsesObject) summary() providers.Summary {
	s := providers.Summary{Model: r.Model}
	if u := r.Usage; u != nil {
		s.HasUsage = true
		s.Usage = providers.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
			CachedTokens: u.InputTokensDetails.CachedTokens, ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}
	}
	switch {
	case r.Status == "incomplete" && r.IncompleteDetails != nil && r.IncompleteDetails.Reason == "content_filter":
		s.FinishReason = providers.FinishContentFilter
	case r.Status == "incomplete":
		s.FinishReason = providers.FinishLength
	case r.Status == "completed":
		s.FinishReason = providers.FinishStop
		for _, o := range r.Output {
			if o.Type == "function_call" || o.Type == "custom_tool_call" {
				s.FinishReason = providers.FinishToolCalls
			}
		}
	}
	return s
}

// responsesSummary reads a whole Response object's usage, finish and model.
func responsesSummary(body []byte) providers.Summary {
	var r responsesObject
	_ = json.Unmarshal(body, &r)
	return r.summary()
}

// responsesFrames relays a Responses event stream as it came, until its terminal event
// (response.completed, response.incomplete or response.failed): a stream that ends before one
// was cut off, and an upstream that keeps the connection open after it is not waited for.
type responsesFrames struct {
	c      *Client
	body   io.ReadCloser
	sse    *providers.SSEReader
	sum    providers.Summary
	events int
	done   bool
}

func (f *responsesFrames) Next() (providers.Frame, error) {
	if f.done {
		return providers.Frame{}, io.EOF
	}
	for {
		ev, err := f.sse.Next()
		if errors.Is(err, io.EOF) {
			if err := providers.EndOfStream(f.c.preset.id, f.events, false); err != nil {
				return providers.Frame{}, err
			}
			return providers.Frame{}, io.EOF
		}
		if err != nil {
			return providers.Frame{}, providers.AsError(err)
		}
		if len(ev.Data) == 0 || string(ev.Data) == "[DONE]" {
			continue
		}
		if e := providers.CheckJSON(f.c.preset.id, "stream event", ev.Data); e != nil {
			return providers.Frame{}, e
		}
		f.events++
		name := ev.Name
		if name == "" {
			var t struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(ev.Data, &t)
			name = t.Type
		}
		switch name {
		case "response.completed", "response.incomplete", "response.failed":
			var t struct {
				Response responsesObject `json:"response"`
			}
			_ = json.Unmarshal(ev.Data, &t)
			f.sum = t.Response.summary()
			f.done = true
		}
		return providers.Frame{Event: name, Data: ev.Data, Content: strings.HasSuffix(name, ".delta")}, nil
	}
}

func (f *responsesFrames) Summary() providers.Summary { return f.sum }
func (f *responsesFrames) Close() error               { return f.body.Close() }
