package routes

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// embeddingsRequest is the part of an OpenAI embeddings body the gateway reads.
type embeddingsRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     int             `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

// inputs reads "input": a string or an array of strings. Token-id arrays are only meaningful to
// OpenAI-compatible backends, which get the raw body anyway; here they count as no text.
func (r embeddingsRequest) inputs() ([]string, error) {
	if len(r.Input) == 0 || string(r.Input) == "null" {
		return nil, &providers.Error{Kind: providers.KindBadRequest, Param: "input", Message: "input is required"}
	}
	var one string
	if json.Unmarshal(r.Input, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(r.Input, &many) == nil {
		return many, nil
	}
	var tokens []json.RawMessage
	if json.Unmarshal(r.Input, &tokens) == nil {
		return nil, nil
	}
	return nil, &providers.Error{Kind: providers.KindBadRequest, Param: "input",
		Message: "input must be a string, an array of strings or an array of token arrays"}
}

// embeddings is POST /v1/embeddings: forwarded to OpenAI-compatible backends, translated for
// Gemini, and a clear 400 for backends that have none.
func (s *server) embeddings(c *fiber.Ctx) error {
	received := time.Now()
	cl, err := s.authenticate(c)
	if err != nil {
		return err
	}
	body := c.Body()
	var in embeddingsRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return &providers.Error{Kind: providers.KindBadRequest, Message: "invalid JSON body: " + err.Error()}
	}
	texts, err := in.inputs()
	if err != nil {
		return err
	}
	chars := 0
	for _, t := range texts {
		chars += len(t)
	}
	prov, err := cl.Provider()
	if err != nil {
		return err
	}
	emb, ok := prov.(providers.Embedder)
	if !ok {
		return &providers.Error{Kind: providers.KindBadRequest, Code: "embeddings_not_supported",
			Message: "the " + cl.Backend + " backend of this key has no embeddings endpoint"}
	}
	if _, raw := prov.(*openai.Client); !raw && len(texts) == 0 {
		// Only the raw body carries token arrays, and only OpenAI-compatible backends get it.
		return &providers.Error{Kind: providers.KindBadRequest, Param: "input",
			Message: "input must hold at least one string (token arrays need an OpenAI-compatible backend; this key's is " + cl.Backend + ")"}
	}
	call, err := s.admit(c, cl, admission{door: doorOpenAI, endpoint: "/v1/embeddings", model: in.Model,
		input: estimateTokens(chars)}, received)
	if err != nil {
		return err
	}
	ctx, cancel := s.callContext(call)
	defer cancel()
	defer cancelIfClientLeaves(c, cancel)()
	call.Upstream()
	resp, err := emb.Embed(ctx, &providers.EmbedRequest{Model: call.Model(), Input: texts, Dimensions: in.Dimensions, Raw: body})
	if err != nil {
		return endWithError(call, err, body)
	}
	call.FirstByte()
	usage := resp.Usage
	if usage == (providers.Usage{}) {
		usage = providers.Usage{InputTokens: estimateTokens(chars), Estimated: true}
	}
	out := resp.Raw
	if len(out) == 0 {
		out = encodeEmbeddings(call, resp, in.EncodingFormat == "base64", usage)
	}
	call.End(gateway.Outcome{Status: fiber.StatusOK, Usage: usage, ModelUsed: resp.Model, RequestBody: body})
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(out)
}

// encodeEmbeddings writes OpenAI's embeddings list for a translated answer.
func encodeEmbeddings(call *gateway.Call, resp *providers.EmbedResponse, b64 bool, usage providers.Usage) []byte {
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(resp.Vectors))
	for i, v := range resp.Vectors {
		var e any = v
		if b64 {
			buf := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(float32(f)))
			}
			e = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = item{Object: "embedding", Index: i, Embedding: e}
	}
	model := resp.Model
	if model == "" {
		model = call.Model()
	}
	b, _ := json.Marshal(map[string]any{
		"object": "list", "data": data, "model": model,
		"usage": map[string]int{"prompt_tokens": usage.InputTokens, "total_tokens": usage.InputTokens},
	})
	return b
}
