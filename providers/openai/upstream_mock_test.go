package openai

import (
	"testing"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

const testKey = "sk-test-0123456789-secret"

// newTestClient builds a client for backend against the mock, with base URL srv.URL+suffix.
func newTestClient(t *testing.T, u *upstreamtest.Server, backend, suffix, key string) *Client {
	t.Helper()
	c, err := New(providers.Config{Backend: backend, BaseURL: u.URL + suffix, APIKey: key,
		HTTPClient: u.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const completionJSON = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m-up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,"prompt_tokens_details":{"cached_tokens":1}}}`
