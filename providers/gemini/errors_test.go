package gemini

import (
	"testing"

	"github.com/aigateway/ai-gateway/providers"
)

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err  *providers.Error
		want string
	}{
		{providers.Errorf(providers.KindBadRequest, "bad \"thing\""), `{"error":{"code":400,"message":"bad \"thing\"","status":"INVALID_ARGUMENT"}}`},
		{providers.Errorf(providers.KindAuth, "invalid API key"), `{"error":{"code":401,"message":"invalid API key","status":"UNAUTHENTICATED"}}`},
		{providers.Errorf(providers.KindPermission, "model not allowed"), `{"error":{"code":403,"message":"model not allowed","status":"PERMISSION_DENIED"}}`},
		{providers.Errorf(providers.KindNotFound, "no such model"), `{"error":{"code":404,"message":"no such model","status":"NOT_FOUND"}}`},
		{providers.Errorf(providers.KindTooLarge, "too large"), `{"error":{"code":413,"message":"too large","status":"INVALID_ARGUMENT"}}`},
		{providers.Errorf(providers.KindRateLimited, "slow down"), `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`},
		{providers.Errorf(providers.KindInternal, "oops"), `{"error":{"code":500,"message":"oops","status":"INTERNAL"}}`},
		{providers.Errorf(providers.KindUnavailable, "unreachable"), `{"error":{"code":502,"message":"unreachable","status":"UNAVAILABLE"}}`},
		{&providers.Error{Kind: providers.KindUpstream, HTTPStatus: 503, Message: "busy"}, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`},
		{providers.Errorf(providers.KindTimeout, "timed out"), `{"error":{"code":504,"message":"timed out","status":"DEADLINE_EXCEEDED"}}`},
		{providers.UpstreamError("gemini", 400, "precondition", "FAILED_PRECONDITION", "FAILED_PRECONDITION", ""), `{"error":{"code":400,"message":"precondition","status":"FAILED_PRECONDITION"}}`},
		{providers.UpstreamError("openai", 400, "bad", "invalid_request_error", "x", ""), `{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}`},
	}
	for _, tt := range tests {
		if got := string(EncodeError(tt.err)); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestEncodeStreamError(t *testing.T) {
	got := string(EncodeStreamError([]byte("x"), providers.Errorf(providers.KindTimeout, "upstream timed out")))
	if want := "x" + `data: {"error":{"code":504,"message":"upstream timed out","status":"DEADLINE_EXCEEDED"}}` + "\r\n\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
