package routes

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
	"github.com/aigateway/ai-gateway/providers"
)

// doorMCP names /mcp in the request log and traces.
const doorMCP = "mcp"

// mcpEndpoint is /mcp (SPEC §18): the gateway as a Streamable HTTP MCP server for the client
// whose key the request carries. It lists the tools of the client's allowed MCP servers
// (server__tool) and proxies calls to them; each call is admitted like a request (rate limits,
// the daily request quota), logged and counted (gateway.OpTool).
//
// The server is stateless and answers with JSON, not a stream: each POST stands alone, so a
// server is built for the request and its client, and no session outlives it.
func (s *server) mcpEndpoint(c *fiber.Ctx) error {
	cl, _ := clientOf(c)
	ctx, cancel := s.upstreamContext(c)
	defer cancel(nil)
	srv := mcp.NewServer(&mcp.Implementation{Name: "ai-gateway", Version: "1"}, nil)
	for _, t := range s.Gateway.Tools(ctx, cl) {
		srv.AddTool(&mcp.Tool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema},
			s.mcpToolHandler(c, ctx, cl, t.Name))
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true,
			// The client key authenticates every request; the gateway is often behind a proxy
			// on the same host, whose Host header is not localhost.
			DisableLocalhostProtection: true})
	return adaptor.HTTPHandler(h)(c)
}

// mcpToolHandler proxies a call of tool name through the gateway's call point.
func (s *server) mcpToolHandler(c *fiber.Ctx, ctx context.Context, cl *gateway.Client, name string) mcp.ToolHandler {
	return func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_, received := clientOf(c)
		adm := s.admission(c, doorMCP, "/mcp", received)
		adm.Op = gateway.OpTool
		var args json.RawMessage
		if req.Params != nil {
			args = req.Params.Arguments
		}
		a, err := s.Gateway.Do(ctx, &gateway.Exchange{Client: cl, Admission: adm, Tool: name, ToolArgs: args})
		if err != nil {
			return toolError(providers.AsError(err).Message), nil
		}
		res := a.Tool
		if res.Status == mcpservers.StatusRefused {
			return toolError(res.Text), nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.Text}}, IsError: res.IsError}, nil
	}
}

func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: msg}}, IsError: true}
}
