package sdktest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/openai/openai-go/v3"
	"google.golang.org/genai"
)

// Prompt caching through translation (#24), as the official SDKs see it: an Anthropic backend
// reports 2,000 tokens read from its cache and 500 written, and openai-go and genai read them in
// their own fields, with the prompt count including both.
const (
	cacheUncached = 7
	cacheWritten  = 500
	cacheRead     = 2000
	cachePrompt   = cacheUncached + cacheWritten + cacheRead
)

// cachingAnthropic answers like Anthropic with cache usage, and counts the cache_control marks
// each request carried.
func cachingAnthropic(t *testing.T) *upstreamtest.Server {
	usage := fmt.Sprintf(`"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":0}`,
		cacheUncached, cacheWritten, cacheRead, cacheWritten)
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			upstreamtest.WriteJSON(w, 200, `{"id":"msg_c","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{`+usage+`,"output_tokens":3}}`)
			return
		}
		upstreamtest.WriteSSE(w,
			event("message_start", `{"type":"message_start","message":{"id":"msg_c","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{`+usage+`,"output_tokens":1}}}`),
			event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
			event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Done."}}`),
			event("content_block_stop", `{"type":"content_block_stop","index":0}`),
			event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}`),
			event("message_stop", `{"type":"message_stop"}`))
	})
}

// checkMarks checks the last upstream request: the system prompt and the two user turns marked;
// the tools, which come first and are far below Claude's 1,024-token minimum, not.
func checkMarks(t *testing.T, up *upstreamtest.Server) {
	t.Helper()
	got := decode(t, up.Last(t).Body)
	msgs := got["messages"].([]any)
	last := at(msgs[len(msgs)-1], "content").([]any)
	prev := at(msgs[len(msgs)-3], "content").([]any)
	system := got["system"].([]any)
	for what, block := range map[string]any{"system": system[len(system)-1], "last user turn": last[len(last)-1],
		"previous user turn": prev[len(prev)-1]} {
		if cc := at(block, "cache_control"); !jsonEqual(cc, map[string]any{"type": "ephemeral"}) {
			t.Errorf("%s: cache_control %v", what, cc)
		}
	}
	if n := bytes.Count(up.Last(t).Body, []byte(`"cache_control"`)); n != 3 {
		t.Errorf("%d cache_control marks, want 3 (none on the short tools)", n)
	}
}

// TestPromptCacheSDKs: openai-go reads Usage.PromptTokensDetails.CachedTokens and genai
// UsageMetadata.CachedContentTokenCount from a Claude conversation the gateway marked for caching,
// streamed and not.
func TestPromptCacheSDKs(t *testing.T) {
	g := startGateway(t)
	up := cachingAnthropic(t)
	key, _ := g.newClient(client{"backend": "anthropic", "base_url": up.URL, "upstream_key": upstreamSecret, "default_model": "claude-sonnet-4-5"})
	ctx := context.Background()
	long := strings.Repeat("You review Go code carefully and explain every change. ", 200) // ~2,800 tokens

	t.Run("openai-go", func(t *testing.T) {
		c := openaiSDK(g, key)
		params := openai.ChatCompletionNewParams{
			Model: "claude-sonnet-4-5",
			Tools: sdkTools,
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.SystemMessage(long), openai.UserMessage("Fix the failing test."),
				openai.AssistantMessage("Fixed."), openai.UserMessage("Now run it."),
			},
		}
		resp, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		checkMarks(t, up)
		if u := resp.Usage; u.PromptTokensDetails.CachedTokens != cacheRead || u.PromptTokens != cachePrompt || u.TotalTokens != cachePrompt+3 {
			t.Errorf("usage %+v: want %d cached of %d prompt tokens", u, cacheRead, cachePrompt)
		}

		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		st := c.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		checkMarks(t, up)
		if u := acc.Usage; u.PromptTokensDetails.CachedTokens != cacheRead || u.PromptTokens != cachePrompt {
			t.Errorf("streamed usage %+v: want %d cached of %d prompt tokens", u, cacheRead, cachePrompt)
		}
	})

	t.Run("genai", func(t *testing.T) {
		c := genaiSDK(t, g, key)
		contents := []*genai.Content{
			genai.NewContentFromText("Fix the failing test.", genai.RoleUser),
			genai.NewContentFromText("Fixed.", genai.RoleModel),
			genai.NewContentFromText("Now run it.", genai.RoleUser),
		}
		cfg := &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText(long, genai.RoleUser), Tools: genaiTools}
		resp, err := c.Models.GenerateContent(ctx, "claude-sonnet-4-5", contents, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkMarks(t, up)
		if u := resp.UsageMetadata; u == nil || u.CachedContentTokenCount != cacheRead || u.PromptTokenCount != cachePrompt {
			t.Errorf("usage %+v: want %d cached of %d prompt tokens", u, cacheRead, cachePrompt)
		}

		var last *genai.GenerateContentResponseUsageMetadata
		for r, err := range c.Models.GenerateContentStream(ctx, "claude-sonnet-4-5", contents, cfg) {
			if err != nil {
				t.Fatal(err)
			}
			if r.UsageMetadata != nil {
				last = r.UsageMetadata
			}
		}
		checkMarks(t, up)
		if last == nil || last.CachedContentTokenCount != cacheRead || last.PromptTokenCount != cachePrompt {
			t.Errorf("streamed usage %+v: want %d cached of %d prompt tokens", last, cacheRead, cachePrompt)
		}
	})
}
