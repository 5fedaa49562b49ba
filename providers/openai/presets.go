package openai

import (
	"context"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// authStyle is how a preset sends the upstream key.
type authStyle uint8

const (
	// authBearer sends "Authorization: Bearer KEY" when a key is configured (local servers take none).
	authBearer authStyle = iota
	// authAPIKey sends "api-key: KEY" (Azure OpenAI).
	authAPIKey
)

// preset is everything that differs between the vendors that speak Chat Completions. Adding a
// vendor is one entry in presetTable.
type preset struct {
	id string
	// baseURL is the default base URL; empty means the client must configure one.
	baseURL string
	// baseHint completes the "base URL required" error.
	baseHint string
	auth     authStyle
	// azure selects Azure's deployment paths and api-version query.
	azure bool
	// dropTopK: the upstream rejects the non-standard top_k sampling parameter.
	dropTopK bool
	// skip, when set, reports from a cheap look at the body that no request quirk applies, so the
	// hot path does not parse it.
	skip func(body []byte) bool
	// request applies the vendor's request quirks to the top level of the body (nil = none).
	// It runs on both paths: the raw body of ForwardChat and the encoded canonical request.
	request func(o *jsonscan.Object, x *exchange) error
	// models lists the upstream's models; nil means GET {base}/models in OpenAI's shape.
	models func(ctx context.Context, c *Client) ([]providers.Model, error)
	// embedDrop lists embeddings request fields the upstream rejects.
	embedDrop []string
}

// exchange is the per-request state of the quirks: what they saw going up and what must be mapped
// back in the answer.
type exchange struct {
	model  string
	stream bool
	// ids maps a tool-call id sent upstream to the client's original id (Mistral).
	ids map[string]string
}

// presetTable lists the backends this package serves. It is built on demand so nothing global can
// be mutated.
func presetTable() []preset {
	return []preset{
		{id: "openai", baseURL: "https://api.openai.com/v1", dropTopK: true, request: quirkOpenAI, skip: skipOpenAI},
		{id: "mistral", baseURL: "https://api.mistral.ai/v1", dropTopK: true, request: quirkMistral},
		{id: "perplexity", baseURL: "https://api.perplexity.ai", request: quirkPerplexity, models: perplexityModels},
		{id: "xai", baseURL: "https://api.x.ai/v1", dropTopK: true, request: quirkXAI},
		{id: "cohere", baseURL: "https://api.cohere.ai/compatibility/v1", dropTopK: true, request: quirkCohere,
			models: cohereModels, embedDrop: []string{"dimensions", "user"}},
		{id: "azure", auth: authAPIKey, azure: true, dropTopK: true, request: quirkOpenAI, skip: skipOpenAI,
			baseHint: "the Azure resource URL, e.g. https://NAME.openai.azure.com"},
		{id: "ollama", baseURL: "http://localhost:11434/v1"},
		{id: "lmstudio", baseURL: "http://localhost:1234/v1"},
		{id: "openai-compatible",
			baseHint: "the server's OpenAI-compatible base URL, e.g. http://HOST:8000/v1"},
	}
}

func lookupPreset(id string) (preset, bool) {
	for _, p := range presetTable() {
		if p.id == id {
			return p, true
		}
	}
	return preset{}, false
}

// Backends returns the provider ids this package serves, in a stable order.
func Backends() []string {
	t := presetTable()
	ids := make([]string, len(t))
	for i, p := range t {
		ids[i] = p.id
	}
	return ids
}

// DefaultBaseURL returns the default base URL of backend id, or "" when the backend has none (azure,
// openai-compatible) or is not served by this package.
func DefaultBaseURL(id string) string {
	p, _ := lookupPreset(id)
	return p.baseURL
}
