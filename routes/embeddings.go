package routes

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"

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
		return nil, &gateway.Refusal{Kind: providers.KindBadRequest, Param: "input", Message: "input is required"}
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
	return nil, &gateway.Refusal{Kind: providers.KindBadRequest, Param: "input",
		Message: "input must be a string, an array of strings or an array of token arrays"}
}

// embeddings is POST /v1/embeddings: forwarded to OpenAI-compatible backends, translated for
// Gemini, and a clear 400 for backends that have none.
func (s *server) embeddings(c *fiber.Ctx) error {
	cl, received := clientOf(c)
	body := c.Body()
	var in embeddingsRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return &gateway.Refusal{Kind: providers.KindBadRequest, Message: "invalid JSON body: " + err.Error()}
	}
	texts, err := in.inputs()
	if err != nil {
		return err
	}
	chars := 0
	for _, t := range texts {
		chars += len(t)
	}
	adm := s.admission(c, doorOpenAI, "/v1/embeddings", received)
	adm.Op, adm.Model, adm.InputTokens = gateway.OpEmbed, in.Model, int64(estimateTokens(chars))
	a, err := s.call(c, &gateway.Exchange{
		Client:    cl,
		Admission: adm,
		Door:      openai.Door{},
		Body:      body,
		Embed:     &providers.EmbedRequest{Input: texts, Dimensions: in.Dimensions, Raw: body},
	})
	if err != nil {
		return err
	}
	out := a.Body
	if a.Embeddings != nil {
		out = encodeEmbeddings(a.Embeddings, in.EncodingFormat == "base64", a.Usage)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(out)
}

// estimateTokens is the documented estimate of a text's tokens: one per four bytes.
func estimateTokens(n int) int { return (n + 3) / 4 }

// encodeEmbeddings writes OpenAI's embeddings list for a translated answer.
func encodeEmbeddings(resp *providers.EmbedResponse, b64 bool, usage providers.Usage) []byte {
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
	b, _ := json.Marshal(map[string]any{
		"object": "list", "data": data, "model": model,
		"usage": map[string]int{"prompt_tokens": usage.InputTokens, "total_tokens": usage.InputTokens},
	})
	return b
}
