package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Clients stores the client registry. Keys are stored only as HashKey + prefix + hint; the full
// key is returned once, by Create and RotateKey.
type Clients struct {
	db *bun.DB
}

// NewClients returns the client store over db.
func NewClients(db *bun.DB) *Clients { return &Clients{db: db} }

// Tool modes of a client (SPEC §18): tool calls go back to the client, or the gateway runs the
// calls to its allowed MCP servers' tools itself.
const (
	ToolModePassthrough = "passthrough"
	ToolModeGateway     = "gateway"
)

// Prompt cache modes of a client: automatic Anthropic cache breakpoints on requests translated
// from another protocol, or none.
const (
	PromptCacheAuto = "auto"
	PromptCacheOff  = "off"
)

// Responses API modes of a client whose backend may or may not serve /responses itself
// (openai-compatible, ollama, lmstudio): translated to Chat Completions, or forwarded.
const (
	ResponsesAPITranslate = "translate"
	ResponsesAPINative    = "native"
)

// List returns every client, oldest first.
func (s *Clients) List(ctx context.Context) ([]Client, error) {
	var cs []Client
	if err := s.db.NewSelect().Model(&cs).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return cs, nil
}

// Get returns the client with id, or ErrNotFound.
func (s *Clients) Get(ctx context.Context, id int64) (*Client, error) {
	c := new(Client)
	err := s.db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get client %d: %w", id, err)
	}
	return c, nil
}

// GetByKeyHash returns the client whose key hashes to hash (see HashKey), or ErrNotFound.
func (s *Clients) GetByKeyHash(ctx context.Context, hash string) (*Client, error) {
	c := new(Client)
	err := s.db.NewSelect().Model(c).Where("key_hash = ?", hash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get client by key: %w", err)
	}
	return c, nil
}

// Create inserts c with a new key that starts with c.KeyPrefix (DefaultKeyPrefix when empty) and
// returns the full key, which is not stored anywhere. It fills c.ID, the key columns and the
// timestamps; an empty ToolMode becomes passthrough, an empty PromptCache auto, an empty ResponsesAPI translate.
func (s *Clients) Create(ctx context.Context, c *Client) (key string, err error) {
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	key, err = NewKey(c.KeyPrefix)
	if err != nil {
		return "", err
	}
	if c.ToolMode == "" {
		c.ToolMode = ToolModePassthrough
	}
	if c.PromptCache == "" {
		c.PromptCache = PromptCacheAuto
	}
	if c.ResponsesAPI == "" {
		c.ResponsesAPI = ResponsesAPITranslate
	}
	c.KeyHash, c.KeyHint = HashKey(key), Hint(key)
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt = now, now
	if _, err := s.db.NewInsert().Model(c).Exec(ctx); err != nil {
		return "", fmt.Errorf("create client: %w", err)
	}
	return key, nil
}

// clientSettings are the columns Update writes: everything an admin edits. The key columns change
// only through RotateKey, the model cache through SetModelsCache, last_used_at through MarkUsed.
func clientSettings() []string {
	return []string{
		"name", "description", "active", "backend", "base_url", "upstream_key", "upstream_key_hint",
		"azure_api_version", "upstream_keys", "fallbacks", "default_model", "model_whitelist", "system_prompt", "tool_mode", "mcp_servers", "prompt_cache",
		"responses_api",
		"requests_per_minute", "requests_per_hour", "requests_per_day",
		"max_input_tokens_per_day", "max_output_tokens_per_day", "max_requests_per_day",
		"max_input_tokens", "max_output_tokens", "budget_day_micros", "budget_month_micros", "updated_at",
	}
}

// Update writes the admin-editable settings of c (by c.ID) and sets c.UpdatedAt.
// It returns ErrNotFound when the client does not exist.
func (s *Clients) Update(ctx context.Context, c *Client) error {
	c.UpdatedAt = time.Now().UTC()
	res, err := s.db.NewUpdate().Model(c).Column(clientSettings()...).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update client %d: %w", c.ID, err)
	}
	return oneRow(res)
}

// Delete removes the client with id, or returns ErrNotFound. Its usage and request log rows stay
// as history.
func (s *Clients) Delete(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*Client)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete client %d: %w", id, err)
	}
	return oneRow(res)
}

// RotateKey replaces the client's key with a new one and returns it in full; the old key stops
// working. prefix chooses the new key's prefix; empty keeps the current one.
func (s *Clients) RotateKey(ctx context.Context, id int64, prefix string) (key string, c *Client, err error) {
	c, err = s.Get(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if prefix != "" {
		c.KeyPrefix = prefix
	}
	key, err = NewKey(c.KeyPrefix)
	if err != nil {
		return "", nil, err
	}
	c.KeyHash, c.KeyHint, c.UpdatedAt = HashKey(key), Hint(key), time.Now().UTC()
	res, err := s.db.NewUpdate().Model(c).Column("key_hash", "key_prefix", "key_hint", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("rotate key of client %d: %w", id, err)
	}
	if err := oneRow(res); err != nil {
		return "", nil, err
	}
	return key, c, nil
}

// SetModelsCache stores the model list fetched from the client's backend.
func (s *Clients) SetModelsCache(ctx context.Context, id int64, models []string, fetchedAt time.Time) error {
	res, err := s.db.NewUpdate().Model((*Client)(nil)).
		Set("models_cache = ?", Strings(models)).
		Set("models_fetched_at = ?", fetchedAt.UTC()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set models of client %d: %w", id, err)
	}
	return oneRow(res)
}

// MarkUsed records when clients were last used (client id → time); unknown ids are ignored.
func (s *Clients) MarkUsed(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for id, at := range used {
			if _, err := tx.NewUpdate().Model((*Client)(nil)).Set("last_used_at = ?", at.UTC()).
				Where("id = ?", id).Exec(ctx); err != nil {
				return fmt.Errorf("mark client %d used: %w", id, err)
			}
		}
		return nil
	})
}

func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
