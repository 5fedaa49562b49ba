package gemini

import (
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestEncodeResponseGolden(t *testing.T) {
	tests := []struct {
		name string
		resp *providers.Response
	}{
		{"encode_response_tools", &providers.Response{
			ID: "chatcmpl-123", Model: "gpt-4o-mini", Created: 1700000000,
			Choices: []providers.Choice{{Message: providers.Message{
				Role:      providers.RoleAssistant,
				Reasoning: "Two cities, two calls.",
				Content:   []providers.Part{providers.TextPart("Checking <both> & more.")},
				ToolCalls: []providers.ToolCall{
					{ID: "call_abc", Name: "get_weather", Arguments: `{"city": "Paris"}`, Signature: "U0lH"},
					{ID: "toolu_01", Name: "get_weather", Arguments: `{"city":"London"}`, Signature: "not*base64"},
					{ID: "call_x", Name: "noop", Arguments: ``},
				},
			}, FinishReason: providers.FinishToolCalls}},
			Usage: providers.Usage{InputTokens: 100, OutputTokens: 50, CachedTokens: 20, ReasoningTokens: 10},
		}},
		{"encode_response_filtered", &providers.Response{
			ID: "msg_1", Model: "claude-sonnet-4-5",
			Choices: []providers.Choice{{Message: providers.Message{Role: providers.RoleAssistant}, FinishReason: providers.FinishContentFilter},
				{Index: 1, Message: providers.Message{Role: providers.RoleAssistant, Content: []providers.Part{providers.TextPart("cut")}}, FinishReason: providers.FinishLength}},
			Usage: providers.Usage{InputTokens: 7},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, pretty(t, EncodeResponse(tt.resp)))
		})
	}
}

func TestEncodeModels(t *testing.T) {
	models := []providers.Model{{ID: "gpt-4o", OwnedBy: "openai"}, {ID: "models/gemini-2.5-flash", DisplayName: "Gemini 2.5 Flash"}}
	golden(t, "encode_models", pretty(t, EncodeModels(models)))
	if got := string(EncodeModel(models[0])); got != `{"name":"models/gpt-4o","baseModelId":"gpt-4o","displayName":"gpt-4o","supportedGenerationMethods":["generateContent","countTokens"]}` {
		t.Errorf("EncodeModel: %s", got)
	}
	if got := string(EncodeModels(nil)); got != `{"models":[]}` {
		t.Errorf("no models: %s", got)
	}
}
