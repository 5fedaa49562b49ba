package routes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// backends are the provider ids of SPEC §5 a client may use.
func backends() []string {
	return []string{"gemini", "openai", "anthropic", "mistral", "perplexity", "xai", "cohere", "azure", "ollama",
		"lmstudio", "openai-compatible"}
}

// backendNeedsBaseURL lists the backends without a default base URL.
func backendNeedsBaseURL(b string) bool { return b == "azure" || b == "openai-compatible" }

// clientJSON is a client as the admin API returns it. The upstream key is never in it, only its
// hint; Key is set only in the answer to create and rotate-key, the one time a key is shown.
type clientJSON struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	Active          bool   `json:"active"`
	Backend         string `json:"backend"`
	BaseURL         string `json:"base_url"`
	UpstreamKeyHint string `json:"upstream_key_hint"`
	// UpstreamKeyHints are the hints of every key of the client's own backend, in turn order.
	UpstreamKeyHints []string          `json:"upstream_key_hints"`
	Fallbacks        []fallbackJSON    `json:"fallbacks"`
	AzureAPIVersion  string            `json:"azure_api_version"`
	DefaultModel     string            `json:"default_model"`
	ModelWhitelist   []string          `json:"model_whitelist"`
	ModelsCache      []string          `json:"models_cache"`
	ModelsFetchedAt  *time.Time        `json:"models_fetched_at"`
	SystemPrompt     string            `json:"system_prompt"`
	ToolMode         string            `json:"tool_mode"`
	MCPServers       []string          `json:"mcp_servers"`
	PromptCache      string            `json:"prompt_cache"`
	ResponsesAPI     string            `json:"responses_api"`
	KeyPrefix        string            `json:"key_prefix"`
	KeyHint          string            `json:"key_hint"`
	RateLimit        gateway.RateLimit `json:"rate_limit"`
	Quota            gateway.Quota     `json:"quota"`
	Budget           budgetJSON        `json:"budget"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
	LastUsedAt       *time.Time        `json:"last_used_at"`
	Key              string            `json:"key,omitempty"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func toClientJSON(c *db.Client) clientJSON {
	return clientJSON{
		ID: c.ID, Name: c.Name, Description: c.Description, Active: c.Active,
		Backend: c.Backend, BaseURL: c.BaseURL, UpstreamKeyHint: c.UpstreamKeyHint, AzureAPIVersion: c.AzureAPIVersion,
		UpstreamKeyHints: upstreamKeyHints(c), Fallbacks: toFallbacksJSON(c.Fallbacks),
		DefaultModel: c.DefaultModel, ModelWhitelist: nonNil(c.ModelWhitelist), ModelsCache: nonNil(c.ModelsCache),
		ModelsFetchedAt: timePtr(c.ModelsFetchedAt), SystemPrompt: c.SystemPrompt, ToolMode: c.ToolMode,
		MCPServers: nonNil(c.MCPServers), PromptCache: c.PromptCache, ResponsesAPI: c.ResponsesAPI, KeyPrefix: c.KeyPrefix, KeyHint: c.KeyHint,
		RateLimit: gateway.RateLimit{
			RequestsPerMinute: c.RequestsPerMinute, RequestsPerHour: c.RequestsPerHour, RequestsPerDay: c.RequestsPerDay,
		},
		Quota: gateway.Quota{
			MaxInputTokensPerDay: c.MaxInputTokensPerDay, MaxOutputTokensPerDay: c.MaxOutputTokensPerDay,
			MaxRequestsPerDay: c.MaxRequestsPerDay, MaxInputTokens: c.MaxInputTokens, MaxOutputTokens: c.MaxOutputTokens,
		},
		Budget:    toBudgetJSON(c),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), LastUsedAt: timePtr(c.LastUsedAt),
	}
}

// clientInput is the body of create and update: every field optional, so an update changes only
// what it names and a create takes the defaults for the rest.
type clientInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Active      *bool   `json:"active"`
	Backend     *string `json:"backend"`
	BaseURL     *string `json:"base_url"`
	UpstreamKey *string `json:"upstream_key"`
	// UpstreamKeys replaces every key of the client's own backend (write-only; used in turn).
	UpstreamKeys *[]string        `json:"upstream_keys"`
	Fallbacks    *[]fallbackInput `json:"fallbacks"`
	// formKeys is the client form's edit of the further keys of the client's own backend.
	formKeys        *formKeyEdit
	AzureAPIVersion *string         `json:"azure_api_version"`
	DefaultModel    *string         `json:"default_model"`
	ModelWhitelist  *[]string       `json:"model_whitelist"`
	SystemPrompt    *string         `json:"system_prompt"`
	ToolMode        *string         `json:"tool_mode"`
	MCPServers      *[]string       `json:"mcp_servers"`
	PromptCache     *string         `json:"prompt_cache"`
	ResponsesAPI    *string         `json:"responses_api"`
	KeyPrefix       *string         `json:"key_prefix"`
	RateLimit       *rateLimitInput `json:"rate_limit"`
	Quota           *quotaInput     `json:"quota"`
	Budget          *budgetInput    `json:"budget"`
}

type rateLimitInput struct {
	RequestsPerMinute *int64 `json:"requests_per_minute"`
	RequestsPerHour   *int64 `json:"requests_per_hour"`
	RequestsPerDay    *int64 `json:"requests_per_day"`
}

type quotaInput struct {
	MaxInputTokensPerDay  *int64 `json:"max_input_tokens_per_day"`
	MaxOutputTokensPerDay *int64 `json:"max_output_tokens_per_day"`
	MaxRequestsPerDay     *int64 `json:"max_requests_per_day"`
	MaxInputTokens        *int64 `json:"max_input_tokens"`
	MaxOutputTokens       *int64 `json:"max_output_tokens"`
}

// decodeJSON reads a JSON body strictly (unknown fields are an error, so a typo is not silently
// ignored). An empty body decodes as {} when allowEmpty. Errors are 400 with the parser's message.
func decodeJSON(c *fiber.Ctx, v any, allowEmpty bool) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return providers.Errorf(providers.KindBadRequest, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return providers.Errorf(providers.KindBadRequest, "invalid JSON body: %s", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return providers.Errorf(providers.KindBadRequest, "invalid JSON body: unexpected data after the object")
	}
	return nil
}

// newClientFromDefaults is a client before the create body is applied: active, passthrough, and
// the config's default limits.
func newClientFromDefaults(d gateway.Limits) *db.Client {
	return &db.Client{
		Active:       true,
		ToolMode:     db.ToolModePassthrough,
		PromptCache:  db.PromptCacheAuto,
		ResponsesAPI: db.ResponsesAPITranslate,

		RequestsPerMinute: d.RateLimit.RequestsPerMinute,
		RequestsPerHour:   d.RateLimit.RequestsPerHour,
		RequestsPerDay:    d.RateLimit.RequestsPerDay,

		MaxInputTokensPerDay:  d.Quota.MaxInputTokensPerDay,
		MaxOutputTokensPerDay: d.Quota.MaxOutputTokensPerDay,
		MaxRequestsPerDay:     d.Quota.MaxRequestsPerDay,
		MaxInputTokens:        d.Quota.MaxInputTokens,
		MaxOutputTokens:       d.Quota.MaxOutputTokens,
	}
}

const (
	maxNameLen        = 200
	maxDescriptionLen = 2000
	maxModelLen       = providers.MaxModelIDLen
	maxModels         = 1000
	maxPromptLen      = 100_000
	maxUpstreamKeyLen = 4096
)

// apply validates in and writes it onto c. It returns the names of the fields that changed (for
// the audit log) or fieldErrors. The upstream key is encrypted with keyring; a "" upstream_key
// removes it.
func (in *clientInput) apply(c *db.Client, keyring *db.Keyring) (changed []string, err error) {
	bad := fieldErrors{}
	set := func(field string, dst *string, src *string, limit int, multiline bool) {
		if src == nil {
			return
		}
		v := strings.TrimSpace(*src)
		if msg := textError(v, multiline); msg != "" {
			bad[field] = msg
			return
		}
		if len(v) > limit {
			bad[field] = fmt.Sprintf("must be at most %d characters", limit)
			return
		}
		if *dst != v {
			*dst = v
			changed = append(changed, field)
		}
	}
	setLimit := func(field string, dst *int64, src *int64) {
		if src == nil {
			return
		}
		if *src < 0 {
			bad[field] = "must be 0 (no limit) or more"
			return
		}
		if *dst != *src {
			*dst = *src
			changed = append(changed, field)
		}
	}

	set("name", &c.Name, in.Name, maxNameLen, false)
	set("description", &c.Description, in.Description, maxDescriptionLen, true)
	if in.Active != nil && *in.Active != c.Active {
		c.Active = *in.Active
		changed = append(changed, "active")
	}
	set("backend", &c.Backend, in.Backend, 40, false)
	set("base_url", &c.BaseURL, in.BaseURL, 2000, false)
	set("azure_api_version", &c.AzureAPIVersion, in.AzureAPIVersion, 40, false)
	set("default_model", &c.DefaultModel, in.DefaultModel, maxModelLen, false)
	if _, done := bad["default_model"]; !done && in.DefaultModel != nil && c.DefaultModel != "" {
		if err := providers.CheckModelID(c.DefaultModel); err != nil {
			bad["default_model"] = providers.AsError(err).Message
		}
	}
	set("system_prompt", &c.SystemPrompt, in.SystemPrompt, maxPromptLen, true)
	set("tool_mode", &c.ToolMode, in.ToolMode, 40, false)
	set("prompt_cache", &c.PromptCache, in.PromptCache, 40, false)
	set("responses_api", &c.ResponsesAPI, in.ResponsesAPI, 40, false)

	if in.ModelWhitelist != nil {
		var list []string
		for _, m := range *in.ModelWhitelist {
			m = strings.TrimSpace(m)
			if m == "" || slices.Contains(list, m) {
				continue
			}
			if msg := textError(m, false); msg != "" {
				bad["model_whitelist"] = "each model " + msg
			} else if err := providers.CheckModelID(m); err != nil {
				bad["model_whitelist"] = providers.AsError(err).Message
			}
			list = append(list, m)
		}
		if len(list) > maxModels {
			bad["model_whitelist"] = fmt.Sprintf("at most %d models", maxModels)
		}
		if !slices.Equal(list, c.ModelWhitelist) {
			c.ModelWhitelist = list
			changed = append(changed, "model_whitelist")
		}
	}

	if in.MCPServers != nil {
		var list []string
		for _, m := range *in.MCPServers {
			m = strings.TrimSpace(m)
			if m == "" || slices.Contains(list, m) {
				continue
			}
			if !gateway.MCPServerName.MatchString(m) {
				bad["mcp_servers"] = fmt.Sprintf("%q is not an MCP server name", m)
			}
			list = append(list, m)
		}
		if len(list) > 100 {
			bad["mcp_servers"] = "at most 100 servers"
		}
		if !slices.Equal(list, c.MCPServers) {
			c.MCPServers = list
			changed = append(changed, "mcp_servers")
		}
	}

	if r := in.RateLimit; r != nil {
		setLimit("rate_limit.requests_per_minute", &c.RequestsPerMinute, r.RequestsPerMinute)
		setLimit("rate_limit.requests_per_hour", &c.RequestsPerHour, r.RequestsPerHour)
		setLimit("rate_limit.requests_per_day", &c.RequestsPerDay, r.RequestsPerDay)
	}
	if q := in.Quota; q != nil {
		setLimit("quota.max_input_tokens_per_day", &c.MaxInputTokensPerDay, q.MaxInputTokensPerDay)
		setLimit("quota.max_output_tokens_per_day", &c.MaxOutputTokensPerDay, q.MaxOutputTokensPerDay)
		setLimit("quota.max_requests_per_day", &c.MaxRequestsPerDay, q.MaxRequestsPerDay)
		setLimit("quota.max_input_tokens", &c.MaxInputTokens, q.MaxInputTokens)
		setLimit("quota.max_output_tokens", &c.MaxOutputTokens, q.MaxOutputTokens)
	}
	in.Budget.apply(c, bad, &changed)

	if in.UpstreamKey != nil && in.UpstreamKeys == nil {
		k := strings.TrimSpace(*in.UpstreamKey)
		switch msg := checkUpstreamKey(k); {
		case msg != "":
			bad["upstream_key"] = msg
		case k == "":
			if len(c.UpstreamKey) > 0 {
				c.UpstreamKey, c.UpstreamKeyHint = nil, ""
				changed = append(changed, "upstream_key")
			}
		default:
			ct, err := keyring.Encrypt(k)
			if err != nil {
				return nil, err
			}
			c.UpstreamKey, c.UpstreamKeyHint = ct, db.Hint(k)
			changed = append(changed, "upstream_key")
		}
	}

	if ok, err := in.applyUpstreamKeys(c, keyring, bad); err != nil {
		return nil, err
	} else if ok {
		changed = append(changed, "upstream_keys")
	}
	if ok, err := in.applyFormKeys(c, keyring, bad); err != nil {
		return nil, err
	} else if ok {
		changed = append(changed, "upstream_keys")
	}
	if ok, err := in.applyFallbacks(c, keyring, bad); err != nil {
		return nil, err
	} else if ok {
		changed = append(changed, "fallbacks")
	}

	validateClient(c, bad)
	if len(bad) > 0 {
		return nil, bad
	}
	return changed, nil
}

// responsesAPIBackends are the backends whose responses_api may be native: servers that may or
// may not implement the Responses API (the openai, xai and azure backends always forward it).
var responsesAPIBackends = []string{"openai-compatible", "ollama", "lmstudio"}

// validateClient checks the rules that involve the whole client.
func validateClient(c *db.Client, bad fieldErrors) {
	if _, done := bad["name"]; !done && c.Name == "" {
		bad["name"] = "is required"
	}
	if _, done := bad["backend"]; !done {
		switch {
		case c.Backend == "":
			bad["backend"] = "is required: one of " + strings.Join(backends(), ", ")
		case !slices.Contains(backends(), c.Backend):
			bad["backend"] = fmt.Sprintf("%q is not a known provider; use one of %s", c.Backend, strings.Join(backends(), ", "))
		}
	}
	if _, done := bad["base_url"]; !done {
		if c.BaseURL == "" {
			if backendNeedsBaseURL(c.Backend) {
				bad["base_url"] = "is required for backend " + c.Backend
			}
		} else if msg := checkBaseURL(c.BaseURL); msg != "" {
			bad["base_url"] = msg
		}
	}
	// Azure's v1 API (a base URL ending in /openai/v1) takes no api-version; the older
	// deployment API needs one.
	if c.Backend == "azure" && c.AzureAPIVersion == "" && !strings.HasSuffix(strings.TrimRight(c.BaseURL, "/"), "/openai/v1") {
		if _, done := bad["azure_api_version"]; !done {
			bad["azure_api_version"] = "is required for backend azure (e.g. 2024-10-21), unless base_url ends in /openai/v1"
		}
	}
	if _, done := bad["tool_mode"]; !done {
		switch c.ToolMode {
		case db.ToolModePassthrough, db.ToolModeGateway:
		default:
			bad["tool_mode"] = fmt.Sprintf("%q is not a tool mode; use \"passthrough\" (tool calls go back to the client) "+
				"or \"gateway\" (the gateway runs the tools of the allowed MCP servers)", c.ToolMode)
		}
	}
	if _, done := bad["prompt_cache"]; !done && c.PromptCache != db.PromptCacheAuto && c.PromptCache != db.PromptCacheOff {
		bad["prompt_cache"] = fmt.Sprintf("%q is not a prompt cache mode; use \"auto\" (automatic Anthropic cache breakpoints) or \"off\"", c.PromptCache)
	}
	if _, done := bad["responses_api"]; !done {
		switch c.ResponsesAPI {
		case db.ResponsesAPITranslate:
		case db.ResponsesAPINative:
			if !slices.Contains(responsesAPIBackends, c.Backend) {
				bad["responses_api"] = fmt.Sprintf("\"native\" is for backends %s; backend %s answers /v1/responses its own way: use \"translate\"",
					strings.Join(responsesAPIBackends, ", "), c.Backend)
			}
		default:
			bad["responses_api"] = fmt.Sprintf("%q is not a Responses API mode; use \"translate\" (to Chat Completions) or \"native\" (forwarded to the backend's /responses)", c.ResponsesAPI)
		}
	}
	if c.DefaultModel != "" && len(c.ModelWhitelist) > 0 && !slices.Contains(c.ModelWhitelist, c.DefaultModel) {
		if _, done := bad["default_model"]; !done {
			bad["default_model"] = fmt.Sprintf("%q is not in model_whitelist", c.DefaultModel)
		}
	}
}

func checkBaseURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a valid URL: " + err.Error()
	case u.Scheme != "http" && u.Scheme != "https":
		return "must start with http:// or https://"
	case u.Host == "":
		return "must include a host"
	case u.User != nil:
		return "must not contain credentials; put the key in upstream_key"
	case u.RawQuery != "" || u.Fragment != "":
		return "must not contain a query or fragment"
	}
	return ""
}

// pathID parses the :id route parameter of a row of kind what ("client", "MCP server"): anything
// but a positive number is that row's 404.
func pathID(c *fiber.Ctx, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &gateway.Refusal{Kind: providers.KindNotFound, Code: "not_found", Message: "no " + what + " with id " + strconv.Quote(c.Params("id"))}
	}
	return id, nil
}

// noSuch is the 404 of a row of kind what that does not exist.
func noSuch(what string, id int64) error {
	return &gateway.Refusal{Kind: providers.KindNotFound, Code: "not_found", Message: fmt.Sprintf("no %s with id %d", what, id)}
}

// clientChanged records an admin change to a client in the audit log and tells the gateway to
// reload its key cache. The change is already stored, so a failed reload is logged, not returned:
// the caller's request did succeed.
func (s *server) clientChanged(c *fiber.Ctx, action string, id int64, detail string) error {
	if err := s.Audit.Add(c.UserContext(), &db.AuditLog{
		Actor: actorOf(c), Action: action, Target: "client:" + strconv.FormatInt(id, 10), Detail: detail,
	}); err != nil {
		return err
	}
	if s.ClientsChanged != nil {
		if err := s.ClientsChanged(c.UserContext()); err != nil {
			s.log.Error("reload clients after admin change", "request_id", requestIDOf(c), "action", action,
				"client_id", id, "error", err.Error())
		}
	}
	return nil
}
