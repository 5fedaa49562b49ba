package routes

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/providers"
	"github.com/aigateway/ai-gateway/providers/anthropic"
	"github.com/aigateway/ai-gateway/providers/gemini"
	"github.com/aigateway/ai-gateway/providers/openai"
)

// TestErrorShapesByDoor pins what each front door tells a client about every kind of error and a
// few upstream answers: the HTTP error body (status, Retry-After, OpenAI type and code,
// Anthropic type, Gemini status name), and that the in-band stream error each door sends once
// the stream has started carries the very same object — so a client sees one error whether it
// arrives before or after the first byte.
func TestErrorShapesByDoor(t *testing.T) {
	const null = "" // an OpenAI code or param written as null
	tests := []struct {
		name string
		err  *providers.Error
		// status and retryAfter are the HTTP status and Retry-After header on every door.
		status     int
		retryAfter string
		// oaType, oaCode, oaParam: OpenAI's error.type, error.code, error.param.
		oaType, oaCode, oaParam string
		anType                  string // Anthropic's error.type
		gStatus                 string // Gemini's error.status
	}{
		// The gateway's own errors, one per kind.
		{name: "bad request", err: providers.Errorf(providers.KindBadRequest, "messages: required"), status: 400,
			oaType: "invalid_request_error", anType: "invalid_request_error", gStatus: "INVALID_ARGUMENT"},
		{name: "bad key", err: providers.Errorf(providers.KindAuth, "invalid API key"), status: 401,
			oaType: "authentication_error", anType: "authentication_error", gStatus: "UNAUTHENTICATED"},
		{name: "model not allowed", err: &providers.Error{Kind: providers.KindPermission, Message: "model x is not allowed", Code: "model_not_allowed", Param: "model"},
			status: 403, oaType: "permission_error", oaCode: "model_not_allowed", oaParam: "model", anType: "permission_error", gStatus: "PERMISSION_DENIED"},
		{name: "unknown model", err: providers.Errorf(providers.KindNotFound, "no such model"), status: 404,
			oaType: "invalid_request_error", anType: "not_found_error", gStatus: "NOT_FOUND"},
		{name: "too large", err: providers.Errorf(providers.KindTooLarge, "prompt too long"), status: 413,
			oaType: "invalid_request_error", oaCode: "request_too_large", anType: "request_too_large", gStatus: "INVALID_ARGUMENT"},
		{name: "client rate limit", err: &providers.Error{Kind: providers.KindRateLimited, Type: "rate_limit_error", Message: "slow down", RetryAfter: "12"},
			status: 429, retryAfter: "12", oaType: "rate_limit_error", anType: "rate_limit_error", gStatus: "RESOURCE_EXHAUSTED"},
		{name: "upstream broke the protocol", err: &providers.Error{Kind: providers.KindUpstream, Message: "bad stream"}, status: 502,
			oaType: "server_error", anType: "api_error", gStatus: "UNAVAILABLE"},
		{name: "upstream unreachable", err: providers.Errorf(providers.KindUnavailable, "upstream unreachable"), status: 502,
			oaType: "server_error", oaCode: "upstream_unavailable", anType: "api_error", gStatus: "UNAVAILABLE"},
		{name: "upstream timeout", err: providers.Errorf(providers.KindTimeout, "upstream timed out"), status: 504,
			oaType: "server_error", oaCode: "upstream_timeout", anType: "timeout_error", gStatus: "DEADLINE_EXCEEDED"},
		{name: "cancelled", err: providers.Errorf(providers.KindCanceled, "request cancelled"), status: 499,
			oaType: "request_cancelled", anType: "invalid_request_error", gStatus: "CANCELLED"},
		{name: "internal", err: providers.Errorf(providers.KindInternal, "internal error"), status: 500,
			oaType: "server_error", anType: "api_error", gStatus: "INTERNAL"},

		// Upstream answers: each protocol keeps its own type, another protocol's gives way to the status's.
		{name: "OpenAI 400 with its type", err: withParam(providers.UpstreamError("openai", 400, "Invalid value for 'temperature'", "invalid_request_error", "invalid_value", ""), "temperature"),
			status: 400, oaType: "invalid_request_error", oaCode: "invalid_value", oaParam: "temperature", anType: "invalid_request_error", gStatus: "INVALID_ARGUMENT"},
		{name: "Mistral 400 with its own type", err: providers.UpstreamError("mistral", 400, "Unexpected role 'user' after role 'tool'", "invalid_request_message_order", "3230", ""),
			status: 400, oaType: "invalid_request_message_order", oaCode: "3230", anType: "invalid_request_error", gStatus: "INVALID_ARGUMENT"},
		{name: "Anthropic 400 with its type", err: providers.UpstreamError("anthropic", 400, "max_tokens: Field required", "invalid_request_error", "", ""),
			status: 400, oaType: "invalid_request_error", anType: "invalid_request_error", gStatus: "INVALID_ARGUMENT"},
		{name: "Gemini 400 with its status", err: providers.UpstreamError("gemini", 400, "User location is not supported", "FAILED_PRECONDITION", "FAILED_PRECONDITION", ""),
			status: 400, oaType: "invalid_request_error", anType: "invalid_request_error", gStatus: "FAILED_PRECONDITION"},
		{name: "OpenAI 429 with Retry-After", err: providers.UpstreamError("openai", 429, "Rate limit reached for gpt-4o", "requests", "rate_limit_exceeded", "20"),
			status: 429, retryAfter: "20", oaType: "requests", oaCode: "rate_limit_exceeded", anType: "rate_limit_error", gStatus: "RESOURCE_EXHAUSTED"},
		{name: "Gemini 429 with Retry-After", err: providers.UpstreamError("gemini", 429, "Resource has been exhausted", "RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED", "7"),
			status: 429, retryAfter: "7", oaType: "rate_limit_error", anType: "rate_limit_error", gStatus: "RESOURCE_EXHAUSTED"},
		{name: "OpenAI 503", err: providers.UpstreamError("openai", 503, "overloaded", "", "", ""), status: 503,
			oaType: "server_error", anType: "overloaded_error", gStatus: "UNAVAILABLE"},
		{name: "Anthropic 529", err: providers.UpstreamError("anthropic", 529, "Overloaded", "overloaded_error", "", ""), status: 529,
			oaType: "server_error", anType: "overloaded_error", gStatus: "UNAVAILABLE"},
		{name: "upstream 499", err: providers.UpstreamError("openai", 499, "client closed request", "", "", ""), status: 499,
			oaType: "request_cancelled", anType: "invalid_request_error", gStatus: "CANCELLED"},
	}

	e := newEdge(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.err.Message
			oa := map[string]any{"error": map[string]any{"message": msg, "type": tt.oaType, "param": orNull(tt.oaParam), "code": orNull(tt.oaCode)}}
			an := map[string]any{"type": "error", "error": map[string]any{"type": tt.anType, "message": msg}}
			gm := map[string]any{"error": map[string]any{"code": float64(tt.status), "message": msg, "status": tt.gStatus}}

			doors := []struct {
				door, path string
				want       map[string]any
				inBand     []string // the stream error events, each holding the object the HTTP body has
			}{
				{"OpenAI", fmt.Sprintf("/v1/shape-%d", i), oa, []string{
					sseData(t, string(openai.EncodeStreamError(nil, tt.err)), "", "\n\n"),
				}},
				{"Anthropic", fmt.Sprintf("/v1/messages/shape-%d", i), an, []string{
					sseData(t, string(anthropic.EncodeStreamError(nil, tt.err)), "event: error\n", "\n\n"),
				}},
				{"Gemini", fmt.Sprintf("/v1beta/shape-%d", i), gm, []string{
					sseData(t, string(gemini.EncodeStreamError(nil, tt.err)), "", "\r\n\r\n"),
					sseData(t, string(gemini.NewStreamEncoder("gemini-2.5-flash", true).EncodeError(nil, tt.err)), "", "\r\n\r\n"),
					arrayOnly(t, string(gemini.NewStreamEncoder("gemini-2.5-flash", false).EncodeError(nil, tt.err))),
				}},
			}
			for _, d := range doors {
				e.app.Get(d.path, func(*fiber.Ctx) error { return tt.err })
				resp, body := e.do(newReq("GET", d.path, ""))
				if resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != tt.retryAfter ||
					resp.Header.Get("Content-Type") != fiber.MIMEApplicationJSON {
					t.Errorf("%s door: HTTP %d Retry-After %q Content-Type %q, want %d %q %s", d.door, resp.StatusCode,
						resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), tt.status, tt.retryAfter, fiber.MIMEApplicationJSON)
				}
				if got := decodeObject(t, body); !reflect.DeepEqual(got, d.want) {
					t.Errorf("%s door: HTTP body\n got %s\nwant %s", d.door, body, mustJSON(t, d.want))
				}
				for _, ev := range d.inBand {
					if got := decodeObject(t, ev); !reflect.DeepEqual(got, d.want) {
						t.Errorf("%s door: in-band stream error\n got %s\nwant %s (as the HTTP body)", d.door, ev, mustJSON(t, d.want))
					}
				}
			}
		})
	}
}

func withParam(e *providers.Error, param string) *providers.Error {
	e.Param = param
	return e
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sseData is the data of the one SSE event ev, which must be framed as prefix, "data: ", the
// data, end.
func sseData(t *testing.T, ev, prefix, end string) string {
	t.Helper()
	data, ok := strings.CutPrefix(ev, prefix+"data: ")
	if data, ok2 := strings.CutSuffix(data, end); ok && ok2 && !strings.ContainsAny(data, "\r\n") {
		return data
	}
	t.Fatalf("stream error event %q is not %q data: … %q", ev, prefix, end)
	return ""
}

// arrayOnly is the one element of a JSON-array stream that holds nothing but an error.
func arrayOnly(t *testing.T, stream string) string {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(stream), &elems); err != nil || len(elems) != 1 {
		t.Fatalf("JSON-array stream %q: %v, want one element", stream, err)
	}
	return string(elems[0])
}

func decodeObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return m
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
