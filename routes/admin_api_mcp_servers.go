package routes

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// mcpServerList answers GET /admin/api/v1/mcp-servers: the registered servers and the stdio
// ones of config.yaml (transport "stdio", id 0, no command shown: it may carry secrets).
func (s *server) mcpServerList(c *fiber.Ctx) error {
	rows, err := s.MCPServers.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]mcpServerJSON, 0, len(rows))
	for i := range rows {
		if !s.isStdioServer(rows[i].Name) {
			out = append(out, toMCPServerJSON(&rows[i]))
		}
	}
	if s.MCP != nil {
		for _, v := range s.MCP.Servers() {
			if v.URL == "" {
				out = append(out, mcpServerJSON{Name: v.Name, Transport: "stdio", HeaderNames: []string{},
					Tools: toMCPTools(v.Name, v.Tools), ToolsFetchedAt: timePtr(v.FetchedAt)})
			}
		}
	}
	return c.JSON(fiber.Map{"mcp_servers": out})
}

// mcpServerCreate answers POST /admin/api/v1/mcp-servers with 201 and the server.
func (s *server) mcpServerCreate(c *fiber.Ctx) error {
	var in mcpServerInput
	if err := decodeJSON(c, &in, false); err != nil {
		return err
	}
	m := &db.MCPServer{}
	if _, err := in.apply(c, m, s.Keyring, s.mcpConfig(), s.isStdioServer); err != nil {
		return err
	}
	if err := s.MCPServers.Create(c.UserContext(), m); errors.Is(err, db.ErrNameTaken) {
		return mcpNameTaken(m.Name)
	} else if err != nil {
		return err
	}
	if err := s.mcpChanged(c, "mcp_server.create", m.ID, "name="+m.Name+" url="+m.URL); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toMCPServerJSON(m))
}

// mcpServerGet answers GET /admin/api/v1/mcp-servers/{id}.
func (s *server) mcpServerGet(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	return c.JSON(toMCPServerJSON(m))
}

// mcpServerUpdate answers PATCH /admin/api/v1/mcp-servers/{id}: name, url and headers
// ("headers" replaces them all). The cached tool list is cleared with any change.
func (s *server) mcpServerUpdate(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	var in mcpServerInput
	if err := decodeJSON(c, &in, true); err != nil {
		return err
	}
	changed, err := in.apply(c, m, s.Keyring, s.mcpConfig(), s.isStdioServer)
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		if err := s.MCPServers.Update(c.UserContext(), m); errors.Is(err, db.ErrNameTaken) {
			return mcpNameTaken(m.Name)
		} else if errors.Is(err, db.ErrNotFound) {
			return noSuch("MCP server", m.ID)
		} else if err != nil {
			return err
		}
		if err := s.mcpChanged(c, "mcp_server.update", m.ID, "changed="+strings.Join(changed, ",")); err != nil {
			return err
		}
	}
	return c.JSON(toMCPServerJSON(m))
}

// mcpServerDelete answers DELETE /admin/api/v1/mcp-servers/{id} with 204. Allowlists that name
// it keep the name.
func (s *server) mcpServerDelete(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	if err := s.MCPServers.Delete(c.UserContext(), m.ID); errors.Is(err, db.ErrNotFound) {
		return noSuch("MCP server", m.ID)
	} else if err != nil {
		return err
	}
	if err := s.mcpChanged(c, "mcp_server.delete", m.ID, "name="+m.Name); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// mcpServerTest answers POST /admin/api/v1/mcp-servers/{id}/test: the server's tool list,
// fetched now and cached, or 502 with why it could not be fetched.
func (s *server) mcpServerTest(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	tools, err := s.fetchMCPTools(c, m.Name)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"name": m.Name, "tools": toMCPTools(m.Name, tools)})
}

// fetchMCPTools asks the server called name for its tools now; a failure is a 502 saying why.
func (s *server) fetchMCPTools(c *fiber.Ctx, name string) ([]db.MCPTool, error) {
	if s.MCP == nil {
		return nil, &gateway.Refusal{Kind: providers.KindUnavailable, Message: "this gateway runs no MCP servers"}
	}
	tools, err := s.MCP.Fetch(c.UserContext(), name)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindUpstream, HTTPStatus: fiber.StatusBadGateway, Message: err.Error()}
	}
	return tools, nil
}

func (s *server) loadMCPServer(c *fiber.Ctx) (*db.MCPServer, error) {
	id, err := pathID(c, "MCP server")
	if err != nil {
		return nil, err
	}
	m, err := s.MCPServers.Get(c.UserContext(), id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, noSuch("MCP server", id)
	}
	return m, err
}
