package routes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/aigateway/ai-gateway/contrib/cputime"
	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// cannedUpstream is an HTTP/1.1 upstream on a loopback port that answers every request with the
// same bytes, keeping the connection. It parses no more than it must (the request's headers and
// Content-Length) and allocates nothing per request, so what a benchmark counts in its process
// is the gateway's share.
type cannedUpstream struct {
	ln     net.Listener
	answer []byte
}

// newCannedUpstream serves a 200 with body as application/json until the test ends.
func newCannedUpstream(tb testing.TB, body string) *cannedUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	u := &cannedUpstream{ln: ln, answer: fmt.Appendf(nil,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(conn)
		}
	}()
	tb.Cleanup(func() { ln.Close() })
	return u
}

func (u *cannedUpstream) url() string { return "http://" + u.ln.Addr().String() }

var contentLengthPrefix = []byte("content-length:")

func (u *cannedUpstream) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	for {
		length := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 { // the blank line after the headers
				break
			}
			if len(line) > len(contentLengthPrefix) && bytes.EqualFold(line[:len(contentLengthPrefix)], contentLengthPrefix) {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(line[len(contentLengthPrefix):])))
			}
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		if _, err := conn.Write(u.answer); err != nil {
			return
		}
	}
}

// benchAnswer is the ~1 KB chat completion the benchmark's upstream returns (the one `just bench`
// uses).
var benchAnswer = `{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("lorem ipsum ", 80) +
	`","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":12,"completion_tokens":200,"total_tokens":212}}`

// BenchmarkFrontDoor measures a whole non-stream POST /v1/chat/completions through the HTTP edge
// as production builds it: fiber's handler with every middleware (request id, security headers,
// access log, redaction, recovery, body decoding, client key), the gateway's admission (rate
// limits, quotas), the upstream call with the production HTTP client to an upstream on a loopback
// port, settlement and the request log row written to SQLite by the background writer. Only the
// client's TCP connection and fasthttp's parsing of it are left out. With -benchmem, B/op is the
// garbage per proxied request (SPEC §10: ≤ 8 KB); background work (the log writer) counts too.
// cpu-ns/op is the process's CPU time per request (the upstream's small share included), which
// other processes on a shared machine do not inflate as they do ns/op.
func BenchmarkFrontDoor(b *testing.B) {
	up := newCannedUpstream(b, benchAnswer)
	logs := gateway.NewLogBuffer(io.Discard, 100*time.Millisecond)
	b.Cleanup(func() { logs.Close() })
	logger := slog.New(slog.NewTextHandler(logs, nil))
	e := newEdge(b, withGateway(b, func(o *gateway.Options) {
		cfg := gateway.DefaultConfig()
		o.HTTPClient = providers.NewHTTPClient()
		o.HeaderTimeout, o.IdleTimeout = cfg.Upstream.HeaderTimeout, cfg.Upstream.IdleTimeout
		o.Logger = logger
		o.FlushInterval = 0 // the production default
	}), func(d *Deps) { d.Logger = logger })
	const limit = 1 << 40
	_, key := e.createClient(&db.Client{Name: "bench", Backend: "openai-compatible", BaseURL: up.url() + "/v1",
		ToolMode: "passthrough", Active: true, DefaultModel: "bench",
		RequestsPerMinute: limit, RequestsPerHour: limit, RequestsPerDay: limit,
		MaxInputTokensPerDay: limit, MaxOutputTokensPerDay: limit, MaxRequestsPerDay: limit,
		MaxInputTokens: 100000, MaxOutputTokens: 100000}, "sk-bench-upstream")
	body := []byte(`{"model":"bench","stream":false,"messages":[{"role":"user","content":"Say something about benchmarks, please."}]}`)
	auth := "Bearer " + key

	// The client's side of the request is a real socket, as in production, so the watch for a
	// client that leaves (cancelIfClientLeaves) runs too.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	conn, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()

	handler := e.app.Handler()
	var ctx fasthttp.RequestCtx
	ctx.Init2(conn, nil, false)
	one := func() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/v1/chat/completions")
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.Header.Set("Authorization", auth)
		ctx.Request.SetBody(body)
		handler(&ctx)
		if ctx.Response.StatusCode() != 200 || len(ctx.Response.Body()) != len(benchAnswer) {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	for range 200 { // warm up: connections, caches, pools
		one()
	}
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		one()
	}
	if cpu := cputime.Self() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
