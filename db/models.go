package db

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Client is one application with its own gateway key and upstream settings (SPEC §3).
type Client struct {
	bun.BaseModel `bun:"table:client"`

	ID          int64  `bun:"id,pk,autoincrement"`
	Name        string `bun:"name,notnull"`
	Description string `bun:"description,notnull"`
	Active      bool   `bun:"active,notnull"`

	// KeyHash is the hex SHA-256 of the full client key; the key itself is never stored.
	KeyHash   string `bun:"key_hash,notnull,unique"`
	KeyPrefix string `bun:"key_prefix,notnull"`
	KeyHint   string `bun:"key_hint,notnull"`

	Backend string `bun:"backend,notnull"`
	BaseURL string `bun:"base_url,notnull"`
	// UpstreamKey is the AES-256-GCM ciphertext of the upstream key (with its master-key id); empty = none.
	UpstreamKey     []byte `bun:"upstream_key"`
	UpstreamKeyHint string `bun:"upstream_key_hint,notnull"`
	AzureAPIVersion string `bun:"azure_api_version,notnull"`
	// UpstreamKeys are the first target's further keys, used in turn after UpstreamKey (SPEC §15).
	UpstreamKeys SealedKeys `bun:"upstream_keys,notnull"`
	// Fallbacks are the further targets, tried in order when the backend above fails.
	Fallbacks Targets `bun:"fallbacks,notnull"`

	DefaultModel    string    `bun:"default_model,notnull"`
	ModelWhitelist  Strings   `bun:"model_whitelist,notnull"`
	ModelsCache     Strings   `bun:"models_cache,notnull"`
	ModelsFetchedAt time.Time `bun:"models_fetched_at,nullzero"`
	SystemPrompt    string    `bun:"system_prompt,notnull"`
	ToolMode        string    `bun:"tool_mode,notnull"`
	// MCPServers is the allowlist of MCP servers (by name) whose tools the client may use, in
	// tool mode gateway and on /mcp (SPEC §18).
	MCPServers Strings `bun:"mcp_servers,notnull"`
	// PromptCache is PromptCacheAuto or PromptCacheOff (see gateway.Client.PromptCache).
	PromptCache string `bun:"prompt_cache,notnull"`
	// ResponsesAPI is ResponsesAPITranslate or ResponsesAPINative (openai-compatible, ollama and
	// lmstudio backends only): how /v1/responses reaches the backend.
	ResponsesAPI string `bun:"responses_api,notnull"`

	RequestsPerMinute int64 `bun:"requests_per_minute,notnull"`
	RequestsPerHour   int64 `bun:"requests_per_hour,notnull"`
	RequestsPerDay    int64 `bun:"requests_per_day,notnull"`

	MaxInputTokensPerDay  int64 `bun:"max_input_tokens_per_day,notnull"`
	MaxOutputTokensPerDay int64 `bun:"max_output_tokens_per_day,notnull"`
	MaxRequestsPerDay     int64 `bun:"max_requests_per_day,notnull"`
	MaxInputTokens        int64 `bun:"max_input_tokens,notnull"`
	MaxOutputTokens       int64 `bun:"max_output_tokens,notnull"`

	// Dollar budgets in micro-dollars per UTC day and calendar month (SPEC §16); 0 = none.
	BudgetDayMicros   int64 `bun:"budget_day_micros,notnull"`
	BudgetMonthMicros int64 `bun:"budget_month_micros,notnull"`

	CreatedAt  time.Time `bun:"created_at,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
}

// UsageDaily is the rollup of one client's traffic to one model on one UTC day.
type UsageDaily struct {
	bun.BaseModel `bun:"table:usage_daily"`

	ClientID int64 `bun:"client_id,pk"`
	// Day is the UTC date as YYYY-MM-DD.
	Day   string `bun:"day,pk"`
	Model string `bun:"model,pk"`

	// Requests counts every request, answered or refused; Refused how many of them the gateway
	// refused itself (403, 429, its own 400s). Only Requests - Refused count against the daily
	// request quota.
	Requests        int64 `bun:"requests,notnull"`
	Errors          int64 `bun:"errors,notnull"`
	Refused         int64 `bun:"refused,notnull"`
	InputTokens     int64 `bun:"input_tokens,notnull"`
	OutputTokens    int64 `bun:"output_tokens,notnull"`
	CachedTokens    int64 `bun:"cached_tokens,notnull"`
	ReasoningTokens int64 `bun:"reasoning_tokens,notnull"`
	// CacheWriteTokens are prompt tokens written to the provider's cache (Anthropic's cache creation).
	CacheWriteTokens int64 `bun:"cache_write_tokens,notnull"`
	// CostMicros sums the priced requests' cost in micro-dollars; Unpriced counts the requests
	// whose model has no price (their cost is unknown, not zero).
	CostMicros int64 `bun:"cost_micros,notnull"`
	Unpriced   int64 `bun:"unpriced,notnull"`
	// SavedMicros sums what the prompt cache saved on the priced requests, in micro-dollars:
	// cache reads at (input − cache read price) less cache writes at (cache write − input price).
	SavedMicros int64 `bun:"saved_micros,notnull"`
}

// RequestLog is one proxied request.
type RequestLog struct {
	bun.BaseModel `bun:"table:request_log"`

	ID             int64     `bun:"id,pk,autoincrement"`
	Time           time.Time `bun:"time,notnull"`
	RequestID      string    `bun:"request_id,notnull"`
	ClientID       int64     `bun:"client_id,notnull"`
	Endpoint       string    `bun:"endpoint,notnull"`
	ModelRequested string    `bun:"model_requested,notnull"`
	ModelUsed      string    `bun:"model_used,notnull"`
	Provider       string    `bun:"provider,notnull"`
	Stream         bool      `bun:"stream,notnull"`
	Status         int       `bun:"status,notnull"`
	ErrorClass     string    `bun:"error_class,notnull"`
	ErrorMessage   string    `bun:"error_message,notnull"`
	// Refused is true when the gateway refused the request itself (it never reached the upstream):
	// such rows do not count against the rate limits restored at start. A request with an unknown
	// key is refused and has ClientID 0.
	Refused bool `bun:"refused,notnull"`

	InputTokens      int64 `bun:"input_tokens,notnull"`
	OutputTokens     int64 `bun:"output_tokens,notnull"`
	CachedTokens     int64 `bun:"cached_tokens,notnull"`
	ReasoningTokens  int64 `bun:"reasoning_tokens,notnull"`
	CacheWriteTokens int64 `bun:"cache_write_tokens,notnull"`
	// CostMicros is the request's cost in micro-dollars; nil when its model has no price.
	CostMicros *int64 `bun:"cost_micros"`
	// Estimated is true when the upstream reported no usage and the gateway estimated it.
	Estimated bool `bun:"estimated,notnull"`

	LatencyMS    int64  `bun:"latency_ms,notnull"`
	TTFTMS       int64  `bun:"ttft_ms,notnull"`
	FinishReason string `bun:"finish_reason,notnull"`
	ClientIP     string `bun:"client_ip,notnull"`
	// TraceID is the OpenTelemetry trace id (32 hex digits) of a traced request; empty otherwise.
	TraceID string `bun:"trace_id,notnull"`

	// Bodies are stored only when logs.store_bodies is on: truncated to 64 KiB, secrets redacted.
	RequestBody  string `bun:"request_body,notnull"`
	ResponseBody string `bun:"response_body,notnull"`
	// Attempts are the upstream attempts in order; the last one is the one that answered.
	Attempts Attempts `bun:"attempts,notnull"`
	// ToolSteps are the MCP tool calls the gateway made for the request (tool mode gateway, /mcp).
	ToolSteps ToolSteps `bun:"tool_steps,notnull"`
}

// WrittenBatch records that the accounting batch with ID was written (RequestLogStore.WriteBatch),
// so that a retry of it after a lost answer to its commit is not written twice.
type WrittenBatch struct {
	bun.BaseModel `bun:"table:written_batch"`

	ID        string    `bun:"id,pk"`
	WrittenAt time.Time `bun:"written_at,notnull"`
}

// AdminUser is a person who may log in to the admin UI.
type AdminUser struct {
	bun.BaseModel `bun:"table:admin_user"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Username     string    `bun:"username,notnull,unique"`
	PasswordHash string    `bun:"password_hash,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
}

// AdminSession is a logged-in browser. ID is the SHA-256 of the cookie value, so a database
// leak does not hand out sessions.
type AdminSession struct {
	bun.BaseModel `bun:"table:admin_session"`

	ID         string    `bun:"id,pk"`
	UserID     int64     `bun:"user_id,notnull"`
	CSRFToken  string    `bun:"csrf_token,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
	LastSeenAt time.Time `bun:"last_seen_at,notnull"`
}

// AdminToken is a bearer token for the admin JSON API; only its SHA-256 is stored.
type AdminToken struct {
	bun.BaseModel `bun:"table:admin_token"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Name       string    `bun:"name,notnull"`
	TokenHash  string    `bun:"token_hash,notnull,unique"`
	Hint       string    `bun:"hint,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
}

// AuditLog records one admin action.
type AuditLog struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID     int64     `bun:"id,pk,autoincrement"`
	Time   time.Time `bun:"time,notnull"`
	Actor  string    `bun:"actor,notnull"`
	Action string    `bun:"action,notnull"`
	// Target names what was changed, e.g. "client:12".
	Target string `bun:"target,notnull"`
	Detail string `bun:"detail,notnull"`
}

// Setting is one admin-editable setting that overrides config.yaml at runtime (e.g. logs.retention_days).
type Setting struct {
	bun.BaseModel `bun:"table:setting"`

	Key       string    `bun:"key,pk"`
	Value     string    `bun:"value,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// ModelPrice is an administrator's price for a model, in US dollars per million tokens; it
// overrides the price list (SPEC §16).
type ModelPrice struct {
	bun.BaseModel `bun:"table:model_price"`

	Model      string    `bun:"model,pk"`
	Input      float64   `bun:"input_usd_mtok,notnull"`
	Output     float64   `bun:"output_usd_mtok,notnull"`
	CacheRead  float64   `bun:"cache_read_usd_mtok,notnull"`
	CacheWrite float64   `bun:"cache_write_usd_mtok,notnull"`
	UpdatedAt  time.Time `bun:"updated_at,notnull"`
}

// Strings is a list of strings stored as a JSON array, so the SQL stays portable.
type Strings []string

// Value implements driver.Valuer.
func (s Strings) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(s))
	return string(b), err
}

// Scan implements sql.Scanner.
func (s *Strings) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*s = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("db: cannot scan %T into Strings", src)
	}
	if len(b) == 0 {
		*s = nil
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// StoredResponse is one Responses API response kept for continuations (SPEC §14): its
// Response object and the input items it answered, as JSON, owned by one client; or, for a
// backend that keeps its responses itself, the id's owner alone.
type StoredResponse struct {
	bun.BaseModel `bun:"table:response"`

	ID        string    `bun:"id,pk"`
	ClientID  int64     `bun:"client_id,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	// Forwarded marks a response its backend keeps itself: only the owner is recorded here.
	Forwarded bool `bun:"forwarded,notnull"`
	// Input is the JSON array of the input items of its own turn.
	Input string `bun:"input,notnull"`
	// Body is the Response object.
	Body string `bun:"body,notnull"`
}
