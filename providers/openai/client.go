// Package openai speaks OpenAI Chat Completions, both as the gateway's OpenAI front door (request
// decoding, response and stream encoding, errors) and as the upstream protocol of every
// OpenAI-compatible backend: openai, mistral, perplexity, xai, cohere (compatibility API), azure,
// ollama, lmstudio and openai-compatible. The vendors differ only by a preset (default URL, auth
// style, request quirks); see presetTable.
//
// Two paths reach an upstream. The canonical path (Client.Chat / Client.Stream) translates a
// providers.Request, for front doors of other protocols. The same-protocol path
// (PeekRequest, RewriteRequest, Client.ForwardChat) forwards an OpenAI body close to
// byte-for-byte, changing only what policy and the backend's quirks require.
package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// DefaultAzureAPIVersion is the api-version sent to Azure when the client sets none.
const DefaultAzureAPIVersion = "2024-10-21"

// maxBody bounds a non-streamed upstream answer read into memory.
const maxBody = 64 << 20

var (
	_ providers.Provider  = (*Client)(nil)
	_ providers.Forwarder = (*Client)(nil)
	_ providers.Embedder  = (*Client)(nil)
)

// Client is one OpenAI-compatible upstream for one gateway client. It is safe for concurrent use.
type Client struct {
	cfg    providers.Config
	preset preset
	base   string // base URL without trailing slash
	// azureV1: the Azure base URL is the v1 API (…/openai/v1), which takes the model in the body
	// and no api-version.
	azureV1 bool
	// key is the header that carries the upstream key (api-key for Azure, else a bearer token).
	key providers.KeyHeader
	// chatURL is base + "/chat/completions", the address of nearly every call, made once.
	chatURL string
}

// chatOp is the operation of Chat Completions.
const chatOp = "chat/completions"

// setHeaders sets the headers of an upstream request: its content type when it has a body, what
// it accepts, and the key.
func (c *Client) setHeaders(h http.Header, body []byte, stream bool) {
	providers.SetJSONHeaders(h, body != nil, stream)
	c.key.Set(h)
}

// New builds the client for cfg.Backend, one of Backends(). cfg.BaseURL overrides the preset's
// default base URL and is required for azure (the resource URL, https://NAME.openai.azure.com;
// a …/openai/v1 URL selects Azure's v1 API) and openai-compatible. For azure,
// cfg.AzureAPIVersion defaults to DefaultAzureAPIVersion.
//
// It returns a *providers.Error of KindBadRequest for an unknown backend, a missing base URL or
// one that is not an absolute http(s) URL.
func New(cfg providers.Config) (*Client, error) {
	p, ok := lookupPreset(cfg.Backend)
	if !ok {
		return nil, providers.Errorf(providers.KindBadRequest,
			"backend %q is not served by the OpenAI protocol (known: %s)", cfg.Backend, strings.Join(Backends(), ", "))
	}
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = p.baseURL
	}
	if base == "" {
		return nil, providers.Errorf(providers.KindBadRequest, "backend %s needs a base URL: %s", p.id, p.baseHint)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, providers.Errorf(providers.KindBadRequest,
			"backend %s: base URL %q is not an absolute http(s) URL", p.id, base)
	}
	if u.RawQuery != "" || u.User != nil {
		return nil, providers.Errorf(providers.KindBadRequest,
			"backend %s: the base URL must not carry a query or credentials", p.id)
	}
	base = strings.TrimRight(base, "/")
	c := &Client{cfg: cfg, preset: p, base: base}
	if p.auth == authAPIKey {
		c.key = providers.NewKeyHeader("api-key", "", cfg.APIKey)
	} else {
		c.key = providers.NewKeyHeader("Authorization", "Bearer ", cfg.APIKey)
	}
	if p.azure {
		switch {
		case strings.HasSuffix(base, "/openai/v1"):
			c.azureV1 = true
		default:
			c.base = strings.TrimSuffix(base, "/openai")
		}
		if c.cfg.AzureAPIVersion == "" {
			c.cfg.AzureAPIVersion = DefaultAzureAPIVersion
		}
	}
	c.chatURL = c.base + "/" + chatOp
	return c, nil
}

// Backend returns the provider id the client was built for.
func (c *Client) Backend() string { return c.preset.id }

// endpoint returns the URL of operation op ("chat/completions", "embeddings", "models", …).
// model names the Azure deployment.
func (c *Client) endpoint(op, model string) (string, error) {
	op = strings.TrimPrefix(op, "/")
	if !c.preset.azure || c.azureV1 {
		if op == chatOp {
			return c.chatURL, nil
		}
		return c.base + "/" + op, nil
	}
	path, query, _ := strings.Cut(op, "?")
	var u string
	if path == "models" || strings.HasPrefix(path, "models/") {
		u = c.base + "/openai/" + path
	} else {
		if model == "" {
			return "", providers.Errorf(providers.KindBadRequest, "azure needs a model: the deployment name")
		}
		// The deployment is a path segment: a model id that is ".." or holds "/" must not move the URL.
		if err := providers.CheckModelID(model); err != nil {
			return "", err
		}
		u = c.base + "/openai/deployments/" + url.PathEscape(model) + "/" + path
	}
	v := "api-version=" + url.QueryEscape(c.cfg.AzureAPIVersion)
	if query != "" {
		return u + "?" + query + "&" + v, nil
	}
	return u + "?" + v, nil
}

// Do sends body to operation op (e.g. "chat/completions", "embeddings"; a nil body sends a
// GET, e.g. for "models") with the backend's auth, and returns the upstream response for any
// status: the caller reads and closes the body. No quirk is applied; ForwardChat does that. Errors
// are *providers.Error (unreachable, timeout, cancelled, or an Azure request without a model).
func (c *Client) Do(ctx context.Context, op string, body []byte, stream bool) (*http.Response, error) {
	return c.do(ctx, op, body, stream, false)
}

// do is Do; owned says body is the request's to keep (providers.NewRequestOwned).
func (c *Client) do(ctx context.Context, op string, body []byte, stream, owned bool) (*http.Response, error) {
	model := ""
	if c.preset.azure && !c.azureV1 && body != nil {
		i := jsonscan.SkipSpace(body, 0)
		if i < len(body) && body[i] == '{' {
			model, _ = jsonscan.StringValue(jsonscan.Field(body[i:], "model"))
		}
	}
	u, err := c.endpoint(op, model)
	if err != nil {
		return nil, err
	}
	method := http.MethodPost
	if body == nil {
		method = http.MethodGet
	}
	req, err := providers.NewRequestOwned(ctx, method, u, body, owned)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInternal, Message: "cannot build the upstream request: " + err.Error(),
			Provider: c.preset.id}
	}
	c.setHeaders(req.Header, body, stream)
	return providers.Do(&c.cfg, req)
}

// prepare applies the backend's request quirks to a Chat Completions body.
func (c *Client) prepare(body []byte, stream bool) ([]byte, *exchange, error) {
	x := &exchange{stream: stream}
	if c.preset.request == nil && !c.preset.dropTopK {
		return body, x, nil
	}
	if c.preset.skip != nil && c.preset.skip(body) {
		return body, x, nil
	}
	o, err := jsonscan.ParseObject(body)
	if err != nil {
		return nil, nil, bodyError(body, err)
	}
	x.model, _ = jsonscan.StringValue(o.Get("model"))
	if c.preset.dropTopK {
		o.Del("top_k")
	}
	if c.preset.request != nil {
		if err := c.preset.request(o, x); err != nil {
			return nil, nil, err
		}
	}
	if !o.Changed() {
		return body, x, nil
	}
	return o.Bytes(), x, nil
}

// readBody reads a whole non-streamed answer.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	b, err := providers.ReadBody(resp.Body, resp.ContentLength, maxBody+1)
	return c.checkBody(b, err)
}

// readAnswer reads a whole non-streamed answer into pooled memory when it can (see
// providers.ReadAnswer): the caller releases the buffer once the answer is copied out.
func (c *Client) readAnswer(resp *http.Response) ([]byte, *providers.AnswerBuffer, error) {
	b, buf, err := providers.ReadAnswer(resp.Body, resp.ContentLength, maxBody+1)
	if b, err = c.checkBody(b, err); err != nil {
		buf.Release()
		return nil, nil, err
	}
	return b, buf, nil
}

// checkBody turns a failed or oversized read of an answer into a *providers.Error.
func (c *Client) checkBody(b []byte, err error) ([]byte, error) {
	if err != nil {
		e := providers.AsError(err)
		e.Provider = c.preset.id
		return nil, e
	}
	if len(b) > maxBody {
		return nil, &providers.Error{Kind: providers.KindUpstream, Message: "upstream answer is larger than 64 MiB",
			Provider: c.preset.id}
	}
	return b, nil
}

// statusError reads an error response into a *providers.Error and closes its body.
func (c *Client) statusError(resp *http.Response) *providers.Error {
	defer resp.Body.Close()
	return c.upstreamError(resp.StatusCode, resp.Header, providers.ReadAllLimited(resp.Body, 1<<20))
}

func ok(status int) bool { return status >= 200 && status < 300 }

// isEventStream reports whether a response is an SSE stream (a missing Content-Type counts).
func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "text/event-stream"
}

// Chat sends a canonical request and returns the complete answer. Errors are *providers.Error.
func (c *Client) Chat(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	r := *req
	r.Stream, r.IncludeUsage = false, false
	body, err := EncodeRequest(&r)
	if err != nil {
		return nil, err
	}
	body, x, err := c.prepare(body, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, chatOp, body, false)
	if err != nil {
		return nil, err
	}
	if !ok(resp.StatusCode) {
		return nil, c.statusError(resp)
	}
	defer resp.Body.Close()
	data, err := c.readBody(resp)
	if err != nil {
		return nil, err
	}
	out, err := DecodeResponse(x.mapIDsBack(data))
	if err != nil {
		e := providers.AsError(err)
		e.Provider = c.preset.id
		e.Message = c.scrub(e.Message)
		return nil, e
	}
	if out.Model == "" {
		out.Model = req.Model
	}
	return out, nil
}

// Stream sends a canonical request with streaming (always asking for the usage chunk) and returns
// once the first event has arrived, so a failure before any answer — including an error event
// first thing in the stream — is returned here and the caller may still try another backend.
// Errors are *providers.Error.
func (c *Client) Stream(ctx context.Context, req *providers.Request) (providers.Stream, error) {
	r := *req
	r.Stream = true
	body, err := EncodeRequest(&r)
	if err != nil {
		return nil, err
	}
	body, x, err := c.prepare(body, true)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(ctx, chatOp, body, true)
	if err != nil {
		return nil, err
	}
	if !ok(resp.StatusCode) {
		return nil, c.statusError(resp)
	}
	var s *chunkStream
	if isEventStream(resp.Header) {
		s = newChunkStream(resp.Body, c, x)
	} else {
		// The upstream ignored "stream": replay its complete answer as a stream.
		sse, err := c.jsonAsSSE(resp, x)
		if err != nil {
			return nil, err
		}
		s = newChunkStream(io.NopCloser(bytes.NewReader(sse)), c, nil)
	}
	for s.qi >= len(s.queue) {
		if err := s.read(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// jsonAsSSE reads a complete JSON answer given to a stream request and renders it as the
// equivalent event stream; an error envelope becomes the error. It closes resp.Body.
func (c *Client) jsonAsSSE(resp *http.Response, x *exchange) ([]byte, error) {
	defer resp.Body.Close()
	data, err := c.readBody(resp)
	if err != nil {
		return nil, err
	}
	full, err := DecodeResponse(x.mapIDsBack(data))
	if err != nil {
		e := providers.AsError(err)
		e.Provider = c.preset.id
		e.Message = c.scrub(e.Message)
		return nil, e
	}
	enc := NewStreamEncoder(full.ID, full.Model, full.Created, true)
	var out []byte
	for _, ev := range responseEvents(full) {
		out = enc.Encode(out, ev)
	}
	return enc.Done(out), nil
}

// responseEvents expresses a complete answer as the stream events that would have produced it.
func responseEvents(r *providers.Response) []providers.StreamEvent {
	evs := []providers.StreamEvent{{Kind: providers.EventStart, ID: r.ID, Model: r.Model}}
	for _, ch := range r.Choices {
		if ch.Message.Reasoning != "" {
			evs = append(evs, providers.StreamEvent{Kind: providers.EventReasoning, Choice: ch.Index,
				Text: ch.Message.Reasoning})
		}
		if t := ch.Message.Text(); t != "" {
			evs = append(evs, providers.StreamEvent{Kind: providers.EventText, Choice: ch.Index, Text: t})
		}
		for i, tc := range ch.Message.ToolCalls {
			evs = append(evs, providers.StreamEvent{Kind: providers.EventToolCall, Choice: ch.Index, ToolIndex: i,
				ToolID: tc.ID, ToolName: tc.Name, Args: tc.Arguments})
		}
		evs = append(evs, providers.StreamEvent{Kind: providers.EventFinish, Choice: ch.Index,
			FinishReason: ch.FinishReason})
	}
	u := r.Usage
	return append(evs, providers.StreamEvent{Kind: providers.EventUsage, Usage: &u})
}

// Models lists the backend's models with GET {base}/models (Azure: the resource's models, which
// match deployment names only when deployments are named after their model). Cohere's list comes
// from its native API (chat and embed models). Perplexity has no list endpoint: Models returns its
// documented models (sonar, sonar-pro, sonar-reasoning-pro, sonar-deep-research) without calling
// the upstream, so for Perplexity it does not verify the key. Errors are *providers.Error.
func (c *Client) Models(ctx context.Context) ([]providers.Model, error) {
	if c.preset.models != nil {
		return c.preset.models(ctx, c)
	}
	return c.getModels(ctx, "models")
}

// getJSON GETs op and returns the body of a 2xx answer.
func (c *Client) getJSON(ctx context.Context, op string) ([]byte, error) {
	resp, err := c.Do(ctx, op, nil, false)
	if err != nil {
		return nil, err
	}
	if !ok(resp.StatusCode) {
		return nil, c.statusError(resp)
	}
	defer resp.Body.Close()
	return c.readBody(resp)
}

func (c *Client) getModels(ctx context.Context, op string) ([]providers.Model, error) {
	data, err := c.getJSON(ctx, op)
	if err != nil {
		return nil, err
	}
	type wireModel struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	var list struct {
		Data   []wireModel `json:"data"`
		Models []wireModel `json:"models"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, &providers.Error{Kind: providers.KindUpstream, Provider: c.preset.id,
			Message: "upstream sent a malformed model list: " + jsonMessage(err)}
	}
	out := make([]providers.Model, 0, len(list.Data)+len(list.Models))
	for _, m := range append(list.Data, list.Models...) {
		id := m.ID
		if id == "" {
			id = m.Name
		}
		if id != "" {
			out = append(out, providers.Model{ID: id, Created: m.Created, OwnedBy: m.OwnedBy})
		}
	}
	return out, nil
}

func perplexityModels(context.Context, *Client) ([]providers.Model, error) {
	ids := []string{"sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research"}
	out := make([]providers.Model, len(ids))
	for i, id := range ids {
		out[i] = providers.Model{ID: id, OwnedBy: "perplexity"}
	}
	return out, nil
}

// cohereModels lists chat and embed models from Cohere's native API: the compatibility API has no
// model list. The native API lives at the same host, outside /compatibility.
func cohereModels(ctx context.Context, c *Client) ([]providers.Model, error) {
	root := *c
	root.base = strings.TrimSuffix(strings.TrimSuffix(c.base, "/v1"), "/compatibility")
	data, err := root.getJSON(ctx, "v1/models?page_size=1000")
	if err != nil {
		return nil, err
	}
	var list struct {
		Models []struct {
			Name      string   `json:"name"`
			Endpoints []string `json:"endpoints"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, &providers.Error{Kind: providers.KindUpstream, Provider: c.preset.id,
			Message: "upstream sent a malformed model list: " + jsonMessage(err)}
	}
	var out []providers.Model
	for _, m := range list.Models {
		if m.Name != "" && (slices.Contains(m.Endpoints, "chat") || slices.Contains(m.Endpoints, "embed")) {
			out = append(out, providers.Model{ID: m.Name, OwnedBy: "cohere"})
		}
	}
	return out, nil
}

// Embed sends POST {base}/embeddings. req.Raw, the caller's OpenAI body, is forwarded with its
// model replaced by req.Model (and fields the backend rejects dropped); without Raw a body is built
// from Model, Input and Dimensions. Vectors come back in input order (float or base64 encoding);
// Raw holds the upstream body. Errors are *providers.Error.
func (c *Client) Embed(ctx context.Context, req *providers.EmbedRequest) (*providers.EmbedResponse, error) {
	var body []byte
	if len(req.Raw) > 0 {
		o, err := jsonscan.ParseObject(req.Raw)
		if err != nil {
			return nil, bodyError(req.Raw, err)
		}
		if req.Model != "" {
			o.Set("model", appendString(nil, req.Model))
		}
		for _, k := range c.preset.embedDrop {
			o.Del(k)
		}
		body = req.Raw
		if o.Changed() {
			body = o.Bytes()
		}
	} else {
		w := struct {
			Model      string   `json:"model"`
			Input      []string `json:"input"`
			Dimensions int      `json:"dimensions,omitempty"`
		}{req.Model, req.Input, req.Dimensions}
		if slices.Contains(c.preset.embedDrop, "dimensions") {
			w.Dimensions = 0
		}
		body, _ = json.Marshal(w)
	}
	resp, err := c.Do(ctx, "embeddings", body, false)
	if err != nil {
		return nil, err
	}
	if !ok(resp.StatusCode) {
		return nil, c.statusError(resp)
	}
	defer resp.Body.Close()
	data, err := c.readBody(resp)
	if err != nil {
		return nil, err
	}
	var w struct {
		Model string `json:"model"`
		Data  []struct {
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Usage json.RawMessage `json:"usage"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, &providers.Error{Kind: providers.KindUpstream, Provider: c.preset.id,
			Message: "upstream sent malformed embeddings: " + jsonMessage(err)}
	}
	out := &providers.EmbedResponse{Model: w.Model, Raw: data, Vectors: make([][]float64, len(w.Data))}
	for i, d := range w.Data {
		vec, err := decodeEmbedding(d.Embedding)
		if err != nil {
			return nil, &providers.Error{Kind: providers.KindUpstream, Provider: c.preset.id,
				Message: "upstream sent a malformed embedding: " + err.Error()}
		}
		at := d.Index
		if at < 0 || at >= len(out.Vectors) || out.Vectors[at] != nil {
			at = i
		}
		out.Vectors[at] = vec
	}
	if u, ok := parseUsage(w.Usage); ok {
		out.Usage = u
		if out.Usage.InputTokens == 0 {
			out.Usage.InputTokens, _ = jsonscan.IntValue(jsonscan.Field(w.Usage, "total_tokens"))
		}
	}
	if out.Model == "" {
		out.Model = req.Model
	}
	return out, nil
}

// decodeEmbedding reads a float array or a base64 string of little-endian float32s.
func decodeEmbedding(raw json.RawMessage) ([]float64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		s, _ := jsonscan.StringValue(raw)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		if len(b)%4 != 0 {
			return nil, providers.Errorf(providers.KindUpstream, "base64 embedding is not a float32 array")
		}
		v := make([]float64, len(b)/4)
		for i := range v {
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:])))
		}
		return v, nil
	}
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}
