package anthropic

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Automatic prompt caching for requests translated from another protocol (providers.Request
// AutoCache, the client's prompt_cache: auto). Anthropic caches a prompt's prefix only up to a
// block marked with cache_control, so a caller speaking OpenAI or Gemini, which cannot mark
// anything, would pay full price for every turn of a long conversation.

// maxCacheBreakpoints is how many cache_control marks Anthropic accepts in one request.
const maxCacheBreakpoints = 4

// ephemeral is the mark the gateway places: the default five-minute cache.
var ephemeral = json.RawMessage(`{"type":"ephemeral"}`)

// MinCacheTokens is the shortest prompt prefix model caches, in tokens (Anthropic's table:
// 4096 for Claude Opus 4.5 and 4.6 and Claude Haiku 4.5, 2048 for the older Haiku models, 1024
// for the others). A prefix below it is not cached even when marked.
func MinCacheTokens(model string) int {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "haiku-4"), strings.Contains(m, "opus-4-5"), strings.Contains(m, "opus-4-6"):
		return 4096
	case strings.Contains(m, "haiku"):
		return 2048
	}
	return 1024
}

// prefixTokens estimates the tokens of a prompt prefix the way admission does: one token per
// four bytes of text, tool input, tool result and tool definition, and imageTokens per image or
// document block.
type prefixTokens struct{ bytes, images int }

func (p prefixTokens) tokens() int { return p.bytes/4 + p.images*imageTokens }

func (p *prefixTokens) addBlock(b *wireBlock) {
	switch b.Type {
	case "image", "document":
		p.images++
	default:
		p.bytes += len(b.Text) + len(b.Thinking) + len(b.Input) + len(b.Content)
	}
}

// breakpoint is a place the gateway may mark: the block (or tool) and the prefix up to and
// including it.
type breakpoint struct {
	mark   *json.RawMessage
	prefix int // estimated tokens
	order  int // position in the prompt (tools, then system, then messages)
	taken  bool
}

// placeCacheBreakpoints marks, with {"type":"ephemeral"}, up to four places of w: the last
// tool (caching the tool definitions), the last system block (tools and system prompt, the
// client's injected prompt included), the last block of the last user turn (the whole
// conversation so far, so the next turn reads it from the cache) and the last block of the user
// turn before it (where the previous request put its mark: the cache written then is read back
// exactly there, however many blocks the turn in between added — Anthropic looks back only about
// 20 blocks from a mark for an earlier entry). A place is left unmarked when
//   - the prompt up to and including it is shorter than the model's MinCacheTokens (estimated at
//     four bytes a token: Anthropic would not cache it, and the mark would use up one of the 4);
//   - the caller marked a block of the same part (tools, system, that user turn) itself;
//   - it comes before a caller's one-hour mark (Anthropic wants longer TTLs first);
//   - the caller's marks and the gateway's would exceed Anthropic's 4. Then the last user turn
//     is marked first, the previous user turn second, the system prompt third, the tools last.
func placeCacheBreakpoints(w *wireRequest) {
	minTokens := MinCacheTokens(w.Model)
	var (
		size           prefixTokens
		order          int
		callerMarks    int
		lastLongMark   = -1 // order of the caller's last one-hour mark
		tools, system  breakpoint
		user, prevUser breakpoint
		toolsMarked    bool
		systemMarked   bool
		lastUserMarked bool
		prevUserMarked bool
	)
	noteMark := func(cc json.RawMessage, nested []byte) bool {
		n := bytes.Count(nested, []byte(`"cache_control":`))
		if len(cc) > 0 {
			n++
		}
		if n == 0 {
			return false
		}
		callerMarks += n
		if bytes.Contains(cc, []byte(`"1h"`)) || bytes.Contains(nested, []byte(`"1h"`)) {
			lastLongMark = order
		}
		return true
	}

	for i := range w.Tools {
		t := &w.Tools[i]
		size.bytes += len(t.Name) + len(t.Description) + len(t.InputSchema)
		toolsMarked = noteMark(t.CacheControl, nil) || toolsMarked
		tools = breakpoint{mark: &t.CacheControl, prefix: size.tokens(), order: order}
		order++
	}
	for i := range w.System {
		b := &w.System[i]
		size.addBlock(b)
		systemMarked = noteMark(b.CacheControl, nil) || systemMarked
		system = breakpoint{mark: &b.CacheControl, prefix: size.tokens(), order: order}
		order++
	}
	lastUser, prev := -1, -1
	for i := range w.Messages {
		if w.Messages[i].Role == "user" && len(w.Messages[i].Content) > 0 {
			lastUser, prev = i, lastUser
		}
	}
	for i := range w.Messages {
		content := w.Messages[i].Content
		for j := range content {
			b := &content[j]
			size.addBlock(b)
			marked := noteMark(b.CacheControl, b.Content)
			last := j == len(content)-1
			switch i {
			case lastUser:
				lastUserMarked = marked || lastUserMarked
				if last {
					user = breakpoint{mark: &b.CacheControl, prefix: size.tokens(), order: order}
				}
			case prev:
				prevUserMarked = marked || prevUserMarked
				if last {
					prevUser = breakpoint{mark: &b.CacheControl, prefix: size.tokens(), order: order}
				}
			}
			order++
		}
	}

	free := maxCacheBreakpoints - callerMarks
	for _, c := range []struct {
		bp     *breakpoint
		marked bool
	}{{&user, lastUserMarked}, {&prevUser, prevUserMarked}, {&system, systemMarked}, {&tools, toolsMarked}} {
		bp := c.bp
		if free <= 0 || bp.mark == nil || c.marked || bp.prefix < minTokens || bp.order < lastLongMark {
			continue
		}
		bp.taken = true
		free--
	}
	for _, bp := range []*breakpoint{&tools, &system, &prevUser, &user} {
		if bp.taken {
			*bp.mark = ephemeral
		}
	}
}
