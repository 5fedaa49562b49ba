package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// DecodeRequest translates a GenerateContentRequest body (the Gemini front door, any backend) into
// the canonical request for model (a "models/" prefix is stripped). Stream is left false; the
// handler knows which endpoint was called.
//
// systemInstruction becomes one system message; user turns become user messages (their
// functionResponse parts become tool messages, in place); model turns become assistant messages
// with thought text as Reasoning and functionCall parts as ToolCalls. A call's id is the part's id
// when it has one, else "call_<turn>_<part>" (stable as the conversation grows, which keeps
// upstream prompt caches warm). A functionResponse is linked to the call with its id, else to the
// earliest unanswered call of the same name. inlineData and fileData become image parts; tools'
// functionDeclarations take parametersJsonSchema as is and convert parameters (Gemini's OpenAPI
// subset) to JSON Schema; snake_case field names are accepted as Google's parser accepts them.
//
// Malformed JSON returns a KindBadRequest *providers.Error with the parser's message.
func DecodeRequest(model string, body []byte) (*providers.Request, error) {
	var g gRequest
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, badJSON(err)
	}
	g.normalize()
	return requestFrom(modelName(model), &g)
}

// DecodeCountTokensRequest translates a countTokens body, {"contents":…} or
// {"generateContentRequest":{…}}, like DecodeRequest.
func DecodeCountTokensRequest(model string, body []byte) (*providers.Request, error) {
	var ct gCountTokensRequest
	if err := json.Unmarshal(body, &ct); err != nil {
		return nil, badJSON(err)
	}
	g := gRequest{Contents: ct.Contents}
	if gc := pick(ct.GenerateContentRequest, ct.GenerateContentRequestSnake); gc != nil {
		g = gc.gRequest
		if len(g.Contents) == 0 {
			g.Contents = ct.Contents
		}
	}
	g.normalize()
	return requestFrom(modelName(model), &g)
}

type pendingCall struct {
	id, name string
	answered bool
}

func requestFrom(model string, g *gRequest) (*providers.Request, error) {
	req := &providers.Request{Model: model}
	if si := g.SystemInstruction; si != nil {
		var parts []providers.Part
		for _, p := range si.Parts {
			if p.Text != "" {
				parts = append(parts, providers.TextPart(p.Text))
			}
		}
		if len(parts) > 0 {
			req.Messages = append(req.Messages, providers.Message{Role: providers.RoleSystem, Content: parts})
		}
	}

	var calls []pendingCall
	for ci := range g.Contents {
		c := &g.Contents[ci]
		if c.Role == "model" {
			msg := providers.Message{Role: providers.RoleAssistant}
			var reasoning strings.Builder
			for pi := range c.Parts {
				p := &c.Parts[pi]
				switch {
				case p.FunctionCall != nil:
					fc := p.FunctionCall
					id := fc.ID
					if id == "" {
						id = "call_" + strconv.Itoa(ci) + "_" + strconv.Itoa(pi)
					}
					args := "{}"
					if a := bytes.TrimSpace(fc.Args); len(a) > 0 && string(a) != "null" {
						if !isJSONObject(a) {
							return nil, providers.Errorf(providers.KindBadRequest,
								"contents[%d].parts[%d].functionCall.args must be an object", ci, pi)
						}
						args = compactJSON(a)
					}
					msg.ToolCalls = append(msg.ToolCalls, providers.ToolCall{ID: id, Name: fc.Name, Arguments: args,
						Signature: p.ThoughtSignature})
					calls = append(calls, pendingCall{id: id, name: fc.Name})
				case p.Thought:
					reasoning.WriteString(p.Text)
				default:
					if part, ok := partFrom(p); ok {
						msg.Content = append(msg.Content, part)
					}
				}
			}
			msg.Reasoning = reasoning.String()
			if len(msg.Content) > 0 || len(msg.ToolCalls) > 0 || msg.Reasoning != "" {
				req.Messages = append(req.Messages, msg)
			}
			continue
		}
		// user (and anything else: Gemini only knows user and model)
		var pending []providers.Part
		flush := func() {
			if len(pending) > 0 {
				req.Messages = append(req.Messages, providers.Message{Role: providers.RoleUser, Content: pending})
				pending = nil
			}
		}
		for pi := range c.Parts {
			p := &c.Parts[pi]
			if fr := p.FunctionResponse; fr != nil {
				flush()
				req.Messages = append(req.Messages, toolMessage(fr, calls, ci, pi))
				continue
			}
			if part, ok := partFrom(p); ok {
				pending = append(pending, part)
			}
		}
		flush()
	}

	for ti := range g.Tools {
		for di := range g.Tools[ti].FunctionDeclarations {
			d := &g.Tools[ti].FunctionDeclarations[di]
			t := providers.Tool{Name: d.Name, Description: d.Description}
			switch {
			case len(d.ParametersJSONSchema) > 0 && string(d.ParametersJSONSchema) != "null":
				t.Parameters = d.ParametersJSONSchema
			case len(d.Parameters) > 0 && string(d.Parameters) != "null":
				s, err := openAPIToJSONSchema(d.Parameters)
				if err != nil {
					return nil, providers.Errorf(providers.KindBadRequest,
						"tools[%d].functionDeclarations[%d].parameters: %v", ti, di, err)
				}
				t.Parameters = s
			}
			req.Tools = append(req.Tools, t)
		}
	}

	if tc := g.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		f := tc.FunctionCallingConfig
		switch strings.ToUpper(f.Mode) {
		case "AUTO", "VALIDATED":
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceAuto}
		case "NONE":
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceNone}
		case "ANY":
			req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceRequired}
			if len(f.AllowedFunctionNames) == 1 {
				req.ToolChoice = &providers.ToolChoice{Mode: providers.ToolChoiceTool, Name: f.AllowedFunctionNames[0]}
			}
		}
	}

	if gc := g.GenerationConfig; gc != nil {
		if err := applyGenerationConfig(req, gc); err != nil {
			return nil, err
		}
	}
	if len(g.SafetySettings) > 0 || len(g.CachedContent) > 0 {
		req.Extra = map[string]json.RawMessage{}
		if len(g.SafetySettings) > 0 {
			req.Extra["safetySettings"] = g.SafetySettings
		}
		if len(g.CachedContent) > 0 {
			req.Extra["cachedContent"] = g.CachedContent
		}
	}
	return req, nil
}

// partFrom maps a text, inlineData or fileData part.
func partFrom(p *gPart) (providers.Part, bool) {
	switch {
	case p.InlineData != nil:
		return providers.Part{Type: providers.PartImage, MIMEType: p.InlineData.MimeType,
			URL: "data:" + p.InlineData.MimeType + ";base64," + p.InlineData.Data}, true
	case p.FileData != nil:
		return providers.Part{Type: providers.PartImage, MIMEType: p.FileData.MimeType, URL: p.FileData.FileURI}, true
	case p.Text != "":
		return providers.TextPart(p.Text), true
	}
	return providers.Part{}, false
}

// toolMessage maps a functionResponse, linking it to the call it answers. The content is the
// "output" (or "error", which also sets IsError) value when the response is just that, as text if
// it is a string; otherwise the whole response object as JSON.
func toolMessage(fr *gFunctionResponse, calls []pendingCall, ci, pi int) providers.Message {
	msg := providers.Message{Role: providers.RoleTool, ToolName: fr.Name}
	if fr.ID != "" {
		msg.ToolCallID = fr.ID
		for i := range calls {
			if calls[i].id == fr.ID {
				calls[i].answered = true
				break
			}
		}
	} else {
		for i := range calls {
			if !calls[i].answered && calls[i].name == fr.Name {
				calls[i].answered = true
				msg.ToolCallID = calls[i].id
				break
			}
		}
		if msg.ToolCallID == "" {
			msg.ToolCallID = "call_" + strconv.Itoa(ci) + "_" + strconv.Itoa(pi)
		}
	}

	text := ""
	if resp := bytes.TrimSpace(fr.Response); len(resp) > 0 && string(resp) != "null" {
		text = compactJSON(resp)
		if o, err := jsonscan.ParseObject(resp); err == nil && o.Len() == 1 && (o.Has("output") || o.Has("error")) {
			val := o.Get("output")
			if val == nil {
				val, msg.IsError = o.Get("error"), true
			}
			var s string
			if len(val) > 0 && val[0] == '"' && json.Unmarshal(val, &s) == nil {
				text = s
			} else {
				text = compactJSON(val)
			}
		}
	}
	msg.Content = []providers.Part{providers.TextPart(text)}
	for i := range fr.Parts {
		if part, ok := partFrom(&fr.Parts[i]); ok && part.Type == providers.PartImage {
			msg.Content = append(msg.Content, part)
		}
	}
	return msg
}

func applyGenerationConfig(req *providers.Request, gc *gGenerationConfig) error {
	if gc.MaxOutputTokens != nil {
		if *gc.MaxOutputTokens < 0 || *gc.MaxOutputTokens > math.MaxInt32 {
			return providers.Errorf(providers.KindBadRequest, "generationConfig.maxOutputTokens out of range")
		}
		req.MaxTokens = int(*gc.MaxOutputTokens)
	}
	req.Stop = gc.StopSequences
	f64 := func(p *protoFloat) *float64 {
		if p == nil {
			return nil
		}
		v := float64(*p)
		return &v
	}
	req.Temperature = f64(gc.Temperature)
	req.TopP = f64(gc.TopP)
	req.PresencePenalty = f64(gc.PresencePenalty)
	req.FrequencyPenalty = f64(gc.FrequencyPenalty)
	if gc.TopK != nil {
		k := int(math.Round(float64(*gc.TopK)))
		req.TopK = &k
	}
	if gc.Seed != nil {
		s := int64(*gc.Seed)
		req.Seed = &s
	}
	if gc.CandidateCount != nil && *gc.CandidateCount > 1 {
		if *gc.CandidateCount > maxCandidates {
			return providers.Errorf(providers.KindBadRequest, "generationConfig.candidateCount out of range")
		}
		req.N = int(*gc.CandidateCount)
	}
	if strings.EqualFold(gc.ResponseMimeType, "application/json") {
		switch {
		case len(gc.ResponseJSONSchema) > 0 && string(gc.ResponseJSONSchema) != "null":
			req.ResponseFormat = &providers.ResponseFormat{Type: "json_schema", Name: "response", Schema: gc.ResponseJSONSchema}
		case len(gc.ResponseSchema) > 0 && string(gc.ResponseSchema) != "null":
			s, err := openAPIToJSONSchema(gc.ResponseSchema)
			if err != nil {
				return providers.Errorf(providers.KindBadRequest, "generationConfig.responseSchema: %v", err)
			}
			req.ResponseFormat = &providers.ResponseFormat{Type: "json_schema", Name: "response", Schema: s}
		default:
			req.ResponseFormat = &providers.ResponseFormat{Type: "json_object"}
		}
	}
	if t := gc.ThinkingConfig; t != nil {
		if t.ThinkingBudget != nil && *t.ThinkingBudget > 0 {
			if *t.ThinkingBudget > math.MaxInt32 {
				return providers.Errorf(providers.KindBadRequest, "generationConfig.thinkingConfig.thinkingBudget out of range")
			}
			req.ThinkingBudget = int(*t.ThinkingBudget)
		}
		switch level := strings.ToLower(t.ThinkingLevel); level {
		case "minimal", "low", "medium", "high":
			req.ReasoningEffort = level
		case "", "thinking_level_unspecified":
		default:
			return providers.Errorf(providers.KindBadRequest, "generationConfig.thinkingConfig.thinkingLevel: unknown level %s",
				fmt.Sprintf("%q", t.ThinkingLevel))
		}
	}
	return nil
}
