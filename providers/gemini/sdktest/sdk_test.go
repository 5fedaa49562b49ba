package sdktest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genai"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/gemini"
)

// frontDoor is a minimal Gemini front door over a scripted backend: it records the canonical
// requests the SDK's bodies decode to and replies with canned canonical answers.
type frontDoor struct {
	mu       sync.Mutex
	requests []*providers.Request
	keys     []string
	answer   *providers.Response
	events   []providers.StreamEvent
	fail     *providers.Error
}

func (f *frontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/v1beta/")
	f.mu.Lock()
	f.keys = append(f.keys, r.Header.Get("x-goog-api-key"))
	f.mu.Unlock()
	if r.Method == http.MethodGet && path == "models" {
		w.Write(gemini.EncodeModels([]providers.Model{{ID: "gpt-4o-mini"}, {ID: "claude-sonnet-4-5", DisplayName: "Claude"}}))
		return
	}
	model, method, _ := strings.Cut(strings.TrimPrefix(path, "models/"), ":")
	if f.fail != nil && method == "generateContent" {
		w.WriteHeader(f.fail.Status())
		w.Write(gemini.EncodeError(f.fail))
		return
	}
	if method == "countTokens" {
		req, err := gemini.DecodeCountTokensRequest(model, body)
		if err != nil {
			w.WriteHeader(400)
			w.Write(gemini.EncodeError(providers.AsError(err)))
			return
		}
		w.Write(gemini.EncodeCountTokensResponse(len(req.Messages[0].Text())))
		return
	}
	req, err := gemini.DecodeRequest(model, body)
	if err != nil {
		w.WriteHeader(400)
		w.Write(gemini.EncodeError(providers.AsError(err)))
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if method == "streamGenerateContent" {
		sse := r.URL.Query().Get("alt") == "sse"
		enc := gemini.NewStreamEncoder(model, sse)
		w.Header().Set("Content-Type", "text/event-stream")
		var buf []byte
		for _, ev := range f.events {
			buf = enc.Encode(buf[:0], ev)
			w.Write(buf)
			w.(http.Flusher).Flush()
		}
		w.Write(enc.Finish(buf[:0]))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(gemini.EncodeResponse(f.answer))
}

func newSDK(t *testing.T, fd *frontDoor) *genai.Client {
	t.Helper()
	srv := httptest.NewServer(fd)
	t.Cleanup(srv.Close)
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      "gm_client_key",
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var weatherTool = &genai.Tool{FunctionDeclarations: []*genai.FunctionDeclaration{{
	Name: "get_weather", Description: "Current weather",
	Parameters: &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{
		"city": {Type: genai.TypeString, Description: "City name"}}, Required: []string{"city"}},
}}}

func TestSDKGenerateContentWithTools(t *testing.T) {
	fd := &frontDoor{answer: &providers.Response{ID: "chatcmpl-1", Model: "gpt-4o-mini",
		Choices: []providers.Choice{{Message: providers.Message{Role: providers.RoleAssistant,
			Content:   []providers.Part{providers.TextPart("Checking.")},
			ToolCalls: []providers.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}, {ID: "call_2", Name: "get_weather", Arguments: `{"city":"Rome"}`}}},
			FinishReason: providers.FinishToolCalls}},
		Usage: providers.Usage{InputTokens: 20, OutputTokens: 9, ReasoningTokens: 2, CachedTokens: 4}}}
	client := newSDK(t, fd)
	ctx := context.Background()
	cfg := &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser),
		Tools:             []*genai.Tool{weatherTool},
		Temperature:       genai.Ptr[float32](0),
		MaxOutputTokens:   256,
		ThinkingConfig:    &genai.ThinkingConfig{IncludeThoughts: true, ThinkingBudget: genai.Ptr[int32](512)},
	}
	history := []*genai.Content{genai.NewContentFromParts([]*genai.Part{
		genai.NewPartFromText("Weather in Paris and Rome?"),
		genai.NewPartFromBytes([]byte{0x89, 'P', 'N', 'G'}, "image/png"),
	}, genai.RoleUser)}
	resp, err := client.Models.GenerateContent(ctx, "gpt-4o-mini", history, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "Checking." || len(resp.FunctionCalls()) != 2 || resp.FunctionCalls()[1].Args["city"] != "Rome" ||
		resp.FunctionCalls()[0].ID != "call_1" || resp.Candidates[0].FinishReason != genai.FinishReasonStop {
		t.Fatalf("SDK saw %+v", resp)
	}
	if u := resp.UsageMetadata; u.PromptTokenCount != 20 || u.CandidatesTokenCount != 7 || u.ThoughtsTokenCount != 2 || u.CachedContentTokenCount != 4 || u.TotalTokenCount != 29 {
		t.Errorf("usage %+v", u)
	}

	// Second turn: the SDK sends the model turn back plus the function responses.
	history = append(history, resp.Candidates[0].Content)
	var answers []*genai.Part
	for _, fc := range resp.FunctionCalls() {
		answers = append(answers, &genai.Part{FunctionResponse: &genai.FunctionResponse{ID: fc.ID, Name: fc.Name,
			Response: map[string]any{"output": "sunny in " + fc.Args["city"].(string)}}})
	}
	history = append(history, genai.NewContentFromParts(answers, genai.RoleUser))
	if _, err := client.Models.GenerateContent(ctx, "gpt-4o-mini", history, cfg); err != nil {
		t.Fatal(err)
	}

	fd.mu.Lock()
	defer fd.mu.Unlock()
	first, second := fd.requests[0], fd.requests[1]
	if first.Messages[0].Role != providers.RoleSystem || first.Messages[0].Text() != "Be brief." || first.MaxTokens != 256 ||
		*first.Temperature != 0 || first.ThinkingBudget != 512 || first.Messages[1].Content[1].URL != "data:image/png;base64,iVBORw==" {
		t.Errorf("first request %+v", first)
	}
	if got := string(first.Tools[0].Parameters); got != `{"properties":{"city":{"description":"City name","type":"string"}},"required":["city"],"type":"object"}` {
		t.Errorf("SDK schema converted to %s", got)
	}
	msgs := second.Messages
	if len(msgs) != 5 || msgs[2].ToolCalls[1].ID != "call_2" || msgs[3].ToolCallID != "call_1" || msgs[4].ToolCallID != "call_2" ||
		msgs[4].Text() != "sunny in Rome" {
		b, _ := json.MarshalIndent(msgs, "", " ")
		t.Errorf("second turn %s", b)
	}
	for _, k := range fd.keys {
		if k != "gm_client_key" {
			t.Errorf("SDK sent key %q", k)
		}
	}
}

func TestSDKStream(t *testing.T) {
	fd := &frontDoor{events: []providers.StreamEvent{
		{Kind: providers.EventStart, ID: "chatcmpl-2", Model: "gpt-4o-mini"},
		{Kind: providers.EventReasoning, Text: "hmm"},
		{Kind: providers.EventText, Text: "Hel"},
		{Kind: providers.EventText, Text: "lo"},
		{Kind: providers.EventToolCall, ToolIndex: 0, ToolID: "call_1", ToolName: "get_weather"},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `{"city":`},
		{Kind: providers.EventToolArgs, ToolIndex: 0, Args: `"Oslo"}`},
		{Kind: providers.EventFinish, FinishReason: providers.FinishToolCalls},
		{Kind: providers.EventUsage, Usage: &providers.Usage{InputTokens: 5, OutputTokens: 3}},
	}}
	client := newSDK(t, fd)
	var text, thoughts strings.Builder
	var calls []*genai.FunctionCall
	var last *genai.GenerateContentResponse
	for resp, err := range client.Models.GenerateContentStream(context.Background(), "gpt-4o-mini",
		genai.Text("Hi"), &genai.GenerateContentConfig{Tools: []*genai.Tool{weatherTool}}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range resp.Candidates[0].Content.Parts {
			if p.Thought {
				thoughts.WriteString(p.Text)
			} else {
				text.WriteString(p.Text)
			}
		}
		calls = append(calls, resp.FunctionCalls()...)
		last = resp
	}
	if text.String() != "Hello" || thoughts.String() != "hmm" || len(calls) != 1 || calls[0].Args["city"] != "Oslo" {
		t.Errorf("text %q thoughts %q calls %+v", text.String(), thoughts.String(), calls)
	}
	if last.Candidates[0].FinishReason != genai.FinishReasonStop || last.UsageMetadata.TotalTokenCount != 8 || last.ResponseID != "chatcmpl-2" {
		t.Errorf("last chunk %+v", last)
	}
}

func TestSDKErrorsModelsAndCount(t *testing.T) {
	fd := &frontDoor{fail: &providers.Error{Kind: providers.KindPermission, Message: "model not allowed for this key"}}
	client := newSDK(t, fd)
	ctx := context.Background()
	_, err := client.Models.GenerateContent(ctx, "gpt-4o", genai.Text("hi"), nil)
	var apiErr genai.APIError
	if !errorsAs(err, &apiErr) || apiErr.Code != 403 || apiErr.Status != "PERMISSION_DENIED" || apiErr.Message != "model not allowed for this key" {
		t.Errorf("SDK error %#v", err)
	}
	var names []string
	for m, err := range client.Models.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name+"|"+m.DisplayName)
	}
	if strings.Join(names, ",") != "models/gpt-4o-mini|gpt-4o-mini,models/claude-sonnet-4-5|Claude" {
		t.Errorf("models %v", names)
	}
	ct, err := client.Models.CountTokens(ctx, "gpt-4o", genai.Text("hello"), nil)
	if err != nil || ct.TotalTokens != 5 {
		t.Errorf("count %+v %v", ct, err)
	}
}

func errorsAs(err error, target *genai.APIError) bool {
	if e, ok := err.(genai.APIError); ok {
		*target = e
		return true
	}
	return false
}
