package gateway

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/providers"
)

// ToolRunner lists and calls the tools of MCP servers (mcpservers.Registry).
type ToolRunner interface {
	// Tools lists the tools of the servers in allowed, named server__tool.
	Tools(ctx context.Context, allowed []string) []mcpservers.Tool
	// Call calls one of them; every failure is a Result with IsError set.
	Call(ctx context.Context, allowed []string, name string, args json.RawMessage) mcpservers.Result
}

// DefaultMaxToolSteps is mcp.max_steps when Options.MaxToolSteps is 0.
const DefaultMaxToolSteps = 8

// runsTools reports whether the gateway runs c's tool calls itself (tool mode gateway).
func (g *Gateway) runsTools(c *Client) bool {
	return c.ToolMode == db.ToolModeGateway && g.opts.Tools != nil
}

// generateWithTools serves OpGenerate for a client in tool mode gateway (SPEC §18): the
// allowed MCP tools are added to the canonical request, and while the model calls only them
// the gateway calls them and asks again with their results, at most mcp.max_steps rounds
// (the last question tells the model to call no tool). The answer that calls none of them, or
// also calls the client's own tools, goes to the caller: calls to the gateway's tools are
// taken out of it (they were not run; the model asks again after the client's results).
// Usage is the sum over every model call; each tool call is a step in the request log.
//
// The first model call is made before Do returns, so its failure is an ordinary error. For a
// streaming caller every model call is an upstream stream, relayed to the caller event by event
// as one continuous stream (toolloop_stream.go): the gateway's tool calls are held back and run
// when the model's turn ends (the relay keeps the connection alive meanwhile), then the next
// call streams on; a later failure is the stream's in-band error.
//
// Every request of such a client goes through translation, whatever its backend: the loop
// works on the canonical model, so it is the same for every front door and backend.
func (g *Gateway) generateWithTools(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	req, err := x.Decode()
	if err != nil {
		return err
	}
	l := &toolLoop{g: g, call: call, req: req, allowed: call.client.MCPServers, gatewayTool: map[string]bool{},
		maxSteps: g.opts.MaxToolSteps}
	if l.maxSteps <= 0 {
		l.maxSteps = DefaultMaxToolSteps
	}
	own := map[string]bool{}
	for _, t := range req.Tools {
		own[t.Name] = true
	}
	for _, t := range g.opts.Tools.Tools(ctx, l.allowed) {
		if own[t.Name] {
			continue // the client's own tool of the same name wins
		}
		l.gatewayTool[t.Name] = true
		req.Tools = append(req.Tools, providers.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	if req.Stream {
		l.lastStep()
		up, err := g.streamOnce(ctx, call, req)
		if err != nil {
			return err
		}
		a.Stream = newStream(call, x, nil, &loopStream{ctx: ctx, loop: l, up: up})
		return nil
	}
	resp, err := l.turn(ctx)
	if err != nil {
		return err
	}
	for resp == nil {
		if resp, err = l.turn(ctx); err != nil {
			return err
		}
	}
	call.FirstByte()
	resp.Usage = l.total
	o := Outcome{Status: 200, Usage: l.total, ModelUsed: resp.Model, RequestBody: x.Body}
	if len(resp.Choices) > 0 {
		o.FinishReason = resp.Choices[0].FinishReason
	}
	a.Body, a.Usage = x.Door.EncodeResponse(resp), l.total
	o.ResponseBody = a.Body
	a.outcome = o
	return nil
}

// toolLoop is the state of one request's tool loop.
type toolLoop struct {
	g           *Gateway
	call        *Call
	req         *providers.Request
	allowed     []string
	gatewayTool map[string]bool
	maxSteps    int
	step        int
	// total is the usage of every model call so far.
	total providers.Usage
}

// turn asks the model once. When the answer is final it returns it (with the gateway's calls
// taken out); else it runs the gateway's calls, adds the model's turn and their results to the
// request, and returns nil for the next turn.
func (l *toolLoop) turn(ctx context.Context) (*providers.Response, error) {
	last := l.lastStep()
	resp, err := l.g.askOnce(ctx, l.call, l.req)
	if err != nil {
		return nil, err
	}
	u := resp.Usage
	if u == (providers.Usage{}) {
		u = l.call.estimatedUsage(responseTextLen(resp))
	}
	l.total.Add(u)
	if len(resp.Choices) == 0 {
		return resp, nil
	}
	msg := resp.Choices[0].Message
	mine, theirs := l.split(msg.ToolCalls)
	if len(mine) == 0 || len(theirs) > 0 || last {
		if len(mine) > 0 {
			finalWithout(resp, theirs)
		}
		return resp, nil
	}
	return nil, l.runTools(ctx, msg, mine)
}

// lastStep reports whether the next model call is the last the step cap allows; if so, it is
// told to call no tool.
func (l *toolLoop) lastStep() bool {
	last := l.step >= l.maxSteps
	if last && len(l.gatewayTool) > 0 {
		l.req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceNone}
	}
	return last
}

// split parts a turn's tool calls into the gateway's (mine) and the client's own (theirs).
func (l *toolLoop) split(calls []providers.ToolCall) (mine, theirs []providers.ToolCall) {
	for _, tc := range calls {
		if l.gatewayTool[tc.Name] {
			mine = append(mine, tc)
		} else {
			theirs = append(theirs, tc)
		}
	}
	return mine, theirs
}

// runTools ends a model call that called only the gateway's tools: it runs the calls in mine
// and adds the model's turn (msg) and their results to the request for the next call.
func (l *toolLoop) runTools(ctx context.Context, msg providers.Message, mine []providers.ToolCall) error {
	// This model call answered; the next one gets a span of its own.
	l.call.endAttempt(nil)
	// The model's turn as it was, then each call's result, in order.
	l.req.Messages = append(l.req.Messages, msg)
	for _, tc := range mine {
		end := l.call.traceTool(ctx, tc.Name)
		res := l.g.opts.Tools.Call(ctx, l.allowed, tc.Name, json.RawMessage(tc.Arguments))
		end(res)
		l.call.toolStep(tc, res, l.g.storeBodies.Load())
		l.req.Messages = append(l.req.Messages, providers.Message{Role: providers.RoleTool, ToolCallID: tc.ID,
			ToolName: tc.Name, Content: []providers.Part{providers.TextPart(res.Text)}, IsError: res.IsError})
	}
	if ctx.Err() != nil {
		return providers.AsError(context.Cause(ctx))
	}
	if tc := l.req.ToolChoice; tc != nil && (tc.Mode == providers.ToolChoiceRequired || tc.Mode == providers.ToolChoiceTool) {
		// A forced call was made; forcing again would loop to the step cap.
		l.req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceAuto}
	}
	l.step++
	return nil
}

// askOnce asks the model once, routed over the client's targets, without streaming.
func (g *Gateway) askOnce(ctx context.Context, call *Call, req *providers.Request) (*providers.Response, error) {
	var resp *providers.Response
	err := g.route(ctx, call, func(ctx context.Context, up upstream) error {
		r := *req
		r.Stream, r.IncludeUsage = false, false
		call.applyPolicy(&r, up.model)
		out, err := up.provider.Chat(ctx, &r)
		resp = out
		return err
	})
	return resp, err
}

// streamOnce asks the model once, routed over the client's targets, as an upstream stream. It
// returns once the stream's headers arrived, so a failure before that is retried elsewhere.
func (g *Gateway) streamOnce(ctx context.Context, call *Call, req *providers.Request) (providers.Stream, error) {
	var st providers.Stream
	err := g.route(ctx, call, func(ctx context.Context, up upstream) error {
		r := *req
		r.Stream, r.IncludeUsage = true, true
		call.applyPolicy(&r, up.model)
		out, err := up.provider.Stream(ctx, &r)
		st = out
		return err
	})
	return st, err
}

// finalWithout keeps only the calls in keep on the final answer's first choice; with none
// left, the answer is a plain stop.
func finalWithout(resp *providers.Response, keep []providers.ToolCall) {
	ch := &resp.Choices[0]
	ch.Message.ToolCalls = slices.Clone(keep)
	if len(keep) == 0 && ch.FinishReason == providers.FinishToolCalls {
		ch.FinishReason = providers.FinishStop
	}
}

// toolStep records one tool call for the request log and the metrics.
func (c *Call) toolStep(tc providers.ToolCall, res mcpservers.Result, bodies bool) {
	s := db.ToolStep{Tool: tc.Name, DurationMS: res.Duration.Milliseconds(), Status: res.Status, ResultBytes: len(res.Text)}
	if res.IsError {
		s.Error = firstLine(res.Text)
	}
	if bodies {
		s.Arguments, s.Result = tc.Arguments, res.Text
	}
	c.toolSteps = append(c.toolSteps, s)
	c.g.metrics.toolCalls.WithLabelValues(c.client.Name, res.Status).Inc()
}

// firstLine is s up to its first newline, at most 200 bytes.
func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			s = s[:i]
			break
		}
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
