package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/db"
)

// The admin API for MCP servers: create, read, test, update, delete, each audit-logged; the
// headers are write-only (only their names come back, never their values, in no answer and no
// audit entry); a bad name is refused.
func TestMCPServerAdminAPI(t *testing.T) {
	g := startMCPGateway(t, "", []string{"weather"})
	status, body := g.admin(http.MethodGet, "/admin/api/v1/mcp-servers", nil)
	if status != http.StatusOK || !strings.Contains(body, `"header_names":["X-Token"]`) || strings.Contains(body, mcpHeaderSecret) {
		t.Fatalf("list: %d %s", status, body)
	}
	var list struct {
		Servers []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"mcp_servers"`
	}
	json.Unmarshal([]byte(body), &list)
	var id int64
	for _, s := range list.Servers {
		if s.Name == "weather" {
			id = s.ID
		}
	}
	path := "/admin/api/v1/mcp-servers/" + strconv.FormatInt(id, 10)

	status, body = g.admin(http.MethodPost, path+"/test", nil)
	if status != http.StatusOK || !strings.Contains(body, `"name":"weather__forecast"`) || !strings.Contains(body, `"description":"the weather in a city"`) {
		t.Errorf("test: %d %s", status, body)
	}
	status, body = g.admin(http.MethodGet, path, nil)
	if status != http.StatusOK || !strings.Contains(body, `"tools_fetched_at":"`) || strings.Contains(body, mcpHeaderSecret) {
		t.Errorf("get after test: %d %s", status, body)
	}

	status, body = g.admin(http.MethodPatch, path, map[string]any{"name": "Bad__Name"})
	if status != http.StatusBadRequest || !strings.Contains(body, "name") {
		t.Errorf("bad name: %d %s", status, body)
	}
	status, body = g.admin(http.MethodPost, "/admin/api/v1/mcp-servers", map[string]any{"name": "weather", "url": "http://127.0.0.1:9/mcp"})
	if status != http.StatusBadRequest || !strings.Contains(body, "already the name") {
		t.Errorf("duplicate name: %d %s", status, body)
	}
	status, body = g.admin(http.MethodPatch, path, map[string]any{"name": "forecasts", "headers": map[string]string{"X-Token": mcpHeaderSecret, "X-Other": "other-secret-8812"}})
	if status != http.StatusOK || !strings.Contains(body, `"header_names":["X-Other","X-Token"]`) || strings.Contains(body, "other-secret-8812") ||
		!strings.Contains(body, `"tools":[]`) {
		t.Errorf("update: %d %s", status, body)
	}
	status, _ = g.admin(http.MethodDelete, path, nil)
	if status != http.StatusNoContent {
		t.Errorf("delete: %d", status)
	}
	if status, _ = g.admin(http.MethodGet, path, nil); status != http.StatusNotFound {
		t.Errorf("get after delete: %d", status)
	}

	var audit []db.AuditLog
	if err := g.openDB().NewSelect().Model(&audit).Where("target LIKE 'mcp_server:%'").OrderExpr("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
		if strings.Contains(a.Detail, mcpHeaderSecret) || strings.Contains(a.Detail, "other-secret-8812") {
			t.Errorf("the audit log holds a header value: %+v", a)
		}
	}
	if got := strings.Join(actions, ","); got != "mcp_server.create,mcp_server.create,mcp_server.update,mcp_server.delete" {
		t.Errorf("audit actions %s", got)
	}
	var row db.MCPServer
	if err := g.openDB().NewSelect().Model(&row).Where("name = ?", "vault").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(row.Headers), mcpHeaderSecret) || len(row.Headers) == 0 {
		t.Errorf("headers are not sealed at rest: %q", row.Headers)
	}
}

// Server URLs on loopback, private, link-local and metadata addresses are refused unless
// mcp.allow_private is set.
func TestMCPServerPrivateURLRefused(t *testing.T) {
	g := startRelGateway(t, nil, "")
	for _, u := range []string{"http://127.0.0.1:8080/mcp", "http://10.1.2.3/mcp", "http://169.254.169.254/latest", "http://[::1]/mcp",
		"http://192.168.1.10/mcp", "http://[fd00::1]/mcp", "http://localhost:9000/mcp", "ftp://example.com/mcp"} {
		status, body := g.admin(http.MethodPost, "/admin/api/v1/mcp-servers", map[string]any{"name": "x", "url": u})
		if status != http.StatusBadRequest || !strings.Contains(body, `"url"`) {
			t.Errorf("%s: %d %s", u, status, body)
		}
	}
}
