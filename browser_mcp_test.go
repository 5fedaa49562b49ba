package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The MCP servers page in a real browser: reached from the navigation, its Test button (an
// htmx-boosted form) shows the tools of a server as the model sees them. With
// UPDATE_SCREENSHOTS=1 it is docs/screenshots/mcp-servers.png.
func TestMCPPageInBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail under CI) before starting anything
	g := startMCPGateway(t, stdioYAML(t), []string{"weather", "local"})
	password := passwordLine.FindStringSubmatch(g.out.String())[1]
	u := ui{t: t, ctx: newBrowser(t)}
	u.do("log in",
		chromedp.Navigate(g.url+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		press(`[data-testid="login-form"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="dashboard"]`)),
	)
	u.do("open the MCP servers page", press(`[data-testid="nav-mcp"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="mcp-servers"]`)))
	if n := u.eval(`String(document.querySelectorAll('[data-testid="mcp-row"]').length)`); n != "3" {
		t.Errorf("%s server rows, want 3 (local, vault, weather)", n)
	}
	u.do("test the weather server", press(`[data-testid="mcp-row"]:nth-child(3) [data-testid="mcp-test"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="mcp-test-result"]`)))
	if got := u.text(`[data-testid="mcp-test-result"] h2`); got != "Tools of weather" {
		t.Errorf("test result heading %q", got)
	}
	if got := u.eval(`[...document.querySelectorAll('[data-testid="mcp-tool"] td.mono')].map(e => e.textContent).join(",")`); !strings.Contains(got, "weather__forecast") {
		t.Errorf("tools shown: %q", got)
	}
	if strings.Contains(u.eval(`document.body.innerHTML`), mcpHeaderSecret) {
		t.Error("the page holds a header value")
	}
	u.screenshot("mcp-servers")
}
