package routes

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/gateway/mcpservers"
)

// mcpServerJSON is an MCP server as the admin API returns it. Its headers are write-only: only
// their names are shown, never their values.
type mcpServerJSON struct {
	// ID is 0 for a stdio server (config.yaml), which the API cannot change.
	ID             int64         `json:"id"`
	Name           string        `json:"name"`
	Transport      string        `json:"transport"`
	URL            string        `json:"url,omitempty"`
	HeaderNames    []string      `json:"header_names"`
	Tools          []mcpToolJSON `json:"tools"`
	ToolsFetchedAt *time.Time    `json:"tools_fetched_at"`
	CreatedAt      *time.Time    `json:"created_at,omitempty"`
	UpdatedAt      *time.Time    `json:"updated_at,omitempty"`
}

// mcpToolJSON is one tool of a server, named as the model and /mcp see it.
type mcpToolJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

func toMCPTools(server string, tools []db.MCPTool) []mcpToolJSON {
	out := make([]mcpToolJSON, 0, len(tools))
	for _, t := range tools {
		out = append(out, mcpToolJSON{Name: server + mcpservers.Separator + t.Name, Description: t.Description, InputSchema: t.InputSchema})
	}
	return out
}

func toMCPServerJSON(m *db.MCPServer) mcpServerJSON {
	return mcpServerJSON{ID: m.ID, Name: m.Name, Transport: "http", URL: m.URL, HeaderNames: nonNil(m.HeaderNames),
		Tools: toMCPTools(m.Name, m.Tools), ToolsFetchedAt: timePtr(m.ToolsFetchedAt),
		CreatedAt: timePtr(m.CreatedAt), UpdatedAt: timePtr(m.UpdatedAt)}
}

// mcpServerInput is the body of create and update; an update changes only what it names.
// Headers replaces every stored header ({} removes them all).
type mcpServerInput struct {
	Name    *string            `json:"name"`
	URL     *string            `json:"url"`
	Headers *map[string]string `json:"headers"`
}

const maxMCPHeaders = 20

// apply validates in and writes it onto m, sealing the headers with keyring. It returns the
// fields that changed (for the audit log) or fieldErrors. taken reports a name already used by
// a stdio server.
func (in *mcpServerInput) apply(c *fiber.Ctx, m *db.MCPServer, keyring *db.Keyring, cfg gateway.MCPConfig, taken func(string) bool) ([]string, error) {
	bad := fieldErrors{}
	var changed []string
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		switch {
		case !gateway.MCPServerName.MatchString(name):
			bad["name"] = "must be lowercase letters, digits, - and single _ (tools are named name__tool), at most 32 characters"
		case taken(name):
			bad["name"] = fmt.Sprintf("%q is a stdio server of config.yaml", name)
		case name != m.Name:
			m.Name = name
			changed = append(changed, "name")
		}
	}
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if msg := textError(u, false); msg != "" {
			bad["url"] = msg
		} else if len(u) > 2000 {
			bad["url"] = "must be at most 2000 characters"
		} else if err := mcpservers.CheckURL(c.UserContext(), u, cfg.AllowPrivate); err != nil {
			bad["url"] = err.Error()
		} else if u != m.URL {
			m.URL = u
			changed = append(changed, "url")
		}
	}
	if in.Headers != nil {
		h := *in.Headers
		if len(h) > maxMCPHeaders {
			bad["headers"] = fmt.Sprintf("at most %d headers", maxMCPHeaders)
		}
		for k, v := range h {
			if !headerName(k) {
				bad["headers"] = fmt.Sprintf("%q is not a header name", k)
			} else if strings.ContainsAny(v, "\r\n\x00") || len(v) > 8192 {
				bad["headers"] = fmt.Sprintf("the value of %s must be one line of at most 8192 bytes", k)
			}
		}
		if _, done := bad["headers"]; !done {
			m.HeaderNames = slices.Sorted(maps.Keys(h))
			m.Headers = nil
			if len(h) > 0 {
				b, _ := json.Marshal(h)
				ct, err := keyring.Encrypt(string(b))
				if err != nil {
					return nil, err
				}
				m.Headers = ct
			}
			changed = append(changed, "headers")
		}
	}
	if m.Name == "" {
		if _, done := bad["name"]; !done {
			bad["name"] = "is required"
		}
	}
	if m.URL == "" {
		if _, done := bad["url"]; !done {
			bad["url"] = "is required: the server's Streamable HTTP address, e.g. https://mcp.example.com/mcp"
		}
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return changed, nil
}

// headerName reports whether k is an HTTP header name (an RFC 9110 token).
func headerName(k string) bool {
	if k == "" || len(k) > 200 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

func mcpNameTaken(name string) error {
	return fieldErrors{"name": fmt.Sprintf("%q is already the name of an MCP server", name)}
}

// mcpChanged records an admin change to an MCP server in the audit log and reloads the
// registry. The change is stored already, so a failed reload is logged, not returned.
func (s *server) mcpChanged(c *fiber.Ctx, action string, id int64, detail string) error {
	if err := s.Audit.Add(c.UserContext(), &db.AuditLog{
		Actor: actorOf(c), Action: action, Target: "mcp_server:" + strconv.FormatInt(id, 10), Detail: detail,
	}); err != nil {
		return err
	}
	if s.MCP != nil {
		if err := s.MCP.Reload(c.UserContext()); err != nil {
			s.log.Error("reload mcp servers after admin change", "request_id", requestIDOf(c), "action", action,
				"mcp_server_id", id, "error", err.Error())
		}
	}
	return nil
}

// mcpConfig is the mcp section in force.
func (s *server) mcpConfig() gateway.MCPConfig {
	if s.Config == nil {
		return gateway.DefaultConfig().MCP
	}
	return s.Config.MCP
}

// isStdioServer reports whether name is a stdio server of config.yaml.
func (s *server) isStdioServer(name string) bool { return s.MCP != nil && s.MCP.IsStdio(name) }

// mcpServerNames are every MCP server's name (registered and stdio), sorted.
func (s *server) mcpServerNames() []string {
	if s.MCP == nil {
		return nil
	}
	var names []string
	for _, v := range s.MCP.Servers() {
		names = append(names, v.Name)
	}
	return names
}
