package gemini

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
)

// dummySignature is Google's documented value for a functionCall part whose thought signature is
// unknown (history the model did not produce, or a client that lost it). Gemini 3 accepts it in
// place of a real signature.
const dummySignature = "skip_thought_signature_validator"

// encodeRequest translates a canonical request into a GenerateContentRequest.
//
// Messages map as follows: system messages (all, in order) become systemInstruction parts; user
// messages become user turns; assistant messages become model turns whose tool calls are
// functionCall parts carrying their thoughtSignature (from the ToolCall, else recovered from the id,
// else the dummy on the first call of the turn when the model is Gemini 3 or newer); consecutive
// tool messages become ONE user turn of functionResponse parts. Reasoning text is not sent back:
// Gemini does not take thought summaries as input. Returns a KindBadRequest *providers.Error when a
// message cannot be expressed (unknown role, tool result whose function name cannot be found,
// tool-call arguments that are not a JSON object).
func encodeRequest(req *providers.Request) (*gRequest, error) {
	model := modelName(req.Model)
	out := &gRequest{Contents: make([]gContent, 0, len(req.Messages))}
	var system []gPart
	callNames := map[string]string{}
	needDummy := isGemini3Plus(model)

	msgs := req.Messages
	for i := 0; i < len(msgs); i++ {
		m := &msgs[i]
		switch m.Role {
		case providers.RoleSystem, "developer":
			for _, p := range m.Content {
				if p.Type == providers.PartText && p.Text != "" {
					system = append(system, gPart{Text: p.Text})
				}
			}
		case providers.RoleUser:
			parts := contentParts(m.Content)
			if len(parts) > 0 {
				out.Contents = append(out.Contents, gContent{Role: "user", Parts: parts})
			}
		case providers.RoleAssistant:
			parts := contentParts(m.Content)
			for j, tc := range m.ToolCalls {
				name, upstreamID, sig, _ := decodeToolID(tc.ID)
				if tc.Name != "" {
					name = tc.Name
				}
				if tc.Signature != "" {
					sig = tc.Signature
				}
				if j == 0 && sig == "" && needDummy {
					sig = dummySignature
				}
				args, err := toolArgs(tc.Arguments)
				if err != nil {
					return nil, providers.Errorf(providers.KindBadRequest,
						"messages[%d].tool_calls[%d]: arguments are not a JSON object", i, j)
				}
				if tc.ID != "" {
					callNames[tc.ID] = name
				}
				parts = append(parts, gPart{
					FunctionCall:     &gFunctionCall{ID: upstreamID, Name: name, Args: args},
					ThoughtSignature: sig,
				})
			}
			if len(parts) > 0 {
				out.Contents = append(out.Contents, gContent{Role: "model", Parts: parts})
			}
		case providers.RoleTool:
			turn := gContent{Role: "user"}
			var media []gPart
			for ; i < len(msgs) && msgs[i].Role == providers.RoleTool; i++ {
				fr, err := functionResponse(&msgs[i], callNames)
				if err != nil {
					return nil, providers.Errorf(providers.KindBadRequest, "messages[%d]: %s", i, err.Error())
				}
				turn.Parts = append(turn.Parts, gPart{FunctionResponse: fr})
				for _, p := range msgs[i].Content {
					if p.Type == providers.PartImage {
						media = append(media, mediaPart(p))
					}
				}
			}
			i--
			turn.Parts = append(turn.Parts, media...)
			out.Contents = append(out.Contents, turn)
		default:
			return nil, providers.Errorf(providers.KindBadRequest, "messages[%d]: unsupported role %q", i, m.Role)
		}
	}
	if len(system) > 0 {
		out.SystemInstruction = &gContent{Role: "user", Parts: system}
	}

	if len(req.Tools) > 0 {
		decls := make([]gFunctionDeclaration, len(req.Tools))
		for i, t := range req.Tools {
			decls[i] = gFunctionDeclaration{Name: t.Name, Description: t.Description}
			if len(t.Parameters) > 0 && string(t.Parameters) != "null" {
				decls[i].ParametersJSONSchema = stripSchemaKeyword(t.Parameters)
			}
		}
		out.Tools = []gTool{{FunctionDeclarations: decls}}
	}
	if tc := req.ToolChoice; tc != nil {
		cfg := &gFunctionCallingConfig{}
		switch tc.Mode {
		case providers.ToolChoiceNone:
			cfg.Mode = "NONE"
		case providers.ToolChoiceRequired:
			cfg.Mode = "ANY"
		case providers.ToolChoiceTool:
			cfg.Mode = "ANY"
			cfg.AllowedFunctionNames = []string{tc.Name}
		default:
			cfg.Mode = "AUTO"
		}
		out.ToolConfig = &gToolConfig{FunctionCallingConfig: cfg}
	}
	out.GenerationConfig = generationConfig(req, model)

	// Gemini-only fields a Gemini-shaped source kept in Extra; other protocols' keys are snake_case
	// or differently named, so these cannot collide with them.
	if v, ok := req.Extra["safetySettings"]; ok {
		out.SafetySettings = v
	}
	if v, ok := req.Extra["cachedContent"]; ok {
		out.CachedContent = v
	}
	return out, nil
}

func generationConfig(req *providers.Request, model string) *gGenerationConfig {
	g := &gGenerationConfig{}
	set := false
	if req.MaxTokens > 0 {
		v := protoInt(req.MaxTokens)
		g.MaxOutputTokens, set = &v, true
	}
	if len(req.Stop) > 0 {
		g.StopSequences, set = req.Stop, true
	}
	floatPtr := func(f *float64) *protoFloat {
		if f == nil {
			return nil
		}
		set = true
		v := protoFloat(*f)
		return &v
	}
	g.Temperature = floatPtr(req.Temperature)
	g.TopP = floatPtr(req.TopP)
	g.PresencePenalty = floatPtr(req.PresencePenalty)
	g.FrequencyPenalty = floatPtr(req.FrequencyPenalty)
	if req.TopK != nil {
		v := protoFloat(*req.TopK)
		g.TopK, set = &v, true
	}
	if req.Seed != nil {
		v := protoInt(*req.Seed)
		g.Seed, set = &v, true
	}
	if req.N > 1 {
		v := protoInt(req.N)
		g.CandidateCount, set = &v, true
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			g.ResponseMimeType, set = "application/json", true
		case "json_schema":
			g.ResponseMimeType, set = "application/json", true
			if len(rf.Schema) > 0 && string(rf.Schema) != "null" {
				g.ResponseJSONSchema = stripSchemaKeyword(rf.Schema)
			}
		}
	}
	if t := thinkingConfig(req, model); t != nil {
		g.ThinkingConfig, set = t, true
	}
	if !set {
		return nil
	}
	return g
}

// thinkingConfig maps the canonical reasoning request onto Gemini's thinkingConfig.
//
// A ThinkingBudget is sent as thinkingBudget. A ReasoningEffort becomes thinkingLevel on Gemini 3
// and newer ("none", "minimal", "low" → LOW; "medium", "high", "xhigh" → HIGH: the levels every
// Gemini 3 model accepts) and a thinkingBudget on older models (none 0, minimal/low 1024,
// medium 8192, high/xhigh 24576, the budgets Google's own OpenAI-compatible endpoint uses).
// includeThoughts is true whenever reasoning is asked for, so thought summaries come back as
// reasoning text.
func thinkingConfig(req *providers.Request, model string) *gThinkingConfig {
	yes, no := true, false
	if req.ThinkingBudget > 0 {
		b := protoInt(req.ThinkingBudget)
		return &gThinkingConfig{IncludeThoughts: &yes, ThinkingBudget: &b}
	}
	effort := strings.ToLower(req.ReasoningEffort)
	if isGemini3Plus(model) {
		switch effort {
		case "none", "minimal", "low":
			return &gThinkingConfig{IncludeThoughts: boolPtr(effort != "none"), ThinkingLevel: "low"}
		case "medium", "high", "xhigh":
			return &gThinkingConfig{IncludeThoughts: &yes, ThinkingLevel: "high"}
		}
		return nil
	}
	var budget protoInt
	switch effort {
	case "none":
		return &gThinkingConfig{IncludeThoughts: &no, ThinkingBudget: &budget}
	case "minimal", "low":
		budget = 1024
	case "medium":
		budget = 8192
	case "high", "xhigh":
		budget = 24576
	default:
		return nil
	}
	return &gThinkingConfig{IncludeThoughts: &yes, ThinkingBudget: &budget}
}

func boolPtr(b bool) *bool { return &b }

// isGemini3Plus reports whether model is Gemini 3 or newer (thought signatures are enforced,
// thinkingLevel replaces thinkingBudget). The "-latest" aliases point at the newest generation.
func isGemini3Plus(model string) bool {
	rest, ok := strings.CutPrefix(modelName(model), "gemini-")
	if !ok || rest == "" {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 {
		return strings.HasSuffix(rest, "-latest")
	}
	major, err := strconv.Atoi(rest[:end])
	return err == nil && major >= 3
}

// modelName strips the "models/" resource prefix.
func modelName(model string) string {
	return strings.TrimPrefix(model, "models/")
}

// contentParts maps text and image parts; empty text parts are dropped (Gemini rejects them).
func contentParts(content []providers.Part) []gPart {
	var parts []gPart
	for _, p := range content {
		switch p.Type {
		case providers.PartText:
			if p.Text != "" {
				parts = append(parts, gPart{Text: p.Text})
			}
		case providers.PartImage:
			if p.URL != "" {
				parts = append(parts, mediaPart(p))
			}
		}
	}
	return parts
}

// mediaPart maps an image part: a data: URL becomes inlineData, any other URL fileData with the
// MIME type known, else guessed from the file extension.
func mediaPart(p providers.Part) gPart {
	if mime, data, ok := parseDataURL(p.URL); ok {
		if p.MIMEType != "" {
			mime = p.MIMEType
		}
		return gPart{InlineData: &gBlob{MimeType: mime, Data: data}}
	}
	mime := p.MIMEType
	if mime == "" {
		mime = guessMIME(p.URL)
	}
	return gPart{FileData: &gFileData{MimeType: mime, FileURI: p.URL}}
}

// parseDataURL splits a data: URL into its MIME type and standard-base64 payload.
func parseDataURL(u string) (mime, data string, ok bool) {
	if len(u) < 5 || !strings.EqualFold(u[:5], "data:") {
		return "", "", false
	}
	meta, payload, ok := strings.Cut(u[5:], ",")
	if !ok {
		return "", "", false
	}
	isBase64 := false
	if m, found := strings.CutSuffix(meta, ";base64"); found {
		meta, isBase64 = m, true
	}
	mime, _, _ = strings.Cut(meta, ";")
	if mime == "" {
		mime = "text/plain"
	}
	if isBase64 {
		return mime, payload, true
	}
	raw, err := url.PathUnescape(payload)
	if err != nil {
		raw = payload
	}
	return mime, base64.StdEncoding.EncodeToString([]byte(raw)), true
}

// guessMIME guesses a file URI's MIME type from its extension. The table is built in (the system
// MIME database differs between machines); unknown extensions are taken for JPEG images, the
// canonical part being an image, and Gemini sniffs the real content anyway.
func guessMIME(uri string) string {
	u, err := url.Parse(uri)
	if err == nil {
		host := strings.TrimPrefix(u.Hostname(), "www.")
		if host == "youtube.com" || host == "youtu.be" || host == "m.youtube.com" {
			return "video/mp4"
		}
		uri = u.Path
	}
	switch strings.ToLower(path.Ext(uri)) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	case ".pdf":
		return "application/pdf"
	case ".txt":
		return "text/plain"
	case ".mp3":
		return "audio/mpeg"
	case ".wav":
		return "audio/wav"
	case ".ogg":
		return "audio/ogg"
	case ".flac":
		return "audio/flac"
	case ".mp4":
		return "video/mp4"
	case ".mov":
		return "video/quicktime"
	case ".webm":
		return "video/webm"
	}
	return "image/jpeg"
}

var errNotObject = errors.New("not a JSON object")

// toolArgs returns the arguments JSON as an object: empty means {}.
func toolArgs(args string) (json.RawMessage, error) {
	s := strings.TrimSpace(args)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	if !isJSONObject([]byte(s)) {
		return nil, errNotObject
	}
	return json.RawMessage(s), nil
}

// functionResponse builds the functionResponse for a tool message. The name comes from
// ToolName, else from the earlier assistant call with the same id, else from the id itself.
// The response is the tool's content when that is a JSON object, else {"output": text}
// ({"error": …} when the result reports a failure), the keys Gemini's documentation asks for.
func functionResponse(m *providers.Message, callNames map[string]string) (*gFunctionResponse, error) {
	idName, upstreamID, _, _ := decodeToolID(m.ToolCallID)
	name := m.ToolName
	if name == "" {
		name = callNames[m.ToolCallID]
	}
	if name == "" {
		name = idName
	}
	if name == "" {
		return nil, errUnknownTool(m.ToolCallID)
	}
	text := m.Text()
	key := "output"
	if m.IsError {
		key = "error"
	}
	var resp json.RawMessage
	switch trimmed := strings.TrimSpace(text); {
	case isJSONObject([]byte(trimmed)) && !m.IsError:
		resp = json.RawMessage(trimmed)
	case isJSONObject([]byte(trimmed)):
		resp = json.RawMessage(`{"error":` + trimmed + `}`)
	default:
		b := appendJSONString([]byte(`{"`+key+`":`), text)
		resp = append(b, '}')
	}
	return &gFunctionResponse{ID: upstreamID, Name: name, Response: resp}, nil
}

type errUnknownTool string

func (e errUnknownTool) Error() string {
	return "tool result " + strconv.Quote(string(e)) + " answers no earlier tool call and has no function name"
}
