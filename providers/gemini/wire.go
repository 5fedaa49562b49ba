package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Wire types of the Gemini Developer API (camelCase, as both SDKs send them).
//
// Google's JSON parser is proto3 JSON: it also accepts the original snake_case field names
// (the REST documentation's curl examples use system_instruction, generation_config, inline_data…).
// The request-side types therefore carry a second, snake_case field next to each camelCase one;
// normalize moves the snake_case values over after decoding. When encoding, the snake_case fields
// are nil and omitted.

type gRequest struct {
	Contents               []gContent         `json:"contents"`
	SystemInstruction      *gContent          `json:"systemInstruction,omitempty"`
	SystemInstructionSnake *gContent          `json:"system_instruction,omitempty"`
	Tools                  []gTool            `json:"tools,omitempty"`
	ToolConfig             *gToolConfig       `json:"toolConfig,omitempty"`
	ToolConfigSnake        *gToolConfig       `json:"tool_config,omitempty"`
	GenerationConfig       *gGenerationConfig `json:"generationConfig,omitempty"`
	GenerationConfigSnake  *gGenerationConfig `json:"generation_config,omitempty"`
	SafetySettings         json.RawMessage    `json:"safetySettings,omitempty"`
	SafetySettingsSnake    json.RawMessage    `json:"safety_settings,omitempty"`
	CachedContent          json.RawMessage    `json:"cachedContent,omitempty"`
	CachedContentSnake     json.RawMessage    `json:"cached_content,omitempty"`
}

type gCountTokensRequest struct {
	Contents                    []gContent               `json:"contents,omitempty"`
	GenerateContentRequest      *gGenerateContentRequest `json:"generateContentRequest,omitempty"`
	GenerateContentRequestSnake *gGenerateContentRequest `json:"generate_content_request,omitempty"`
}

// gGenerateContentRequest is a gRequest with the model named in the body (countTokens).
type gGenerateContentRequest struct {
	Model string `json:"model"`
	gRequest
}

type gContent struct {
	Role  string  `json:"role,omitempty"`
	Parts []gPart `json:"parts"`
}

type gPart struct {
	Text                  string             `json:"text,omitempty"`
	Thought               bool               `json:"thought,omitempty"`
	ThoughtSignature      string             `json:"thoughtSignature,omitempty"`
	ThoughtSignatureSnake string             `json:"thought_signature,omitempty"`
	InlineData            *gBlob             `json:"inlineData,omitempty"`
	InlineDataSnake       *gBlob             `json:"inline_data,omitempty"`
	FileData              *gFileData         `json:"fileData,omitempty"`
	FileDataSnake         *gFileData         `json:"file_data,omitempty"`
	FunctionCall          *gFunctionCall     `json:"functionCall,omitempty"`
	FunctionCallSnake     *gFunctionCall     `json:"function_call,omitempty"`
	FunctionResponse      *gFunctionResponse `json:"functionResponse,omitempty"`
	FunctionResponseSnake *gFunctionResponse `json:"function_response,omitempty"`
}

type gBlob struct {
	MimeType      string `json:"mimeType"`
	MimeTypeSnake string `json:"mime_type,omitempty"`
	Data          string `json:"data"`
}

type gFileData struct {
	MimeType      string `json:"mimeType,omitempty"`
	MimeTypeSnake string `json:"mime_type,omitempty"`
	FileURI       string `json:"fileUri"`
	FileURISnake  string `json:"file_uri,omitempty"`
}

type gFunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type gFunctionResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
	// Parts are multimodal function-response parts (Gemini 3), read on input only.
	Parts []gPart `json:"parts,omitempty"`
}

type gTool struct {
	FunctionDeclarations      []gFunctionDeclaration `json:"functionDeclarations,omitempty"`
	FunctionDeclarationsSnake []gFunctionDeclaration `json:"function_declarations,omitempty"`
}

type gFunctionDeclaration struct {
	Name                      string          `json:"name"`
	Description               string          `json:"description,omitempty"`
	Parameters                json.RawMessage `json:"parameters,omitempty"`
	ParametersJSONSchema      json.RawMessage `json:"parametersJsonSchema,omitempty"`
	ParametersJSONSchemaSnake json.RawMessage `json:"parameters_json_schema,omitempty"`
}

type gToolConfig struct {
	FunctionCallingConfig      *gFunctionCallingConfig `json:"functionCallingConfig,omitempty"`
	FunctionCallingConfigSnake *gFunctionCallingConfig `json:"function_calling_config,omitempty"`
}

type gFunctionCallingConfig struct {
	Mode                      string   `json:"mode,omitempty"`
	AllowedFunctionNames      []string `json:"allowedFunctionNames,omitempty"`
	AllowedFunctionNamesSnake []string `json:"allowed_function_names,omitempty"`
}

type gGenerationConfig struct {
	MaxOutputTokens         *protoInt        `json:"maxOutputTokens,omitempty"`
	MaxOutputTokensSnake    *protoInt        `json:"max_output_tokens,omitempty"`
	StopSequences           []string         `json:"stopSequences,omitempty"`
	StopSequencesSnake      []string         `json:"stop_sequences,omitempty"`
	Temperature             *protoFloat      `json:"temperature,omitempty"`
	TopP                    *protoFloat      `json:"topP,omitempty"`
	TopPSnake               *protoFloat      `json:"top_p,omitempty"`
	TopK                    *protoFloat      `json:"topK,omitempty"`
	TopKSnake               *protoFloat      `json:"top_k,omitempty"`
	Seed                    *protoInt        `json:"seed,omitempty"`
	CandidateCount          *protoInt        `json:"candidateCount,omitempty"`
	CandidateCountSnake     *protoInt        `json:"candidate_count,omitempty"`
	PresencePenalty         *protoFloat      `json:"presencePenalty,omitempty"`
	PresencePenaltySnake    *protoFloat      `json:"presence_penalty,omitempty"`
	FrequencyPenalty        *protoFloat      `json:"frequencyPenalty,omitempty"`
	FrequencyPenaltySnake   *protoFloat      `json:"frequency_penalty,omitempty"`
	ResponseMimeType        string           `json:"responseMimeType,omitempty"`
	ResponseMimeTypeSnake   string           `json:"response_mime_type,omitempty"`
	ResponseSchema          json.RawMessage  `json:"responseSchema,omitempty"`
	ResponseSchemaSnake     json.RawMessage  `json:"response_schema,omitempty"`
	ResponseJSONSchema      json.RawMessage  `json:"responseJsonSchema,omitempty"`
	ResponseJSONSchemaSnake json.RawMessage  `json:"response_json_schema,omitempty"`
	ThinkingConfig          *gThinkingConfig `json:"thinkingConfig,omitempty"`
	ThinkingConfigSnake     *gThinkingConfig `json:"thinking_config,omitempty"`
}

type gThinkingConfig struct {
	IncludeThoughts      *bool     `json:"includeThoughts,omitempty"`
	IncludeThoughtsSnake *bool     `json:"include_thoughts,omitempty"`
	ThinkingBudget       *protoInt `json:"thinkingBudget,omitempty"`
	ThinkingBudgetSnake  *protoInt `json:"thinking_budget,omitempty"`
	ThinkingLevel        string    `json:"thinkingLevel,omitempty"`
	ThinkingLevelSnake   string    `json:"thinking_level,omitempty"`
}

// Response side. Upstream responses are always camelCase, so these have plain tags.

type gResponse struct {
	Candidates     []gCandidate     `json:"candidates,omitempty"`
	PromptFeedback *gPromptFeedback `json:"promptFeedback,omitempty"`
	UsageMetadata  *gUsage          `json:"usageMetadata,omitempty"`
	ModelVersion   string           `json:"modelVersion,omitempty"`
	ResponseID     string           `json:"responseId,omitempty"`
	// Error is set when an error object arrives inside a stream.
	Error *gError `json:"error,omitempty"`
}

type gCandidate struct {
	Content      *gContent `json:"content,omitempty"`
	FinishReason string    `json:"finishReason,omitempty"`
	Index        int       `json:"index"`
}

type gPromptFeedback struct {
	BlockReason string `json:"blockReason,omitempty"`
}

type gUsage struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount,omitempty"`
	CachedContentTokenCount int `json:"cachedContentTokenCount,omitempty"`
}

type gError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Status  string          `json:"status"`
	Details json.RawMessage `json:"details,omitempty"`
}

type gModel struct {
	Name                       string   `json:"name"`
	BaseModelID                string   `json:"baseModelId,omitempty"`
	Version                    string   `json:"version,omitempty"`
	DisplayName                string   `json:"displayName,omitempty"`
	Description                string   `json:"description,omitempty"`
	InputTokenLimit            int      `json:"inputTokenLimit,omitempty"`
	OutputTokenLimit           int      `json:"outputTokenLimit,omitempty"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
}

type gModelList struct {
	Models        []gModel `json:"models"`
	NextPageToken string   `json:"nextPageToken,omitempty"`
}

// protoInt is an integer as proto3 JSON accepts it: a number or a string holding one.
type protoInt int64

func (p *protoInt) UnmarshalJSON(b []byte) error {
	f, err := protoNumber(b)
	if err != nil {
		return err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("%s is not an integer", b)
	}
	*p = protoInt(f)
	return nil
}

// protoFloat is a number as proto3 JSON accepts it: a number or a string holding one.
type protoFloat float64

func (p *protoFloat) UnmarshalJSON(b []byte) error {
	f, err := protoNumber(b)
	if err != nil {
		return err
	}
	*p = protoFloat(f)
	return nil
}

func protoNumber(b []byte) (float64, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is not a number", b)
	}
	return f, nil
}

// normalize folds the snake_case spellings into the camelCase fields (camelCase wins when both are set).
func (r *gRequest) normalize() {
	r.SystemInstruction = pick(r.SystemInstruction, r.SystemInstructionSnake)
	r.ToolConfig = pick(r.ToolConfig, r.ToolConfigSnake)
	r.GenerationConfig = pick(r.GenerationConfig, r.GenerationConfigSnake)
	if r.SafetySettings == nil {
		r.SafetySettings = r.SafetySettingsSnake
	}
	if r.CachedContent == nil {
		r.CachedContent = r.CachedContentSnake
	}
	r.SystemInstructionSnake, r.ToolConfigSnake, r.GenerationConfigSnake = nil, nil, nil
	r.SafetySettingsSnake, r.CachedContentSnake = nil, nil
	if r.SystemInstruction != nil {
		r.SystemInstruction.normalize()
	}
	for i := range r.Contents {
		r.Contents[i].normalize()
	}
	for i := range r.Tools {
		t := &r.Tools[i]
		if t.FunctionDeclarations == nil {
			t.FunctionDeclarations = t.FunctionDeclarationsSnake
		}
		t.FunctionDeclarationsSnake = nil
		for j := range t.FunctionDeclarations {
			d := &t.FunctionDeclarations[j]
			if d.ParametersJSONSchema == nil {
				d.ParametersJSONSchema = d.ParametersJSONSchemaSnake
			}
			d.ParametersJSONSchemaSnake = nil
		}
	}
	if tc := r.ToolConfig; tc != nil {
		tc.FunctionCallingConfig = pick(tc.FunctionCallingConfig, tc.FunctionCallingConfigSnake)
		tc.FunctionCallingConfigSnake = nil
		if f := tc.FunctionCallingConfig; f != nil && f.AllowedFunctionNames == nil {
			f.AllowedFunctionNames, f.AllowedFunctionNamesSnake = f.AllowedFunctionNamesSnake, nil
		}
	}
	if g := r.GenerationConfig; g != nil {
		g.normalize()
	}
}

func (g *gGenerationConfig) normalize() {
	g.MaxOutputTokens, g.MaxOutputTokensSnake = pick(g.MaxOutputTokens, g.MaxOutputTokensSnake), nil
	if g.StopSequences == nil {
		g.StopSequences = g.StopSequencesSnake
	}
	g.StopSequencesSnake = nil
	g.TopP, g.TopPSnake = pick(g.TopP, g.TopPSnake), nil
	g.TopK, g.TopKSnake = pick(g.TopK, g.TopKSnake), nil
	g.CandidateCount, g.CandidateCountSnake = pick(g.CandidateCount, g.CandidateCountSnake), nil
	g.PresencePenalty, g.PresencePenaltySnake = pick(g.PresencePenalty, g.PresencePenaltySnake), nil
	g.FrequencyPenalty, g.FrequencyPenaltySnake = pick(g.FrequencyPenalty, g.FrequencyPenaltySnake), nil
	if g.ResponseMimeType == "" {
		g.ResponseMimeType = g.ResponseMimeTypeSnake
	}
	g.ResponseMimeTypeSnake = ""
	if g.ResponseSchema == nil {
		g.ResponseSchema = g.ResponseSchemaSnake
	}
	if g.ResponseJSONSchema == nil {
		g.ResponseJSONSchema = g.ResponseJSONSchemaSnake
	}
	g.ResponseSchemaSnake, g.ResponseJSONSchemaSnake = nil, nil
	g.ThinkingConfig, g.ThinkingConfigSnake = pick(g.ThinkingConfig, g.ThinkingConfigSnake), nil
	if t := g.ThinkingConfig; t != nil {
		t.IncludeThoughts, t.IncludeThoughtsSnake = pick(t.IncludeThoughts, t.IncludeThoughtsSnake), nil
		t.ThinkingBudget, t.ThinkingBudgetSnake = pick(t.ThinkingBudget, t.ThinkingBudgetSnake), nil
		if t.ThinkingLevel == "" {
			t.ThinkingLevel = t.ThinkingLevelSnake
		}
		t.ThinkingLevelSnake = ""
	}
}

func (c *gContent) normalize() {
	for i := range c.Parts {
		c.Parts[i].normalize()
	}
}

func (p *gPart) normalize() {
	if p.ThoughtSignature == "" {
		p.ThoughtSignature = p.ThoughtSignatureSnake
	}
	p.ThoughtSignatureSnake = ""
	p.InlineData, p.InlineDataSnake = pick(p.InlineData, p.InlineDataSnake), nil
	p.FileData, p.FileDataSnake = pick(p.FileData, p.FileDataSnake), nil
	p.FunctionCall, p.FunctionCallSnake = pick(p.FunctionCall, p.FunctionCallSnake), nil
	p.FunctionResponse, p.FunctionResponseSnake = pick(p.FunctionResponse, p.FunctionResponseSnake), nil
	if b := p.InlineData; b != nil && b.MimeType == "" {
		b.MimeType, b.MimeTypeSnake = b.MimeTypeSnake, ""
	}
	if f := p.FileData; f != nil {
		if f.MimeType == "" {
			f.MimeType = f.MimeTypeSnake
		}
		if f.FileURI == "" {
			f.FileURI = f.FileURISnake
		}
		f.MimeTypeSnake, f.FileURISnake = "", ""
	}
	if r := p.FunctionResponse; r != nil {
		for i := range r.Parts {
			r.Parts[i].normalize()
		}
	}
}

func pick[T any](camel, snake *T) *T {
	if camel != nil {
		return camel
	}
	return snake
}
