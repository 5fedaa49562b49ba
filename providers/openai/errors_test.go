package openai

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestEncodeError(t *testing.T) {
	tests := []struct {
		name string
		err  *providers.Error
		want string
	}{
		{"bad request", providers.Errorf(providers.KindBadRequest, "invalid JSON body: x"),
			`{"error":{"message":"invalid JSON body: x","type":"invalid_request_error","param":null,"code":null}}`},
		{"auth", &providers.Error{Kind: providers.KindAuth, Message: "Invalid API key."},
			`{"error":{"message":"Invalid API key.","type":"authentication_error","param":null,"code":null}}`},
		{"model not allowed", &providers.Error{Kind: providers.KindPermission, Message: "model x is not allowed", Code: "model_not_allowed", Param: "model"},
			`{"error":{"message":"model x is not allowed","type":"permission_error","param":"model","code":"model_not_allowed"}}`},
		{"not found", &providers.Error{Kind: providers.KindNotFound, Message: "no such model"},
			`{"error":{"message":"no such model","type":"invalid_request_error","param":null,"code":null}}`},
		{"rate limited", &providers.Error{Kind: providers.KindRateLimited, Message: "slow down"},
			`{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}`},
		{"upstream type and code kept", providers.UpstreamError("mistral", 400, "Unexpected role", "invalid_request_message_order", "3230", ""),
			`{"error":{"message":"Unexpected role","type":"invalid_request_message_order","param":null,"code":"3230"}}`},
		{"timeout", &providers.Error{Kind: providers.KindTimeout, Message: "upstream timed out"},
			`{"error":{"message":"upstream timed out","type":"server_error","param":null,"code":"upstream_timeout"}}`},
		{"unreachable", &providers.Error{Kind: providers.KindUnavailable, Message: "upstream unreachable"},
			`{"error":{"message":"upstream unreachable","type":"server_error","param":null,"code":"upstream_unavailable"}}`},
		{"empty message gets the status text", &providers.Error{Kind: providers.KindInternal},
			`{"error":{"message":"Internal Server Error","type":"server_error","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(EncodeError(tt.err)); got != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
			if got, want := string(EncodeStreamError([]byte("x"), tt.err)), "xdata: "+tt.want+"\n\n"; got != want {
				t.Fatalf("stream error\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestEncodeStreamErrorIsReadAsAnError(t *testing.T) {
	// What the OpenAI front door writes mid-stream is what the decoder (like the SDKs) raises.
	sse := "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
	sse = string(EncodeStreamError([]byte(sse), &providers.Error{Kind: providers.KindUpstream, Message: "upstream exploded"}))
	s := DecodeStream(io.NopCloser(strings.NewReader(sse)))
	var err error
	for err == nil {
		_, err = s.Next()
	}
	var e *providers.Error
	if !errors.As(err, &e) || e.Message != "upstream exploded" || e.Type != "server_error" {
		t.Fatalf("err = %#v", err)
	}
}

func TestEncodeErrorIsValidJSON(t *testing.T) {
	b := EncodeError(&providers.Error{Kind: providers.KindBadRequest, Message: "bad \x00 \"quote\" \u2028"})
	var v struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := v.Error[k]; !ok {
			t.Fatalf("key %q missing in %s", k, b)
		}
	}
}
