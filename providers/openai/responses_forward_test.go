package openai

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

// The policy changes three fields of a Responses body and leaves every other one as it was, in
// its place.
func TestRewriteResponses(t *testing.T) {
	tests := []struct {
		name, in string
		p        providers.Policy
		want     string
	}{
		{"model, prompt before instructions, clamp", `{"model":"a","instructions":"Mine.","x":{"y":[1, 2]},"max_output_tokens":900}`,
			providers.Policy{Model: "b", SystemPrompt: "Policy.", MaxTokens: 500},
			`{"model":"b","instructions":"Policy.\n\nMine.","x":{"y":[1, 2]},"max_output_tokens":500}`},
		{"added when absent", `{"input":"hi"}`, providers.Policy{Model: "b", SystemPrompt: "P", MaxTokens: 500},
			`{"input":"hi","model":"b","instructions":"P","max_output_tokens":500}`},
		{"a smaller cap stays", `{"model":"a","max_output_tokens":100}`, providers.Policy{Model: "a", MaxTokens: 500},
			`{"model":"a","max_output_tokens":100}`},
		{"null instructions", `{"instructions":null}`, providers.Policy{SystemPrompt: "P"}, `{"instructions":"P"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewriteResponses([]byte(tt.in), tt.p, true)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s (%v), want %s", got, err, tt.want)
			}
		})
	}
	if _, err := rewriteResponses([]byte(`[1]`), providers.Policy{}, true); err == nil {
		t.Error("an array body was accepted")
	}
}

func nativeClient(t *testing.T, backend string, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Backend: backend, BaseURL: srv.URL, APIKey: "k", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A forwarded Responses stream is relayed up to its terminal event (an upstream that keeps the
// connection open after it is not waited for), with its usage; one that ends without a terminal
// event was cut off and is an error.
func TestForwardResponsesStream(t *testing.T) {
	if c := nativeClient(t, "mistral", nil); c.ServesNatively(providers.ProtocolResponses) {
		t.Error("mistral serves the Responses API?")
	}
	for _, tt := range []struct {
		name, body string
		events     int
		wantErr    bool
	}{
		{"whole", "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Hi\"}\n\n" +
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"status\":\"completed\",\"model\":\"g\",\"usage\":{\"input_tokens\":4,\"output_tokens\":2,\"input_tokens_details\":{\"cached_tokens\":1},\"output_tokens_details\":{\"reasoning_tokens\":1}}}}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"after the end\"}\n\n", 3, false},
		{"cut off", "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Hi\"}\n\n", 2, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := nativeClient(t, "openai", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/responses" || r.Header.Get("Authorization") != "Bearer k" {
					http.Error(w, "wrong request", 400)
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, tt.body)
			})
			f, err := c.ForwardNative(context.Background(), providers.ProtocolResponses,
				providers.ForwardRequest{Op: providers.OpGenerate, Body: []byte(`{"model":"g","stream":true}`), Stream: true})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Frames.Close()
			var names []string
			for {
				fr, err := f.Frames.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if !tt.wantErr || !strings.Contains(err.Error(), "before the answer was complete") {
						t.Fatalf("error %v", err)
					}
					break
				}
				names = append(names, fr.Event)
			}
			if len(names) != tt.events {
				t.Fatalf("frames %v", names)
			}
			if !tt.wantErr {
				if s := f.Frames.Summary(); !s.HasUsage || s.Usage.InputTokens != 4 || s.Usage.CachedTokens != 1 || s.Usage.ReasoningTokens != 1 || s.FinishReason != providers.FinishStop || s.Model != "g" {
					t.Errorf("summary %+v", s)
				}
			}
		})
	}
}
