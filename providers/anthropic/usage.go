package anthropic

import "github.com/aigateway/ai-gateway/providers"

// Anthropic's usage object, both ways. Anthropic's input_tokens counts only the uncached input:
// cache reads (cache_read_input_tokens) and cache writes (cache_creation_input_tokens, split by
// TTL in cache_creation) come on top. The canonical InputTokens is their sum, the way OpenAI's
// prompt_tokens and Gemini's promptTokenCount count.

// usageCounts are the raw counts of one answer: a whole body's usage, or a stream's, where
// message_start carries them all and message_delta those that changed.
type usageCounts struct {
	in, out, cacheWrite, cacheWrite1h, cacheRead int
}

// set takes every count of u (message_start, a whole body); absent counts are 0.
func (c *usageCounts) set(u *wireUsage) {
	*c = usageCounts{}
	c.merge(u)
}

// merge takes the counts u carries (message_delta) and keeps the others.
func (c *usageCounts) merge(u *wireUsage) {
	setIf := func(dst *int, p *int) {
		if p != nil {
			*dst = *p
		}
	}
	setIf(&c.in, u.InputTokens)
	setIf(&c.out, u.OutputTokens)
	setIf(&c.cacheWrite, u.CacheCreationInputTokens)
	setIf(&c.cacheRead, u.CacheReadInputTokens)
	if cc := u.CacheCreation; cc != nil {
		setIf(&c.cacheWrite1h, cc.Ephemeral1h)
	}
}

// canonical is the usage in canonical terms: input includes cache writes and reads.
func (c *usageCounts) canonical() providers.Usage {
	return providers.Usage{InputTokens: c.in + c.cacheWrite + c.cacheRead, OutputTokens: c.out,
		CachedTokens: c.cacheRead, CacheCreationTokens: c.cacheWrite, CacheCreation1hTokens: min(c.cacheWrite1h, c.cacheWrite)}
}

// usageOf maps one Anthropic usage object.
func usageOf(u wireUsage) providers.Usage {
	var c usageCounts
	c.set(&u)
	return c.canonical()
}

// appendUsage writes canonical usage as Anthropic's usage object: input_tokens without the
// cache reads and writes, each of those on its own, the writes split into five-minute and
// one-hour ones.
func appendUsage(dst []byte, u providers.Usage) []byte {
	write := max(u.CacheCreationTokens, 0)
	write1h := min(max(u.CacheCreation1hTokens, 0), write)
	dst = append(dst, `{"input_tokens":`...)
	dst = appendInt(dst, max(u.InputTokens-u.CachedTokens-u.CacheCreationTokens, 0))
	dst = append(dst, `,"cache_creation_input_tokens":`...)
	dst = appendInt(dst, write)
	dst = append(dst, `,"cache_read_input_tokens":`...)
	dst = appendInt(dst, max(u.CachedTokens, 0))
	dst = append(dst, `,"cache_creation":{"ephemeral_5m_input_tokens":`...)
	dst = appendInt(dst, write-write1h)
	dst = append(dst, `,"ephemeral_1h_input_tokens":`...)
	dst = appendInt(dst, write1h)
	dst = append(dst, `},"output_tokens":`...)
	dst = appendInt(dst, u.OutputTokens)
	return append(dst, '}')
}
