package db

import (
	"database/sql/driver"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// MCPServer is one Streamable HTTP MCP server registered by an administrator (SPEC §18). stdio
// servers come from config.yaml only and are never stored.
type MCPServer struct {
	bun.BaseModel `bun:"table:mcp_server"`

	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name,notnull,unique"`
	URL  string `bun:"url,notnull"`
	// Headers is the sealed JSON object of request headers (Keyring.Encrypt); nil when none.
	// HeaderNames lists their names, the only part ever shown back.
	Headers     []byte  `bun:"headers"`
	HeaderNames Strings `bun:"header_names,notnull"`
	// Tools is the server's tool list as last fetched, at ToolsFetchedAt.
	Tools          MCPTools  `bun:"tools,notnull"`
	ToolsFetchedAt time.Time `bun:"tools_fetched_at,nullzero"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	UpdatedAt      time.Time `bun:"updated_at,notnull"`
}

// MCPTool is one tool of an MCP server, as the server listed it.
type MCPTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// ToolStep is one MCP tool call the gateway made for a request: which tool, how long it took,
// how it ended (ok, error, timeout, refused) and how many bytes of result it gave back. Arguments
// and Result are kept only when logs.store_bodies is on.
type ToolStep struct {
	Tool        string `json:"tool"`
	DurationMS  int64  `json:"duration_ms"`
	Status      string `json:"status"`
	ResultBytes int    `json:"result_bytes"`
	Error       string `json:"error,omitempty"`
	Arguments   string `json:"arguments,omitempty"`
	Result      string `json:"result,omitempty"`
}

// MCPTools and ToolSteps are stored as JSON arrays, so the SQL stays portable.
type (
	MCPTools  []MCPTool
	ToolSteps []ToolStep
)

// Value implements driver.Valuer.
func (t MCPTools) Value() (driver.Value, error) { return jsonValue(t) }

// Scan implements sql.Scanner.
func (t *MCPTools) Scan(src any) error { return jsonScan(src, (*[]MCPTool)(t)) }

// Value implements driver.Valuer.
func (t ToolSteps) Value() (driver.Value, error) { return jsonValue(t) }

// Scan implements sql.Scanner.
func (t *ToolSteps) Scan(src any) error { return jsonScan(src, (*[]ToolStep)(t)) }
