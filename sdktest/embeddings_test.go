package sdktest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/openai/openai-go/v3"
)

// TestEmbeddings: POST /v1/embeddings passes through to an OpenAI-compatible backend, is
// translated to batchEmbedContents for Gemini, and is a clear 400 for a backend without
// embeddings; usage is accounted either way.
func TestEmbeddings(t *testing.T) {
	g := startGateway(t)
	ctx := context.Background()
	const openAIAnswer = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-0.5]},` +
		`{"object":"embedding","index":1,"embedding":[1,0]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":6,"total_tokens":6}}`
	oa := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { upstreamtest.WriteJSON(w, 200, openAIAnswer) })
	gm := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		vectors := []string{`{"values":[0.25,-0.5]}`, `{"values":[1,0]}`}
		n := len(decode(t, body)["requests"].([]any))
		upstreamtest.WriteJSON(w, 200, `{"embeddings":[`+strings.Join(vectors[:n], ",")+`]}`)
	})
	an := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { upstreamtest.WriteJSON(w, 500, `{}`) })
	oaKey, _ := g.newClient(client{"backend": "openai-compatible", "base_url": oa.URL + "/v1", "upstream_key": upstreamSecret})
	gmKey, _ := g.newClient(client{"backend": "gemini", "base_url": gm.URL, "upstream_key": upstreamSecret})
	anKey, _ := g.newClient(client{"backend": "anthropic", "base_url": an.URL, "upstream_key": upstreamSecret})

	t.Run("OpenAI-compatible: pass-through", func(t *testing.T) {
		g := g.at(t)
		c := openaiSDK(g, oaKey)
		resp, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello", "world"}},
			Dimensions: openai.Int(2), EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != 2 || resp.Data[0].Embedding[1] != -0.5 || resp.Usage.PromptTokens != 6 {
			t.Errorf("answer %+v", resp)
		}
		r := oa.Last(t)
		got := decode(t, r.Body)
		if r.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer "+upstreamSecret ||
			got["dimensions"] != float64(2) || !jsonEqual(got["input"], []any{"hello", "world"}) {
			t.Errorf("upstream %s %s %v", r.Path, r.Body, r.Header)
		}
		// Token arrays are for OpenAI-compatible backends: passed through as sent.
		body := `{"model":"text-embedding-3-small","input":[[15339,1917]],"user":"u-1"}`
		resp2, out := g.call("POST", "/v1/embeddings", body, "Authorization", "Bearer "+oaKey)
		if resp2.StatusCode != 200 || out != openAIAnswer || string(oa.Last(t).Body) != body {
			t.Errorf("token arrays: %d %s, upstream got %s", resp2.StatusCode, out, oa.Last(t).Body)
		}
	})

	t.Run("Gemini: batchEmbedContents", func(t *testing.T) {
		g := g.at(t)
		c := openaiSDK(g, gmKey)
		resp, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "text-embedding-004", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello", "world"}},
			Dimensions: openai.Int(2),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != 2 || resp.Data[0].Embedding[0] != 0.25 || resp.Data[1].Index != 1 || resp.Data[1].Embedding[0] != 1 ||
			resp.Model != "text-embedding-004" || resp.Usage.PromptTokens == 0 {
			t.Errorf("answer %+v", resp)
		}
		r := gm.Last(t)
		if r.Path != "/v1beta/models/text-embedding-004:batchEmbedContents" || r.Query != "" || r.Header.Get("x-goog-api-key") != upstreamSecret {
			t.Errorf("upstream %s?%s %v", r.Path, r.Query, r.Header)
		}
		want := map[string]any{"requests": []any{
			map[string]any{"model": "models/text-embedding-004", "content": map[string]any{"parts": []any{map[string]any{"text": "hello"}}}, "outputDimensionality": float64(2)},
			map[string]any{"model": "models/text-embedding-004", "content": map[string]any{"parts": []any{map[string]any{"text": "world"}}}, "outputDimensionality": float64(2)},
		}}
		if got := decode(t, r.Body); !jsonEqual(got, want) {
			t.Errorf("upstream body %s", r.Body)
		}

		// encoding_format base64: little-endian float32s, as OpenAI sends them.
		resp2, out := g.call("POST", "/v1/embeddings", `{"model":"text-embedding-004","input":"hello","encoding_format":"base64"}`,
			"Authorization", "Bearer "+gmKey)
		if resp2.StatusCode != 200 {
			t.Fatalf("%d %s", resp2.StatusCode, out)
		}
		raw, err := base64.StdEncoding.DecodeString(at(decode(t, []byte(out)), "data", 0, "embedding").(string))
		if err != nil || len(raw) != 8 || math.Float32frombits(binary.LittleEndian.Uint32(raw[4:])) != -0.5 {
			t.Errorf("base64 embedding %s", out)
		}

		resp3, out := g.call("POST", "/v1/embeddings", `{"model":"text-embedding-004","input":[[15339,1917]]}`, "Authorization", "Bearer "+gmKey)
		if resp3.StatusCode != 400 || !strings.Contains(out, "token arrays") {
			t.Errorf("token arrays for Gemini: %d %s", resp3.StatusCode, out)
		}
	})

	t.Run("Anthropic: a clear 400", func(t *testing.T) {
		g := g.at(t)
		c := openaiSDK(g, anKey)
		_, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "voyage-3", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "embeddings_not_supported" ||
			!strings.Contains(apiErr.Message, "anthropic backend of this key has no embeddings") {
			t.Errorf("error %v", err)
		}
		if len(an.Requests()) != 0 {
			t.Error("the Anthropic upstream was called")
		}
	})

	t.Run("usage accounted", func(t *testing.T) {
		g := g.at(t)
		if u := g.usage(oaKey); u.Usage.Requests != 2 || u.Usage.InputTokens != 12 {
			t.Errorf("OpenAI-compatible: %+v, want 2 requests of 6 tokens", u.Usage)
		}
		if u := g.usage(gmKey); u.Usage.Requests != 2 || u.Usage.InputTokens == 0 {
			t.Errorf("Gemini: %+v, want 2 requests with estimated tokens", u.Usage)
		}
	})
}
