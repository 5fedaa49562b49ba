package gemini

import (
	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// RequestInfo is what policy needs to know about a native Gemini request body.
type RequestInfo struct {
	// MaxTokens is generationConfig.maxOutputTokens; 0 when absent.
	MaxTokens int
	// Choices is generationConfig.candidateCount (each candidate may use MaxTokens); 0 when absent.
	Choices int
	// InputTokens is a cheap estimate of the prompt size (see PeekRequest).
	InputTokens int
}

// imageTokens is what Gemini charges for one image (258 tokens up to 384×384 px, per tile beyond).
const imageTokens = 258

// PeekRequest reads what policy needs from a GenerateContentRequest body without translating it.
//
// InputTokens is the body's size in bytes divided by 4 (a common characters-per-token
// rule; the JSON syntax around the text makes it err on the high side), except that inline data
// payloads (the string value of any "data" member: base64 images, audio, PDFs) are not counted as
// text but as 258 tokens each, Gemini's price of one image. Both camelCase and snake_case field
// names are read. Malformed JSON returns a KindBadRequest *providers.Error with the parser's message.
func PeekRequest(body []byte) (RequestInfo, error) {
	// Members are matched by their exact names, as Google's parser does (encoding/json would also
	// take "GenerationConfig", which Gemini rejects), so this reads what RewriteRequest rewrites.
	o, err := bodyObject(body)
	if err != nil {
		return RequestInfo{}, err
	}
	info := RequestInfo{InputTokens: estimateTokens(body)}
	o.Each(func(key, cfg []byte) bool {
		if !jsonscan.KeyIs(key, "generationConfig") && !jsonscan.KeyIs(key, "generation_config") || string(cfg) == "null" {
			return true
		}
		if cfg[0] != '{' {
			err = providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig must be an object")
			return false
		}
		_ = jsonscan.EachMember(cfg, func(ck, cv []byte) bool {
			var name string
			switch {
			case jsonscan.KeyIs(ck, "maxOutputTokens") || jsonscan.KeyIs(ck, "max_output_tokens"):
				name = "maxOutputTokens"
			case jsonscan.KeyIs(ck, "candidateCount") || jsonscan.KeyIs(ck, "candidate_count"):
				name = "candidateCount"
			}
			if name == "" || string(cv) == "null" {
				return true
			}
			var v protoInt
			if e := v.UnmarshalJSON(cv); e != nil {
				err = providers.Errorf(providers.KindBadRequest, "invalid JSON payload: generationConfig.%s: %v", name, e)
				return false
			}
			n := int(max(0, min(int64(v), 1<<31-1)))
			if name == "maxOutputTokens" {
				info.MaxTokens = n
				return true
			}
			if v < 0 {
				err = providers.Errorf(providers.KindBadRequest, "generationConfig.candidateCount must not be negative")
				return false
			}
			info.Choices = n
			return true
		})
		return err == nil
	})
	if err != nil {
		return RequestInfo{}, err
	}
	return info, nil
}

// estimateTokens implements PeekRequest's estimate in one pass over the bytes.
func estimateTokens(body []byte) int {
	binary, blobs := 0, 0
	afterDataKey := false
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		end, err := jsonscan.SkipString(body, i)
		if err != nil {
			break
		}
		if j := jsonscan.SkipSpace(body, end); j < len(body) && body[j] == ':' {
			afterDataKey = end-i == len(`"data"`) && string(body[i+1:end-1]) == "data"
			i = j
			continue
		}
		if afterDataKey {
			binary += end - i
			blobs++
			afterDataKey = false
		}
		i = end - 1
	}
	return (len(body)-binary)/4 + blobs*imageTokens
}
