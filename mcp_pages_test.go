package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// getDoc fetches an admin page with the browser and parses it.
func getDoc(t *testing.T, browser *http.Client, u string) *goquery.Document {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// postDoc posts a form with the page's CSRF token and parses the answer (redirects followed).
func postDoc(t *testing.T, browser *http.Client, u, csrf string, form url.Values) (int, *goquery.Document) {
	t.Helper()
	form.Set("csrf_token", csrf)
	follow := &http.Client{Jar: browser.Jar}
	resp, err := follow.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, doc
}

// The MCP servers page lists the registered and stdio servers with their header names (never
// their values), its Test button shows a server's tools, and its form adds a server; the client
// form offers tool mode gateway and the allowlist; the request detail page shows the tool calls.
func TestMCPPages(t *testing.T) {
	g := startMCPGateway(t, stdioYAML(t), []string{"weather"})
	browser := noRedirects()
	password := passwordLine.FindStringSubmatch(g.out.String())[1]
	if resp := login(t, browser, g.url, "admin", password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}

	doc := getDoc(t, browser, g.url+"/admin/mcp")
	html, _ := doc.Html()
	if strings.Contains(html, mcpHeaderSecret) {
		t.Error("the MCP servers page shows a header value")
	}
	var rows []string
	doc.Find(`[data-testid="mcp-row"]`).Each(func(_ int, s *goquery.Selection) {
		cells := s.Find("td").Slice(0, 4).Map(func(_ int, c *goquery.Selection) string { return strings.TrimSpace(c.Text()) })
		rows = append(rows, strings.Join(cells, " "))
	})
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "local stdio ") || !strings.Contains(rows[1], "vault Streamable HTTP http://127.0.0.1") ||
		!strings.HasSuffix(rows[2], "X-Token") {
		t.Errorf("server rows %q", rows)
	}
	csrf := doc.Find(`[data-testid="mcp-form"] input[name="csrf_token"]`).AttrOr("value", "")

	status, doc := postDoc(t, browser, g.url+"/admin/mcp/test", csrf, url.Values{"name": {"weather"}})
	var tools []string
	doc.Find(`[data-testid="mcp-tool"] td.mono`).Each(func(_ int, s *goquery.Selection) { tools = append(tools, s.Text()) })
	if status != http.StatusOK || strings.Join(tools, ",") != "weather__big,weather__broken,weather__forecast,weather__hang,weather__structured" {
		t.Errorf("test: %d, tools %v", status, tools)
	}
	status, doc = postDoc(t, browser, g.url+"/admin/mcp/test", csrf, url.Values{"name": {"local"}})
	if got := doc.Find(`[data-testid="mcp-tool"] td.mono`).Text(); status != http.StatusOK || got != "local__echo" {
		t.Errorf("test of the stdio server: %d, tools %q", status, got)
	}

	status, doc = postDoc(t, browser, g.url+"/admin/mcp", csrf, url.Values{"name": {"bad__name"}, "url": {"http://127.0.0.1:1/mcp"}, "headers": {"X-Token: typed-secret-3344"}})
	html, _ = doc.Html()
	if status != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-name"]`).Text() == "" || strings.Contains(html, "typed-secret-3344") {
		t.Errorf("a bad name: %d, error %q", status, doc.Find(`[data-testid="error-name"]`).Text())
	}
	status, doc = postDoc(t, browser, g.url+"/admin/mcp", csrf, url.Values{"name": {"extra"}, "url": {"http://127.0.0.1:1/mcp"}, "headers": {"X-Token: typed-secret-3344"}})
	html, _ = doc.Html()
	if status != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="mcp-servers"]`).Text(), "extra") || strings.Contains(html, "typed-secret-3344") {
		t.Errorf("add: %d", status)
	}

	id := strconv.FormatInt(g.ids[beOpenAI], 10)
	doc = getDoc(t, browser, g.url+"/admin/clients/"+id)
	if v := doc.Find(`#tool_mode option[selected]`).AttrOr("value", ""); v != "gateway" {
		t.Errorf("client form: tool mode %q selected", v)
	}
	var checked []string
	doc.Find(`input[name="mcp_servers"]`).Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("checked"); ok {
			checked = append(checked, s.AttrOr("value", ""))
		}
	})
	if strings.Join(checked, ",") != "weather" || doc.Find(`input[name="mcp_servers"]`).Length() != 4 {
		t.Errorf("client form: allowlist %v of %d boxes", checked, doc.Find(`input[name="mcp_servers"]`).Length())
	}

	resp, body := g.call(relOpenAI, beOpenAI, false, promptBody(relOpenAI, false, "use:weather__forecast"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	row := g.logRow(g.openDB(), resp.Header.Get("X-Request-Id"))
	doc = getDoc(t, browser, g.url+"/admin/requests/"+strconv.FormatInt(row.ID, 10))
	if tool, st, n := doc.Find(`[data-testid="tool-step-tool"]`).Text(), doc.Find(`[data-testid="tool-step-status"]`).Text(),
		doc.Find(`[data-testid="tool-step-bytes"]`).Text(); tool != "weather__forecast" || st != "ok" || n != "17 bytes" {
		t.Errorf("request detail: tool %q status %q result %q", tool, st, n)
	}
}
