package providers

import "context"

// Operations on state a backend keeps itself (the Responses API's stored responses), forwarded
// for the client that owns it.
const (
	// OpRead reads ForwardRequest.Path (GET).
	OpRead = "read"
	// OpDelete deletes ForwardRequest.Path.
	OpDelete = "delete"
	// OpCompact compacts a conversation (the Responses API's POST /responses/compact): the
	// answer is the new context window, with an opaque compaction item only that backend reads.
	OpCompact = "compact"
)

// NativeForwarder is implemented by providers whose backend also serves a protocol other than
// its own natively (OpenAI, Azure's v1 API and xAI serve the Responses API next to Chat
// Completions): that protocol's door forwards to it close to byte-for-byte instead of
// translating.
//
// ForwardNative is Forwarder.Forward for protocol: OpGenerate, OpCountTokens and OpCompact with
// the policy applied to the body, OpRead and OpDelete on req.Path (relative to the protocol's resource,
// e.g. "resp_1/input_items?limit=5") with no body. Errors are *Error, as for Forward.
type NativeForwarder interface {
	ServesNatively(protocol string) bool
	ForwardNative(ctx context.Context, protocol string, req ForwardRequest) (Forwarded, error)
}

// ProtocolResponses is the OpenAI Responses API (POST /v1/responses and its stored responses).
const ProtocolResponses = "responses"
