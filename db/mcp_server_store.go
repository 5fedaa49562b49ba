package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// MCPServers stores the MCP server registry.
type MCPServers struct {
	db *bun.DB
}

// NewMCPServers returns the MCP server store over db.
func NewMCPServers(db *bun.DB) *MCPServers { return &MCPServers{db: db} }

// ErrNameTaken is returned when a row's unique name is already in use.
var ErrNameTaken = errors.New("name already in use")

// List returns every MCP server, by name.
func (s *MCPServers) List(ctx context.Context) ([]MCPServer, error) {
	var ms []MCPServer
	if err := s.db.NewSelect().Model(&ms).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list mcp servers: %w", err)
	}
	return ms, nil
}

// Get returns the MCP server with id, or ErrNotFound.
func (s *MCPServers) Get(ctx context.Context, id int64) (*MCPServer, error) {
	m := new(MCPServer)
	err := s.db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get mcp server %d: %w", id, err)
	}
	return m, nil
}

// Create inserts m and fills its id and timestamps; ErrNameTaken when the name is in use.
func (s *MCPServers) Create(ctx context.Context, m *MCPServer) error {
	now := time.Now().UTC()
	m.CreatedAt, m.UpdatedAt = now, now
	if _, err := s.db.NewInsert().Model(m).Exec(ctx); err != nil {
		return nameTaken(err, "create mcp server")
	}
	return nil
}

// Update writes m's name, URL and headers (by m.ID) and clears its cached tools, which belong
// to the old settings. ErrNotFound when it does not exist, ErrNameTaken when the name is in use.
func (s *MCPServers) Update(ctx context.Context, m *MCPServer) error {
	m.UpdatedAt = time.Now().UTC()
	m.Tools, m.ToolsFetchedAt = nil, time.Time{}
	res, err := s.db.NewUpdate().Model(m).
		Column("name", "url", "headers", "header_names", "tools", "tools_fetched_at", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return nameTaken(err, "update mcp server")
	}
	return oneRow(res)
}

// SetTools caches the tool list fetched from the server with id.
func (s *MCPServers) SetTools(ctx context.Context, id int64, tools []MCPTool, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*MCPServer)(nil)).
		Set("tools = ?", MCPTools(tools)).Set("tools_fetched_at = ?", at.UTC()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cache tools of mcp server %d: %w", id, err)
	}
	return oneRow(res)
}

// Delete removes the MCP server with id, or returns ErrNotFound. Client allowlists naming it
// keep the name; a server of that name added later is allowed to them again.
func (s *MCPServers) Delete(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*MCPServer)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete mcp server %d: %w", id, err)
	}
	return oneRow(res)
}

func nameTaken(err error, what string) error {
	if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "unique") {
		return ErrNameTaken
	}
	return fmt.Errorf("%s: %w", what, err)
}
