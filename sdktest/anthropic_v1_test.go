package sdktest

import (
	"context"
	"errors"
	"net/http"

	anthropicv1 "github.com/anthropics/anthropic-sdk-go"
	optionv1 "github.com/anthropics/anthropic-sdk-go/option"
)

// anthropicV1 drives the official Anthropic Go SDK, v1 (x-api-key, anthropic-version 2023-06-01).
type anthropicV1 struct {
	c    anthropicv1.Client
	sent *headerLog
}

func newanthropicV1(g *gateway, key string) anthropicSDK {
	sent := &headerLog{}
	return anthropicV1{c: anthropicv1.NewClient(optionv1.WithBaseURL(g.url), optionv1.WithAPIKey(key), optionv1.WithMaxRetries(0),
		optionv1.WithMiddleware(func(r *http.Request, next optionv1.MiddlewareNext) (*http.Response, error) {
			sent.record(r.Header)
			return next(r)
		})), sent: sent}
}

// sentHeaders are the headers of the SDK's last request.
func (s anthropicV1) sentHeaders() http.Header { return s.sent.last() }

func (s anthropicV1) name() string { return "anthropic-sdk-go v1" }

// wantHeaders are the auth and version headers this SDK line sends.
func (s anthropicV1) wantHeaders(key string) map[string]string {
	return map[string]string{"x-api-key": key, "Authorization": "", "anthropic-version": "2023-06-01"}
}

func (s anthropicV1) system(opts convoOptions) []anthropicv1.TextBlockParam {
	var sys []anthropicv1.TextBlockParam
	for _, b := range opts.system {
		p := anthropicv1.TextBlockParam{Text: b.text}
		if b.cache {
			p.CacheControl = anthropicv1.NewCacheControlEphemeralParam()
		}
		sys = append(sys, p)
	}
	return sys
}

func (s anthropicV1) conversation(opts convoOptions) anthropicConvo {
	p := anthropicv1.MessageNewParams{Model: anthropicv1.Model(opts.model), MaxTokens: opts.maxTokens, System: s.system(opts)}
	for _, tl := range opts.tools {
		p.Tools = append(p.Tools, anthropicv1.ToolUnionParam{OfTool: &anthropicv1.ToolParam{
			Name: tl.name, Description: anthropicv1.String(tl.description),
			InputSchema: anthropicv1.ToolInputSchemaParam{Properties: tl.properties, Required: tl.required},
		}})
	}
	if opts.thinking > 0 {
		p.Thinking = anthropicv1.ThinkingConfigParamOfEnabled(opts.thinking)
	}
	return &convoV1{c: s.c, p: p}
}

func (s anthropicV1) countTokens(model, system, text string) (int64, error) {
	n, err := s.c.Messages.CountTokens(context.Background(), anthropicv1.MessageCountTokensParams{
		Model:    anthropicv1.Model(model),
		System:   anthropicv1.MessageCountTokensParamsSystemUnion{OfTextBlockArray: []anthropicv1.TextBlockParam{{Text: system}}},
		Messages: []anthropicv1.MessageParam{anthropicv1.NewUserMessage(anthropicv1.NewTextBlock(text))},
	})
	if err != nil {
		return 0, s.apiError(err)
	}
	return n.InputTokens, nil
}

// apiError turns the SDK's error into the neutral form the tests compare.
func (s anthropicV1) apiError(err error) error {
	var e *anthropicv1.Error
	if errors.As(err, &e) {
		return &anthropicAPIError{status: e.StatusCode, typ: string(e.Type()), raw: e.RawJSON(), err: err}
	}
	return err
}

// convoV1 is one conversation: its parameters and its history so far.
type convoV1 struct {
	c anthropicv1.Client
	p anthropicv1.MessageNewParams
}

func (c *convoV1) user(text, pngB64 string) {
	blocks := []anthropicv1.ContentBlockParamUnion{anthropicv1.NewTextBlock(text)}
	if pngB64 != "" {
		blocks = append(blocks, anthropicv1.NewImageBlockBase64("image/png", pngB64))
	}
	c.p.Messages = append(c.p.Messages, anthropicv1.NewUserMessage(blocks...))
}

func (c *convoV1) toolResults(rs ...toolResult) {
	var blocks []anthropicv1.ContentBlockParamUnion
	for _, r := range rs {
		blocks = append(blocks, anthropicv1.NewToolResultBlock(r.id, r.content, r.isError))
	}
	c.p.Messages = append(c.p.Messages, anthropicv1.NewUserMessage(blocks...))
}

func (c *convoV1) send(stream bool) (anthropicAnswer, error) {
	ctx := context.Background()
	var msg anthropicv1.Message
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
			return anthropicAnswer{events: events}, anthropicV1{}.apiError(err)
		}
	} else {
		m, err := c.c.Messages.New(ctx, c.p)
		if err != nil {
			return anthropicAnswer{}, anthropicV1{}.apiError(err)
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
