package gateway

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/mcpservers"
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
// Usage is the sum over every model call; each tool call is a step in the request log. A
// streaming caller gets the final answer as a stream once the loop is over.
//
// Every request of such a client goes through translation, whatever its backend: the loop
// works on the canonical model, so it is the same for every front door and backend.
func (g *Gateway) generateWithTools(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	req, err := x.Decode()
	if err != nil {
		return err
	}
	allowed := call.client.MCPServers
	gatewayTool := map[string]bool{}
	own := map[string]bool{}
	for _, t := range req.Tools {
		own[t.Name] = true
	}
	for _, t := range g.opts.Tools.Tools(ctx, allowed) {
		if own[t.Name] {
			continue // the client's own tool of the same name wins
		}
		gatewayTool[t.Name] = true
		req.Tools = append(req.Tools, providers.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	maxSteps := g.opts.MaxToolSteps
	if maxSteps <= 0 {
		maxSteps = DefaultMaxToolSteps
	}
	stream := req.Stream
	var total providers.Usage
	var resp *providers.Response
	for step := 0; ; step++ {
		last := step >= maxSteps
		if last && len(gatewayTool) > 0 {
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceNone}
		}
		resp, err = g.askOnce(ctx, call, req)
		if err != nil {
			return err
		}
		u := resp.Usage
		if u == (providers.Usage{}) {
			u = call.estimatedUsage(responseTextLen(resp))
		}
		total.Add(u)
		if len(resp.Choices) == 0 {
			break
		}
		msg := resp.Choices[0].Message
		var mine, theirs []providers.ToolCall
		for _, tc := range msg.ToolCalls {
			if gatewayTool[tc.Name] {
				mine = append(mine, tc)
			} else {
				theirs = append(theirs, tc)
			}
		}
		if len(mine) == 0 || len(theirs) > 0 || last {
			if len(mine) > 0 {
				finalWithout(resp, theirs)
			}
			break
		}
		// The model's turn as it was, then each call's result, in order.
		req.Messages = append(req.Messages, msg)
		for _, tc := range mine {
			res := g.opts.Tools.Call(ctx, allowed, tc.Name, json.RawMessage(tc.Arguments))
			call.toolStep(tc, res, g.storeBodies.Load())
			req.Messages = append(req.Messages, providers.Message{Role: providers.RoleTool, ToolCallID: tc.ID,
				ToolName: tc.Name, Content: []providers.Part{providers.TextPart(res.Text)}, IsError: res.IsError})
		}
		if ctx.Err() != nil {
			return providers.AsError(context.Cause(ctx))
		}
		if tc := req.ToolChoice; tc != nil && (tc.Mode == providers.ToolChoiceRequired || tc.Mode == providers.ToolChoiceTool) {
			// A forced call was made; forcing again would loop to the step cap.
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceAuto}
		}
	}
	call.FirstByte()
	resp.Usage = total
	if stream {
		a.Stream = newStream(call, x, nil, replay(resp))
		return nil
	}
	o := Outcome{Status: 200, Usage: total, ModelUsed: resp.Model, RequestBody: x.Body}
	if len(resp.Choices) > 0 {
		o.FinishReason = resp.Choices[0].FinishReason
	}
	a.Body, a.Usage = x.Door.EncodeResponse(resp), total
	o.ResponseBody = a.Body
	a.outcome = o
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

// finalWithout keeps only the calls in keep on the final answer's first choice; with none
// left, the answer is a plain stop.
func finalWithout(resp *providers.Response, keep []providers.ToolCall) {
	ch := &resp.Choices[0]
	ch.Message.ToolCalls = slices.Clone(keep)
	if len(keep) == 0 && ch.FinishReason == providers.FinishToolCalls {
		ch.FinishReason = providers.FinishStop
	}
}

// toolStep records one tool call of the loop for the request log.
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
