// Package gemini speaks Google's Gemini Developer API (generativelanguage.googleapis.com).
//
// It has two roles. As a backend, Client translates canonical requests into generateContent /
// streamGenerateContent calls and their answers back into canonical responses and stream events,
// and forwards native Gemini bodies for the Gemini front door. As a front-door codec, DecodeRequest,
// EncodeResponse, StreamEncoder, EncodeError and EncodeModels let the gateway serve the native Gemini
// API (as used by @google/genai and google.golang.org/genai) over any backend, and PeekRequest,
// RewriteRequest and UsageFromChunk apply policy to Gemini bodies forwarded as they are.
//
// The upstream key only ever travels in the x-goog-api-key header, never in a URL.
package gemini

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

// DefaultBaseURL is the Gemini Developer API.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// Client is the Gemini backend of one gateway client.
type Client struct {
	cfg providers.Config
	// root is the versioned API root, e.g. https://generativelanguage.googleapis.com/v1beta.
	root string
	// random returns toolIDRandLen characters for ids; now stamps responses. Tests replace both.
	random func() string
	now    func() time.Time
	key    providers.KeyHeader // x-goog-api-key
}

var (
	_ providers.Provider     = (*Client)(nil)
	_ providers.Forwarder    = (*Client)(nil)
	_ providers.Embedder     = (*Client)(nil)
	_ providers.TokenCounter = (*Client)(nil)
)

// New builds a client. cfg.BaseURL defaults to DefaultBaseURL; a base that already ends in
// /v1beta or /v1 is used as the API root, otherwise /v1beta is appended. It returns a
// KindBadRequest *providers.Error when the base URL is not an absolute http(s) URL.
func New(cfg providers.Config) (*Client, error) {
	if cfg.Backend == "" {
		cfg.Backend = "gemini"
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, providers.Errorf(providers.KindBadRequest, "gemini: base URL must be an absolute http(s) URL")
	}
	u.RawQuery, u.Fragment = "", ""
	root := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(root, "/v1beta") && !strings.HasSuffix(root, "/v1") {
		root += "/v1beta"
	}
	return &Client{
		cfg:    cfg,
		root:   root,
		random: func() string { return randomToken(toolIDRandLen) },
		now:    time.Now,
		key:    providers.NewKeyHeader("x-goog-api-key", "", cfg.APIKey),
	}, nil
}

// Chat calls generateContent.
func (c *Client) Chat(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	path, body, err := c.generateBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, http.MethodPost, path+":generateContent", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.asError(err)
	}
	var r gResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, malformed(err.Error())
	}
	if r.Error != nil {
		return nil, errorFrom(r.Error, http.StatusBadGateway, "")
	}
	out, err := decodeResponse(&r, modelName(req.Model), c.random)
	if err != nil {
		return nil, err
	}
	out.Created = c.now().Unix()
	return out, nil
}

// Stream calls streamGenerateContent?alt=sse. Errors before the first byte (status, unreachable,
// timeout) are returned here; later ones come from the stream's Next.
func (c *Client) Stream(ctx context.Context, req *providers.Request) (providers.Stream, error) {
	path, body, err := c.generateBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, http.MethodPost, path+":streamGenerateContent?alt=sse", body)
	if err != nil {
		return nil, err
	}
	return &stream{
		body: resp.Body,
		sse:  providers.NewSSEReader(resp.Body),
		dec:  streamDecoder{model: modelName(req.Model), random: c.random},
		c:    c,
	}, nil
}

// Models lists the models that can generate content: GET /v1beta/models, following
// nextPageToken, with the "models/" prefix stripped. Models whose supportedGenerationMethods
// lack generateContent (embedding, AQA, imagen-only models) are left out, since the gateway's
// chat endpoints could not use them.
func (c *Client) Models(ctx context.Context) ([]providers.Model, error) {
	var out []providers.Model
	token := ""
	seen := map[string]bool{}
	for page := 0; page < 100; page++ {
		path := "models?pageSize=1000"
		if token != "" {
			path += "&pageToken=" + url.QueryEscape(token)
		}
		var list gModelList
		if err := c.getJSON(ctx, path, &list); err != nil {
			return nil, err
		}
		for _, m := range list.Models {
			if !contains(m.SupportedGenerationMethods, "generateContent") {
				continue
			}
			out = append(out, providers.Model{ID: modelName(m.Name), DisplayName: m.DisplayName, OwnedBy: "google"})
		}
		if list.NextPageToken == "" || seen[list.NextPageToken] {
			break
		}
		seen[list.NextPageToken] = true
		token = list.NextPageToken
	}
	return out, nil
}

// CountTokens calls countTokens. A request without system instruction and tools is sent as
// {"contents":…}; otherwise as {"generateContentRequest":…} so those are counted too.
func (c *Client) CountTokens(ctx context.Context, req *providers.Request) (int, error) {
	path, err := modelPath(req.Model)
	if err != nil {
		return 0, err
	}
	g, err := encodeRequest(req)
	if err != nil {
		return 0, err
	}
	body := gCountTokensRequest{Contents: g.Contents}
	if g.SystemInstruction != nil || len(g.Tools) > 0 {
		body = gCountTokensRequest{GenerateContentRequest: &gGenerateContentRequest{
			Model: path,
			gRequest: gRequest{Contents: g.Contents, SystemInstruction: g.SystemInstruction, Tools: g.Tools,
				CachedContent: g.CachedContent},
		}}
	}
	resp, err := c.call(ctx, http.MethodPost, path+":countTokens", marshal(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		TotalTokens *int `json:"totalTokens"`
	}
	if err := c.readJSON(resp, &out); err != nil {
		return 0, err
	}
	if out.TotalTokens == nil {
		// Gemini omits zero-valued fields: an empty prompt counts zero tokens.
		return 0, nil
	}
	return *out.TotalTokens, nil
}

// Embed calls batchEmbedContents with one request per input. Gemini reports no token usage for
// embeddings, so Usage is estimated (characters / 4, marked Estimated) unless usageMetadata comes back.
func (c *Client) Embed(ctx context.Context, req *providers.EmbedRequest) (*providers.EmbedResponse, error) {
	path, err := modelPath(req.Model)
	if err != nil {
		return nil, err
	}
	type item struct {
		Model                string   `json:"model"`
		Content              gContent `json:"content"`
		OutputDimensionality int      `json:"outputDimensionality,omitempty"`
	}
	items := make([]item, len(req.Input))
	chars := 0
	for i, s := range req.Input {
		items[i] = item{Model: path, Content: gContent{Parts: []gPart{{Text: s}}}, OutputDimensionality: req.Dimensions}
		chars += len(s)
	}
	resp, err := c.call(ctx, http.MethodPost, path+":batchEmbedContents",
		marshal(struct {
			Requests []item `json:"requests"`
		}{items}))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Embeddings []struct {
			Values []float64 `json:"values"`
		} `json:"embeddings"`
		UsageMetadata *struct {
			PromptTokenCount int `json:"promptTokenCount"`
		} `json:"usageMetadata"`
	}
	if err := c.readJSON(resp, &out); err != nil {
		return nil, err
	}
	if len(out.Embeddings) != len(req.Input) {
		return nil, malformed(fmt.Sprintf("%d embeddings for %d inputs", len(out.Embeddings), len(req.Input)))
	}
	er := &providers.EmbedResponse{Model: modelName(req.Model), Vectors: make([][]float64, len(out.Embeddings))}
	for i, e := range out.Embeddings {
		er.Vectors[i] = e.Values
	}
	if out.UsageMetadata != nil && out.UsageMetadata.PromptTokenCount > 0 {
		er.Usage.InputTokens = out.UsageMetadata.PromptTokenCount
	} else {
		er.Usage = providers.Usage{InputTokens: (chars + 3) / 4, Estimated: true}
	}
	return er, nil
}

// Do sends a native Gemini body to the operation op under the API root, e.g.
// "models/gemini-2.5-flash:streamGenerateContent?alt=sse" (a leading "/" or "v1beta/" is
// accepted). It POSTs body, or GETs when body is nil (model listing). A "key" query parameter
// in op is dropped: the upstream key goes in x-goog-api-key only. stream is informational: op's
// alt=sse already decides between SSE and a JSON array. The response is returned for any status;
// the error is a *providers.Error when no response came.
func (c *Client) Do(ctx context.Context, op string, body []byte, stream bool) (*http.Response, error) {
	op = strings.TrimLeft(op, "/")
	op = strings.TrimPrefix(op, "v1beta/")
	p, query, _ := strings.Cut(op, "?")
	if !safeOpPath(p) {
		return nil, providers.Errorf(providers.KindBadRequest, "invalid Gemini API operation %q (build it with ModelOp)", p)
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, providers.Errorf(providers.KindBadRequest, "invalid query string: %v", err)
		}
		q.Del("key")
		if enc := q.Encode(); enc != "" {
			p += "?" + enc
		}
	}
	method := http.MethodPost
	if body == nil {
		method = http.MethodGet
	}
	return c.send(ctx, method, p, body)
}

// safeOpPath reports whether p stays under the API root as it is: no "." or ".." segment, no
// escapes, backslashes, fragments, spaces or control characters.
func safeOpPath(p string) bool {
	if p == "" || strings.ContainsAny(p, "%\\#") || strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." || strings.HasPrefix(seg, "..:") {
			return false
		}
	}
	return true
}

// generateBody validates the model and encodes the request body.
func (c *Client) generateBody(req *providers.Request) (path string, body []byte, err error) {
	path, err = modelPath(req.Model)
	if err != nil {
		return "", nil, err
	}
	g, err := encodeRequest(req)
	if err != nil {
		return "", nil, err
	}
	return path, marshal(g), nil
}

// modelPath is the resource path of a model ("models/x", or "tunedModels/x" as given). Names are
// restricted to the characters Gemini uses so nothing can change the URL's meaning.
func modelPath(model string) (string, error) {
	if err := providers.CheckModelID(model); err != nil {
		return "", err
	}
	name, prefix := modelName(model), "models/"
	if t, ok := strings.CutPrefix(model, "tunedModels/"); ok {
		name, prefix = t, "tunedModels/"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return "", providers.Errorf(providers.KindBadRequest, "invalid model name %q", model)
		}
	}
	if name == "" {
		return "", providers.Errorf(providers.KindBadRequest, "a model is required")
	}
	return prefix + url.PathEscape(name), nil
}

// ModelOp is the API path of action on model, e.g. "models/gemini-2.5-flash:generateContent" for
// Forward: the model is checked (providers.CheckModelID and Gemini's own narrower alphabet) and
// escaped, so a model id cannot reach another upstream path. Errors are KindBadRequest.
func ModelOp(model, action string) (string, error) {
	path, err := modelPath(model)
	if err != nil {
		return "", err
	}
	return path + ":" + action, nil
}

// send makes one request to the API root with the key in x-goog-api-key.
func (c *Client) send(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	return c.sendBody(ctx, method, path, body, false)
}

// sendBody is send; owned says body is the request's to keep (providers.NewRequestOwned).
func (c *Client) sendBody(ctx context.Context, method, path string, body []byte, owned bool) (*http.Response, error) {
	req, err := providers.NewRequestOwned(ctx, method, c.root+"/"+path, body, owned)
	if err != nil {
		return nil, providers.Errorf(providers.KindBadRequest, "gemini: cannot build the upstream request: %v", err)
	}
	if body != nil {
		providers.SetJSONContentType(req.Header)
	}
	c.key.Set(req.Header)
	return providers.Do(&c.cfg, req)
}

// call is send plus turning a non-2xx status into the upstream's error.
func (c *Client) call(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, statusError(resp)
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	resp, err := c.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return c.readJSON(resp, v)
}

func (c *Client) readJSON(resp *http.Response, v any) error {
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return c.asError(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return malformed(err.Error())
	}
	return nil
}

func (c *Client) asError(err error) *providers.Error {
	e := providers.AsError(err)
	if e.Provider == "" {
		e.Provider = c.cfg.Backend
	}
	return e
}

// statusError reads a Gemini error response ({"error":{"code","message","status"}}, or that
// object inside an array for JSON-array streams). The HTTP status and Retry-After are kept; a
// RetryInfo detail stands in for a missing Retry-After.
func statusError(resp *http.Response) *providers.Error {
	return DecodeError(resp.StatusCode, resp.Header.Get("Retry-After"), providers.ReadAllLimited(resp.Body, 1<<20))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
