package gateway

import (
	"regexp"
	"time"
)

// MCPConfig is the tool loop and the MCP servers run from the config file (SPEC §18).
// Streamable HTTP servers are registered in the admin UI; stdio servers only here.
type MCPConfig struct {
	// MaxSteps bounds the rounds of gateway tool calls in one request; the model is asked at
	// most MaxSteps+1 times, the last time told to call no tool.
	MaxSteps int `yaml:"max_steps"`
	// ToolTimeout bounds one tool call.
	ToolTimeout time.Duration `yaml:"tool_timeout"`
	// MaxResultBytes caps the text of one tool result handed to the model; more is cut off.
	MaxResultBytes int `yaml:"max_result_bytes"`
	// AllowPrivate lets MCP server URLs reach loopback, private, link-local and metadata
	// addresses (refused by default).
	AllowPrivate bool `yaml:"allow_private"`
	// Stdio are MCP servers the gateway starts itself and talks to over stdin/stdout.
	Stdio []StdioServer `yaml:"stdio,omitempty"`
}

// StdioServer is one MCP server run as a child process.
type StdioServer struct {
	Name    string            `yaml:"name"`
	Command string            `yaml:"command"`
	Args    []string          `yaml:"args,omitempty"`
	Env     map[string]string `yaml:"env,omitempty"`
}

// MCPServerName is what an MCP server may be called: its tools reach the model as
// name__tool, so the name holds no double underscore and leaves room for the tool's.
var MCPServerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]|_[a-z0-9-]){0,30}$`)

func (c *MCPConfig) validate(bad func(format string, args ...any)) {
	if c.MaxSteps < 1 || c.MaxSteps > 100 {
		bad("mcp.max_steps: must be 1 to 100, got %d", c.MaxSteps)
	}
	if c.ToolTimeout <= 0 {
		bad("mcp.tool_timeout: must be more than 0, got %s", c.ToolTimeout)
	}
	if c.MaxResultBytes < 1 {
		bad("mcp.max_result_bytes: must be more than 0, got %d", c.MaxResultBytes)
	}
	seen := map[string]bool{}
	for i, s := range c.Stdio {
		if !MCPServerName.MatchString(s.Name) {
			bad("mcp.stdio[%d].name: %q must be lowercase letters, digits, - and single _, at most 32 characters", i, s.Name)
		}
		if seen[s.Name] {
			bad("mcp.stdio[%d].name: %q is used twice", i, s.Name)
		}
		seen[s.Name] = true
		if s.Command == "" {
			bad("mcp.stdio[%d].command: must not be empty", i)
		}
	}
}
