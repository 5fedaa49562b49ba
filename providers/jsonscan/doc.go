// Package jsonscan is the gateway's one JSON scanner: a validating scanner that walks raw JSON
// without decoding it, helpers that read single values from the raw bytes, and Object, an
// order-preserving editor for the top level of an object.
//
// The same-protocol paths of every protocol package use it to read a few keys of a request, to
// change the few that policy owns and to sniff stream chunks, while every other byte of the body
// stays as the client sent it. Anything that needs the whole value decodes it with encoding/json.
//
// Error contract: scanning functions return ErrSyntax for input that encoding/json would reject
// (they accept exactly what json.Valid accepts, nesting limit included); SyntaxError gives
// encoding/json's own message for it, which is what users should see. ParseObject returns
// ErrNotObject for valid JSON that is not an object. A callback's own error ends a walk and is
// returned unchanged. Indexes are byte offsets into the slice given; no function panics on any
// input.
package jsonscan
