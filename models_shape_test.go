package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// GET /v1/models and /v1/models/{id} answer in Anthropic's shape to a caller that sends
// anthropic-version (Claude Code's model picker, Anthropic's SDKs) and in OpenAI's otherwise;
// an unknown model is a 404 in the caller's error shape.
func TestModelsListShapes(t *testing.T) {
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "unexpected", 500) })
	g := startRelGateway(t, nil, "")
	g.createClient("openai", mock.URL, map[string]any{"model_whitelist": []string{"claude-x", "gpt-y"}, "default_model": "gpt-y"})
	key := g.keys["openai"]
	get := func(path string, anthropic bool) (int, map[string]any, string) {
		req, _ := http.NewRequest(http.MethodGet, g.url+path, nil)
		if anthropic {
			req.Header.Set("x-api-key", key)
			req.Header.Set("anthropic-version", "2023-06-01")
		} else {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return resp.StatusCode, m, string(b)
	}

	want := `{"data":[{"type":"model","id":"claude-x","display_name":"claude-x","created_at":"1970-01-01T00:00:00Z"},` +
		`{"type":"model","id":"gpt-y","display_name":"gpt-y","created_at":"1970-01-01T00:00:00Z"}],` +
		`"first_id":"claude-x","has_more":false,"last_id":"gpt-y"}`
	if st, _, body := get("/v1/models", true); st != 200 || body != want {
		t.Errorf("Anthropic list: %d %s\nwant %s", st, body, want)
	}
	want = `{"data":[{"id":"claude-x","object":"model","created":0,"owned_by":"openai"},{"id":"gpt-y","object":"model","created":0,"owned_by":"openai"}],"object":"list"}`
	if st, _, body := get("/v1/models", false); st != 200 || body != want {
		t.Errorf("OpenAI list: %d %s\nwant %s", st, body, want)
	}
	if st, _, body := get("/v1/models/gpt-y", true); st != 200 || body != `{"type":"model","id":"gpt-y","display_name":"gpt-y","created_at":"1970-01-01T00:00:00Z"}` {
		t.Errorf("Anthropic model: %d %s", st, body)
	}
	if st, _, body := get("/v1/models/gpt-y", false); st != 200 || body != `{"id":"gpt-y","object":"model","created":0,"owned_by":"openai"}` {
		t.Errorf("OpenAI model: %d %s", st, body)
	}
	if st, m, body := get("/v1/models/nope", true); st != 404 || m["type"] != "error" ||
		m["error"].(map[string]any)["type"] != "not_found_error" {
		t.Errorf("Anthropic unknown model: %d %s", st, body)
	}
	if st, m, body := get("/v1/models/nope", false); st != 404 || m["error"].(map[string]any)["code"] != "model_not_found" {
		t.Errorf("OpenAI unknown model: %d %s", st, body)
	}
}
