package providers

import "net/http"

// Header values every upstream request shares: net/http only reads a request's headers, and a
// header set again gets a slice of its own. Setting them costs no allocation a request.
var (
	jsonValue        = []string{"application/json"}
	eventStreamValue = []string{"text/event-stream"}
)

// SetJSONHeaders sets an upstream request's Content-Type to JSON when it has a body, and its
// Accept to an event stream or JSON.
func SetJSONHeaders(h http.Header, hasBody, stream bool) {
	if hasBody {
		SetJSONContentType(h)
	}
	if stream {
		h["Accept"] = eventStreamValue
	} else {
		h["Accept"] = jsonValue
	}
}

// SetJSONContentType sets an upstream request's Content-Type to JSON.
func SetJSONContentType(h http.Header) { h["Content-Type"] = jsonValue }

// KeyHeader is a header that carries an upstream key, made once with its client: name in
// canonical form, value nil when there is no key.
type KeyHeader struct {
	name  string
	value []string
}

// NewKeyHeader returns the header name: prefix+key, or no header when key is empty.
func NewKeyHeader(name, prefix, key string) KeyHeader {
	if key == "" {
		return KeyHeader{}
	}
	return KeyHeader{name: http.CanonicalHeaderKey(name), value: []string{prefix + key}}
}

// Set puts the key on h; nothing without a key.
func (k KeyHeader) Set(h http.Header) {
	if k.value != nil {
		h[k.name] = k.value
	}
}
