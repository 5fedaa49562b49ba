package sdktest

import (
	"context"
	"errors"
	"net/http"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	option "github.com/anthropics/anthropic-sdk-go/v2/option"
)

// anthropicV2 drives the official Anthropic Go SDK, v2 (Authorization: Bearer, anthropic-version 2026-10-21).
type anthropicV2 struct {
	c    anthropic.Client
	sent *headerLog
}

func newanthropicV2(g *gateway, key string) anthropicSDK {
	sent := &headerLog{}
	return anthropicV2{c: anthropic.NewClient(option.WithBaseURL(g.url), option.WithAPIKey(key), option.WithMaxRetries(0),
		option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
			sent.record(r.Header)
			return next(r)
		})), sent: sent}
}

// sentHeaders are the headers of the SDK's last request.
func (s anthropicV2) sentHeaders() http.Header { return s.sent.last() }

func (s anthropicV2) name() string { return "anthropic-sdk-go v2" }

// wantHeaders are the auth and version headers this SDK line sends.
func (s anthropicV2) wantHeaders(key string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + key, "x-api-key": "", "anthropic-version": "2026-10-21"}
}

func (s anthropicV2) system(opts convoOptions) []anthropic.TextBlockParam {
	var sys []anthropic.TextBlockParam
	for _, b := range opts.system {
		p := anthropic.TextBlockParam{Text: b.text}
		if b.cache {
			p.CacheControl = anthropic.NewCacheControlEphemeralParam()
		}
		sys = append(sys, p)
	}
	return sys
}

func (s anthropicV2) conversation(opts convoOptions) anthropicConvo {
	p := anthropic.MessageNewParams{Model: anthropic.Model(opts.model), MaxTokens: opts.maxTokens, System: s.system(opts)}
	for _, tl := range opts.tools {
		p.Tools = append(p.Tools, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name: tl.name, Description: anthropic.String(tl.description),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: tl.properties, Required: tl.required},
		}})
	}
	if opts.thinking > 0 {
		p.Thinking = anthropic.ThinkingConfigParamOfEnabled(opts.thinking)
	}
	return &convoV2{c: s.c, p: p}
}

func (s anthropicV2) countTokens(model, system, text string) (int64, error) {
	n, err := s.c.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{
		Model:    anthropic.Model(model),
		System:   anthropic.MessageCountTokensParamsSystemUnion{OfTextBlockArray: []anthropic.TextBlockParam{{Text: system}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))},
	})
	if err != nil {
		return 0, s.apiError(err)
	}
	return n.InputTokens, nil
}

// apiError turns the SDK's error into the neutral form the tests compare.
func (s anthropicV2) apiError(err error) error {
	var e *anthropic.Error
	if errors.As(err, &e) {
		return &anthropicAPIError{status: e.StatusCode, typ: string(e.Type()), raw: e.RawJSON(), err: err}
	}
	return err
}

// convoV2 is one conversation: its parameters and its history so far.
type convoV2 struct {
	c anthropic.Client
	p anthropic.MessageNewParams
}

func (c *convoV2) user(text, pngB64 string) {
	blocks := []anthropic.ContentBlockParamUnion{anthropic.NewTextBlock(text)}
	if pngB64 != "" {
		blocks = append(blocks, anthropic.NewImageBlockBase64("image/png", pngB64))
	}
	c.p.Messages = append(c.p.Messages, anthropic.NewUserMessage(blocks...))
}

func (c *convoV2) toolResults(rs ...toolResult) {
	var blocks []anthropic.ContentBlockParamUnion
	for _, r := range rs {
		blocks = append(blocks, anthropic.NewToolResultBlock(r.id, r.content, r.isError))
	}
	c.p.Messages = append(c.p.Messages, anthropic.NewUserMessage(blocks...))
}

func (c *convoV2) send(stream bool) (anthropicAnswer, error) {
	ctx := context.Background()
	var msg anthropic.Message
	events := 0
	if stream {
		st := c.c.Messages.NewStreaming(ctx, c.p)
		for st.Next() {
			events++
			if err := msg.Accumulate(st.Current()); err != nil {
				return anthropicAnswer{}, err
			}
		}
		if err := st.Err(); err != nil {
			return anthropicAnswer{events: events}, anthropicV2{}.apiError(err)
		}
	} else {
		m, err := c.c.Messages.New(ctx, c.p)
		if err != nil {
			return anthropicAnswer{}, anthropicV2{}.apiError(err)
		}
		msg = *m
	}
	c.p.Messages = append(c.p.Messages, msg.ToParam())
	a := anthropicAnswer{id: msg.ID, stopReason: string(msg.StopReason), events: events,
		inputTokens: msg.Usage.InputTokens, outputTokens: msg.Usage.OutputTokens}
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			a.text += b.Text
		case "thinking":
			a.thinking += b.Thinking
		case "tool_use":
			a.tools = append(a.tools, toolUse{id: b.ID, name: b.Name, input: string(b.Input)})
		}
	}
	return a, nil
}
