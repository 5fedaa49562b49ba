package routes

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/views"
)

// The MCP servers page reads the same fields as the admin JSON API (mcpServerInput) and
// validates them with the same apply; this file turns the form into that input and renders.

// mcpPage shows the MCP servers and the add form.
func (s *server) mcpPage(c *fiber.Ctx) error {
	return s.renderMCP(c, fiber.StatusOK, views.MCPServersView{})
}

// mcpEditPage shows the page with server :id in the form.
func (s *server) mcpEditPage(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	return s.renderMCP(c, fiber.StatusOK, views.MCPServersView{Form: views.MCPServerForm{ID: m.ID, Name: m.Name, URL: m.URL, HeaderNames: m.HeaderNames}})
}

func (s *server) renderMCP(c *fiber.Ctx, status int, v views.MCPServersView) error {
	rows, err := s.MCPServers.List(c.UserContext())
	if err != nil {
		return err
	}
	ids := map[string]db.MCPServer{}
	for _, r := range rows {
		ids[r.Name] = r
	}
	if s.MCP != nil {
		for _, sv := range s.MCP.Servers() {
			row := views.MCPServerRow{Name: sv.Name, Tools: len(sv.Tools)}
			if !sv.FetchedAt.IsZero() {
				row.FetchedAt = formatTime(sv.FetchedAt)
			}
			if sv.URL == "" {
				row.Transport, row.Target = "stdio", sv.Command
			} else {
				r := ids[sv.Name]
				row.ID, row.Transport, row.Target, row.HeaderNames = r.ID, "Streamable HTTP", sv.URL, r.HeaderNames
			}
			v.Servers = append(v.Servers, row)
		}
	}
	v.AllowPrivate = s.mcpConfig().AllowPrivate
	p := s.page(c, "MCP servers", "mcp")
	return render(c, status, views.MCPServers(p, v), views.MCPServersContent(p, v))
}

// parseMCPForm reads the add or edit form. Empty headers keep the stored ones unless removal
// was asked for; typed headers replace them all.
func parseMCPForm(c *fiber.Ctx) (mcpServerInput, views.MCPServerForm, fieldErrors) {
	f := views.MCPServerForm{Name: strings.Clone(c.FormValue("name")), URL: strings.Clone(c.FormValue("url")),
		Headers: strings.Clone(c.FormValue("headers")), RemoveHeaders: c.FormValue("remove_headers") == "true"}
	in := mcpServerInput{Name: &f.Name, URL: &f.URL}
	bad := fieldErrors{}
	if strings.TrimSpace(f.Headers) != "" {
		h := map[string]string{}
		for _, line := range strings.Split(f.Headers, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				bad["headers"] = "write each header as Name: value on its own line"
				break
			}
			h[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		in.Headers = &h
	} else if f.RemoveHeaders {
		in.Headers = &map[string]string{}
	}
	return in, f, bad
}

// mcpCreateSubmit adds a server from the form.
func (s *server) mcpCreateSubmit(c *fiber.Ctx) error {
	in, form, bad := parseMCPForm(c)
	m := &db.MCPServer{}
	if len(bad) == 0 {
		if _, err := in.apply(c, m, s.Keyring, s.mcpConfig(), s.isStdioServer); err != nil {
			if !errors.As(err, &bad) {
				return err
			}
		}
	}
	if len(bad) == 0 {
		if err := s.MCPServers.Create(c.UserContext(), m); errors.Is(err, db.ErrNameTaken) {
			bad = fieldErrors{"name": "is already the name of an MCP server"}
		} else if err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		form.Headers = "" // a secret is not sent back, even to the one who typed it
		return s.renderMCP(c, fiber.StatusUnprocessableEntity, views.MCPServersView{Form: form, Errors: views.FieldErrors(bad)})
	}
	if err := s.mcpChanged(c, "mcp_server.create", m.ID, "name="+m.Name+" url="+m.URL+" from the MCP servers page"); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/mcp", "mcp-saved"))
}

// mcpUpdateSubmit saves the edit form of server :id.
func (s *server) mcpUpdateSubmit(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	in, form, bad := parseMCPForm(c)
	form.ID, form.HeaderNames = m.ID, m.HeaderNames
	var changed []string
	if len(bad) == 0 {
		if changed, err = in.apply(c, m, s.Keyring, s.mcpConfig(), s.isStdioServer); err != nil && !errors.As(err, &bad) {
			return err
		}
	}
	if len(bad) == 0 && len(changed) > 0 {
		if err := s.MCPServers.Update(c.UserContext(), m); errors.Is(err, db.ErrNameTaken) {
			bad = fieldErrors{"name": "is already the name of an MCP server"}
		} else if err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		form.Headers = ""
		return s.renderMCP(c, fiber.StatusUnprocessableEntity, views.MCPServersView{Form: form, Errors: views.FieldErrors(bad)})
	}
	if len(changed) > 0 {
		if err := s.mcpChanged(c, "mcp_server.update", m.ID, "changed="+strings.Join(changed, ",")+" from the MCP servers page"); err != nil {
			return err
		}
	}
	return seeOther(c, withNotice("/admin/mcp", "mcp-saved"))
}

// mcpDeleteSubmit deletes server :id.
func (s *server) mcpDeleteSubmit(c *fiber.Ctx) error {
	m, err := s.loadMCPServer(c)
	if err != nil {
		return err
	}
	if err := s.MCPServers.Delete(c.UserContext(), m.ID); err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if err := s.mcpChanged(c, "mcp_server.delete", m.ID, "name="+m.Name+" from the MCP servers page"); err != nil {
		return err
	}
	return seeOther(c, withNotice("/admin/mcp", "mcp-deleted"))
}

// mcpTestSubmit fetches the tool list of the server named in the form and shows it.
func (s *server) mcpTestSubmit(c *fiber.Ctx) error {
	name := strings.Clone(c.FormValue("name"))
	res := &views.MCPTestResult{Server: name}
	if tools, err := s.fetchMCPTools(c, name); err != nil {
		res.Error = "Could not list the tools: " + providers.AsError(err).Message
	} else {
		for _, t := range toMCPTools(name, tools) {
			res.Tools = append(res.Tools, views.MCPToolRow{Name: t.Name, Description: t.Description})
		}
	}
	return s.renderMCP(c, fiber.StatusOK, views.MCPServersView{Test: res})
}
