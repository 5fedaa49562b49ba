package gateway

import (
	"context"

	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/providers"
)

// OpTool is one tool call on /mcp (SPEC §18): admitted like a request (rate limits, the daily
// request quota), reserving no tokens, and logged with the call as its one tool step.
const OpTool = "tool"

// Tools lists the MCP tools c may call (its allowlist), named server__tool; none when the
// gateway runs no tools.
func (g *Gateway) Tools(ctx context.Context, c *Client) []mcpservers.Tool {
	if g.opts.Tools == nil || len(c.MCPServers) == 0 {
		return nil
	}
	return g.opts.Tools.Tools(ctx, c.MCPServers)
}

// callTool serves OpTool: x.Tool called with x.ToolArgs. A tool's failure is its result (the
// caller gets it as a tool error); only a refusal of the tool itself fails the call.
func (g *Gateway) callTool(ctx context.Context, call *Call, x *Exchange, a *Answer) error {
	if g.opts.Tools == nil {
		return &Refusal{Kind: providers.KindNotFound, Message: "this gateway runs no MCP tools"}
	}
	end := call.traceTool(ctx, x.Tool)
	res := g.opts.Tools.Call(ctx, call.client.MCPServers, x.Tool, x.ToolArgs)
	end(res)
	call.toolStep(providers.ToolCall{Name: x.Tool, Arguments: string(x.ToolArgs)}, res, g.storeBodies.Load())
	call.FirstByte()
	a.Tool = &res
	if res.Status == mcpservers.StatusRefused {
		call.End(Outcome{Err: &Refusal{Kind: providers.KindPermission, Message: res.Text}})
		return nil
	}
	call.End(Outcome{Status: 200, FinishReason: res.Status, RequestBody: x.ToolArgs, ResponseBody: []byte(res.Text)})
	return nil
}
