package mcpservers

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// resultText is what the model gets of a tool's result: the structured content as JSON when
// there is some, else the text of its content blocks; other blocks are named, not inlined.
func resultText(r *mcp.CallToolResult) string {
	if r.StructuredContent != nil {
		if b, err := json.Marshal(r.StructuredContent); err == nil {
			return string(b)
		}
	}
	var sb strings.Builder
	for i, c := range r.Content {
		if i > 0 {
			sb.WriteString("\n")
		}
		switch c := c.(type) {
		case *mcp.TextContent:
			sb.WriteString(c.Text)
		case *mcp.ImageContent:
			sb.WriteString("[image " + c.MIMEType + " omitted]")
		case *mcp.AudioContent:
			sb.WriteString("[audio " + c.MIMEType + " omitted]")
		case *mcp.ResourceLink:
			sb.WriteString("[resource " + c.URI + "]")
		case *mcp.EmbeddedResource:
			if c.Resource != nil && c.Resource.Text != "" {
				sb.WriteString(c.Resource.Text)
			} else if c.Resource != nil {
				sb.WriteString("[resource " + c.Resource.URI + "]")
			}
		}
	}
	return sb.String()
}

// truncatedMark ends a result cut at the size cap, so the model knows it saw a part.
const truncatedMark = "\n[result truncated by the gateway]"

// capText cuts s to at most limit bytes (on a rune boundary) with truncatedMark.
func capText(s string, limit int) (string, bool) {
	if limit <= 0 || len(s) <= limit {
		return s, false
	}
	cut := max(limit-len(truncatedMark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedMark, true
}
