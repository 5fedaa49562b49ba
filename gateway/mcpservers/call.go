package mcpservers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Statuses of a tool call.
const (
	StatusOK      = "ok"
	StatusError   = "error"   // the tool reported an error, or the call failed
	StatusTimeout = "timeout" // no answer within mcp.tool_timeout
	StatusRefused = "refused" // not a tool this key may call
)

// Result is how a tool call ended: Text is what goes back to the model (the error's text
// when IsError).
type Result struct {
	Text      string
	IsError   bool
	Status    string
	Duration  time.Duration
	Truncated bool
}

// Call calls tool name (server__tool) with args (a JSON object; empty means none) on a
// server in allowed, within the tool timeout. It never returns an error: every failure is a
// Result with IsError set, to be handed to the model as the tool's error.
func (r *Registry) Call(ctx context.Context, allowed []string, name string, args json.RawMessage) Result {
	began := r.opts.Now()
	res := r.call(ctx, allowed, name, args)
	res.Duration = r.opts.Now().Sub(began)
	res.Text, res.Truncated = capText(res.Text, r.opts.MaxResultBytes)
	return res
}

func (r *Registry) call(ctx context.Context, allowed []string, name string, args json.RawMessage) Result {
	srv, tool, ok := strings.Cut(name, Separator)
	s := r.lookup(srv)
	if !ok || tool == "" || s == nil || !slices.Contains(allowed, srv) {
		return Result{Text: fmt.Sprintf("the tool %q is not available to this key", name), IsError: true, Status: StatusRefused}
	}
	var params map[string]any
	if len(strings.TrimSpace(string(args))) > 0 {
		if err := json.Unmarshal(args, &params); err != nil {
			return Result{Text: "the arguments are not a JSON object: " + err.Error(), IsError: true, Status: StatusError}
		}
	}
	if params == nil {
		params = map[string]any{}
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.ToolTimeout)
	defer cancel()
	var out *mcp.CallToolResult
	for attempt := 0; ; attempt++ {
		cs, err := r.session(ctx, s)
		if err != nil {
			return failed(ctx, err, r.opts.ToolTimeout)
		}
		out, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: params})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return failed(ctx, err, r.opts.ToolTimeout)
		}
		// The session may be broken (a stdio server that exited, an HTTP server that forgot
		// it): the next call connects anew. When the server never got the call (its session is
		// gone, the connection was closed), this call is made once more on a new session.
		s.drop(cs)
		if attempt > 0 || !(errors.Is(err, mcp.ErrSessionMissing) || errors.Is(err, mcp.ErrConnectionClosed)) {
			return failed(ctx, err, r.opts.ToolTimeout)
		}
	}
	res := Result{Text: resultText(out), IsError: out.IsError, Status: StatusOK}
	if out.IsError {
		res.Status = StatusError
	}
	return res
}

// failed is the Result of a call that got no answer.
func failed(ctx context.Context, err error, timeout time.Duration) Result {
	err = describe(ctx, err, timeout)
	status := StatusError
	if errors.Is(err, context.DeadlineExceeded) {
		status = StatusTimeout
	}
	return Result{Text: err.Error(), IsError: true, Status: status}
}

// describe says what went wrong in a sentence for the model and the log, never with a header.
func describe(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the MCP server did not answer within %s: %w", timeout, context.DeadlineExceeded)
	}
	if errors.Is(err, ErrPrivateAddress) {
		return fmt.Errorf("the MCP server's address is refused: %w", ErrPrivateAddress)
	}
	return fmt.Errorf("the MCP server call failed: %v", err)
}
