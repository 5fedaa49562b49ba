package main

import (
	"io"
	"net/http"
	"net/http/httptest"
)

// newSpanSink is an OTLP/HTTP collector that reads every export and drops it (-otel): the
// gateway pays the whole cost of tracing, the sink almost none.
func newSpanSink() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse is zero bytes
	}))
}
