package anthropic

import (
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		wantKind   providers.ErrorKind
		wantType   string
		wantMsg    string
	}{
		{"rate limit", 429, "17", `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}`,
			providers.KindRateLimited, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"},
		{"overloaded", 529, "", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, providers.KindUpstream, "overloaded_error", "Overloaded"},
		{"bad key", 401, "", `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, providers.KindAuth, "authentication_error", "invalid x-api-key"},
		{"plain text", 502, "", "Bad Gateway\n", providers.KindUpstream, "", "upstream returned HTTP 502: Bad Gateway"},
		{"html", 503, "", "<html><body>down</body></html>", providers.KindUpstream, "", "upstream returned HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := DecodeError(tt.status, tt.retryAfter, []byte(tt.body))
			if e.Status() != tt.status || e.Kind != tt.wantKind || e.Type != tt.wantType || e.Message != tt.wantMsg || e.RetryAfter != tt.retryAfter {
				t.Errorf("got %+v", e)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err  *providers.Error
		want string
	}{
		{&providers.Error{Kind: providers.KindBadRequest, Message: "max_tokens: Field required"}, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`},
		{&providers.Error{Kind: providers.KindAuth, Message: "invalid key"}, `{"type":"error","error":{"type":"authentication_error","message":"invalid key"}}`},
		{&providers.Error{Kind: providers.KindPermission, Message: "model not allowed"}, `{"type":"error","error":{"type":"permission_error","message":"model not allowed"}}`},
		{&providers.Error{Kind: providers.KindNotFound, Message: "no such model"}, `{"type":"error","error":{"type":"not_found_error","message":"no such model"}}`},
		{&providers.Error{Kind: providers.KindTooLarge, Message: "too big"}, `{"type":"error","error":{"type":"request_too_large","message":"too big"}}`},
		{&providers.Error{Kind: providers.KindRateLimited, Message: "slow down"}, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
		{&providers.Error{Kind: providers.KindInternal}, `{"type":"error","error":{"type":"api_error","message":"Internal Server Error"}}`},
		{&providers.Error{Kind: providers.KindUnavailable, Message: "upstream unreachable"}, `{"type":"error","error":{"type":"api_error","message":"upstream unreachable"}}`},
		{&providers.Error{Kind: providers.KindTimeout, Message: "upstream timed out"}, `{"type":"error","error":{"type":"timeout_error","message":"upstream timed out"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 529, Message: "Overloaded"}, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 402, Type: "billing_error", Message: "pay"}, `{"type":"error","error":{"type":"billing_error","message":"pay"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 409, Message: "conflict \"x\""}, `{"type":"error","error":{"type":"invalid_request_error","message":"conflict \"x\""}}`},
	}
	for _, tt := range tests {
		if got := string(EncodeError(tt.err)); got != tt.want {
			t.Errorf("%+v\n got  %s\n want %s", tt.err, got, tt.want)
		}
	}
	got := string(EncodeStreamError([]byte("x"), &providers.Error{Kind: providers.KindUpstream, HTTPStatus: 529, Message: "Overloaded"}))
	if want := "xevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"; got != want {
		t.Errorf("stream error = %q, want %q", got, want)
	}
}
