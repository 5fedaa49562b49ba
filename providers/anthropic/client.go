// Package anthropic speaks the Anthropic Messages protocol in both of the gateway's roles.
//
// As a backend, Client is the provider for clients whose backend is "anthropic": it translates
// canonical requests to POST /v1/messages (EncodeRequest), answers and SSE streams back to the
// canonical model (DecodeResponse, Client.Stream), lists models, counts tokens, and forwards
// bodies that are already Messages requests (Client.Forward).
//
// As a front door codec, it gives the Anthropic Messages endpoint (used by Claude Code and the
// Anthropic SDKs) what it needs over any backend: DecodeRequest, EncodeResponse, StreamEncoder,
// EncodeError; and, for the same-protocol path, PeekRequest, RewriteRequest and UsageSniffer,
// which touch the caller's bytes as little as possible.
package anthropic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/providers"
)

const (
	// DefaultBaseURL is the upstream when the client's base URL is empty.
	DefaultBaseURL = "https://api.anthropic.com"
	// APIVersion is the anthropic-version header sent upstream.
	APIVersion = "2023-06-01"
	// DefaultMaxTokens is the max_tokens sent when the canonical request sets none: the Messages
	// API requires the field. The gateway's policy normally sets a cap before this matters.
	DefaultMaxTokens = 4096

	// maxErrorBody bounds how much of an upstream error body is read.
	maxErrorBody = 64 << 10
	// maxModelPages bounds GET /v1/models paging against an upstream that never says has_more=false.
	maxModelPages = 50
)

// Client is the Anthropic backend for one client's upstream configuration.
type Client struct {
	cfg  providers.Config
	base string
	key  providers.KeyHeader // x-api-key
}

var (
	_ providers.Provider     = (*Client)(nil)
	_ providers.Forwarder    = (*Client)(nil)
	_ providers.TokenCounter = (*Client)(nil)
)

// New builds the client. cfg.BaseURL may be empty (DefaultBaseURL), end with a slash, or end with
// /v1 (it is dropped: request paths carry their /v1). It returns an error when the base URL is not
// an absolute http(s) URL without query or fragment.
func New(cfg providers.Config) (*Client, error) {
	if cfg.Backend == "" {
		cfg.Backend = "anthropic"
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		// The URL itself is not repeated: a base URL may carry credentials.
		return nil, fmt.Errorf("anthropic: invalid base URL: want http(s)://host[/path] without query")
	}
	base = strings.TrimSuffix(base, "/v1")
	return &Client{cfg: cfg, base: base, key: providers.NewKeyHeader("x-api-key", "", cfg.APIKey)}, nil
}

// ForwardOptions are the caller's headers the Anthropic front door passes on when it forwards a
// Messages body as is.
type ForwardOptions struct {
	// Beta is the caller's anthropic-beta header value; sent upstream when not empty.
	Beta string
	// Version is the caller's anthropic-version; empty means APIVersion. Passing it on keeps a
	// body written for a newer API version valid upstream.
	Version string
	// owned says the body is the request's to keep (providers.NewRequestOwned): a rewrite's.
	owned bool
}

// Do sends body unchanged to POST /v1/{op} ("messages", "messages/count_tokens",
// "messages?beta=true") with the client's upstream auth. See ForwardWith.
func (c *Client) Do(ctx context.Context, op string, body []byte, stream bool) (*http.Response, error) {
	return c.DoWith(ctx, op, body, stream, ForwardOptions{})
}

// DoWith is Do with the caller's anthropic-beta / anthropic-version headers. It
// returns the upstream response for any status (the caller reads and closes the body), or a
// *providers.Error when no response came: KindBadRequest for an op or header value that cannot
// be sent, otherwise what providers.Do returns.
func (c *Client) DoWith(ctx context.Context, op string, body []byte, stream bool, opt ForwardOptions) (*http.Response, error) {
	if op == "" || op[0] == '/' || strings.Contains(op, "..") || strings.ContainsAny(op, "#\\ \r\n\t") || strings.Contains(op, "://") {
		return nil, &providers.Error{Kind: providers.KindBadRequest, Message: fmt.Sprintf("invalid Messages API operation %q", op), Provider: c.cfg.Backend}
	}
	if strings.ContainsAny(opt.Beta, "\r\n") || strings.ContainsAny(opt.Version, "\r\n") {
		return nil, &providers.Error{Kind: providers.KindBadRequest, Message: "invalid anthropic-beta or anthropic-version header value", Provider: c.cfg.Backend}
	}
	return c.send(ctx, http.MethodPost, "/v1/"+op, body, stream, opt)
}

// apiVersionValue is the anthropic-version header of a request that names none, shared.
var apiVersionValue = []string{APIVersion}

// send builds and sends one upstream request.
func (c *Client) send(ctx context.Context, method, path string, body []byte, stream bool, opt ForwardOptions) (*http.Response, error) {
	req, err := providers.NewRequestOwned(ctx, method, c.base+path, body, opt.owned)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInternal, Message: "building the upstream request: " + err.Error(), Provider: c.cfg.Backend}
	}
	providers.SetJSONHeaders(req.Header, body != nil, stream)
	c.key.Set(req.Header)
	if opt.Version == "" {
		req.Header["Anthropic-Version"] = apiVersionValue
	} else {
		req.Header.Set("anthropic-version", opt.Version)
	}
	if opt.Beta != "" {
		req.Header.Set("anthropic-beta", opt.Beta)
	}
	return providers.Do(&c.cfg, req)
}

// call is send plus the status check: an error status becomes the upstream's *providers.Error.
func (c *Client) call(ctx context.Context, method, path string, body []byte, stream bool) (*http.Response, error) {
	resp, err := c.send(ctx, method, path, body, stream, ForwardOptions{})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, c.statusError(resp)
	}
	return resp, nil
}

// statusError reads an upstream error answer and closes it.
func (c *Client) statusError(resp *http.Response) *providers.Error {
	defer resp.Body.Close()
	e := DecodeError(resp.StatusCode, resp.Header.Get("Retry-After"), providers.ReadAllLimited(resp.Body, maxErrorBody))
	e.Provider = c.cfg.Backend
	if c.cfg.APIKey != "" {
		// An upstream (or a proxy in front of it) could echo the key back; it must not travel on.
		e.Message = strings.ReplaceAll(e.Message, c.cfg.APIKey, "[redacted]")
	}
	return e
}

// readBody reads a whole success body; a failed read is the upstream's fault or a timeout.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e := providers.AsError(err)
		e.Provider = c.cfg.Backend
		return nil, e
	}
	return b, nil
}

// Chat sends one non-streamed request. Errors are *providers.Error: the upstream's status and
// message for an error response, KindUpstream (502) for an unreadable answer, and what
// providers.Do returns when the upstream could not be used.
func (c *Client) Chat(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	body, err := encodeRequest(req, false)
	if err != nil {
		return nil, c.tag(err)
	}
	resp, err := c.call(ctx, http.MethodPost, "/v1/messages", body, false)
	if err != nil {
		return nil, err
	}
	raw, err := c.readBody(resp)
	if err != nil {
		return nil, err
	}
	out, err := DecodeResponse(raw)
	if err != nil {
		return nil, c.tag(err)
	}
	// The Messages API does not say when; the canonical model (and OpenAI callers) want a time.
	out.Created = time.Now().Unix()
	return out, nil
}

// Stream sends one streamed request and returns once the first event has been read, so an
// upstream that fails at once (an error status, or an error event before any content) is still
// an error from Stream and the caller may try another backend.
func (c *Client) Stream(ctx context.Context, req *providers.Request) (providers.Stream, error) {
	body, err := encodeRequest(req, true)
	if err != nil {
		return nil, c.tag(err)
	}
	resp, err := c.call(ctx, http.MethodPost, "/v1/messages", body, true)
	if err != nil {
		return nil, err
	}
	s := newStream(resp.Body, c.cfg.Backend)
	if err := s.prime(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Models lists the upstream's models, following has_more / last_id paging.
func (c *Client) Models(ctx context.Context) ([]providers.Model, error) {
	var out []providers.Model
	after := ""
	for range maxModelPages {
		path := "/v1/models?limit=1000"
		if after != "" {
			path += "&after_id=" + url.QueryEscape(after)
		}
		resp, err := c.call(ctx, http.MethodGet, path, nil, false)
		if err != nil {
			return nil, err
		}
		raw, err := c.readBody(resp)
		if err != nil {
			return nil, err
		}
		var page struct {
			Data []struct {
				ID          string `json:"id"`
				DisplayName string `json:"display_name"`
				CreatedAt   string `json:"created_at"`
			} `json:"data"`
			HasMore bool   `json:"has_more"`
			LastID  string `json:"last_id"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, c.tag(invalidResponse("model list", err))
		}
		for _, m := range page.Data {
			pm := providers.Model{ID: m.ID, DisplayName: m.DisplayName, OwnedBy: "anthropic"}
			if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
				pm.Created = t.Unix()
			}
			out = append(out, pm)
		}
		if !page.HasMore || page.LastID == "" || page.LastID == after {
			break
		}
		after = page.LastID
	}
	return out, nil
}

// CountTokens asks POST /v1/messages/count_tokens for the input tokens of req.
func (c *Client) CountTokens(ctx context.Context, req *providers.Request) (int, error) {
	w, err := buildRequest(req, false)
	if err != nil {
		return 0, c.tag(err)
	}
	body, err := json.Marshal(wireCountRequest{Model: w.Model, System: w.System, Messages: w.Messages, Tools: w.Tools,
		ToolChoice: w.ToolChoice, Thinking: w.Thinking, OutputConfig: w.OutputConfig})
	if err != nil {
		return 0, c.tag(&providers.Error{Kind: providers.KindInternal, Message: "encoding the count_tokens request: " + err.Error()})
	}
	resp, err := c.call(ctx, http.MethodPost, "/v1/messages/count_tokens", body, false)
	if err != nil {
		return 0, err
	}
	raw, err := c.readBody(resp)
	if err != nil {
		return 0, err
	}
	var out struct {
		InputTokens *int `json:"input_tokens"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, c.tag(invalidResponse("count_tokens answer", err))
	}
	if out.InputTokens == nil {
		return 0, c.tag(invalidResponse("count_tokens answer", fmt.Errorf("no input_tokens")))
	}
	return *out.InputTokens, nil
}

// tag sets the provider on an *providers.Error built without one.
func (c *Client) tag(err error) error {
	e := providers.AsError(err)
	if e.Provider == "" {
		e.Provider = c.cfg.Backend
	}
	return e
}
