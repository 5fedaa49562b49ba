package main

// Issue 14, item 1: a compressed request body is inflated at most to the body limit. A small gzip
// that inflates to many times the limit gets 413 in the caller's protocol, and nothing reaches
// the upstream; honest compressed bodies still work, and a coding nobody inflates gets 415.

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
	"github.com/andybalholm/brotli"
)

// bombSize is what the bombs inflate to: far past the 10 MB body limit, from ~64 KB on the wire.
const bombSize = 64 << 20

// compress encodes prefix + n bytes of 'a' + suffix with coding, without holding the plain text.
func compress(t *testing.T, coding, prefix string, n int, suffix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "deflate-raw":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriterLevel(&buf, 1)
	default:
		t.Fatalf("no coding %q", coding)
	}
	io.WriteString(w, prefix)
	chunk := bytes.Repeat([]byte{'a'}, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		w.Write(chunk[:k])
		n -= k
	}
	io.WriteString(w, suffix)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// splitAt cuts a door's minimal body around its "hello there", so the text can be replaced.
func splitAt(t *testing.T, body string) (string, string) {
	t.Helper()
	before, after, ok := strings.Cut(body, "hello there")
	if !ok {
		t.Fatalf("no text in %s", body)
	}
	return before, after
}

func TestAttackDecompressionBomb(t *testing.T) {
	var (
		mu       sync.Mutex
		received []string // what each upstream request carried: Content-Encoding, then the body
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		mu.Lock()
		received = append(received, r.Header.Get("Content-Encoding")+"|"+string(u.Body))
		mu.Unlock()
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"ok"}, Input: 3, Output: 1})
	}))
	defer up.Close()
	g := startRelGateway(t, nil, up.URL)

	post := func(path string, header http.Header, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.url+path, bytes.NewReader(body))
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	doorHeader := func(d relDoor, backend, coding string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {coding}}
		d.auth(h, g.keys[backend])
		return h
	}

	// Bombs: every door, and the admin API, answer 413 in their own shape.
	for i, d := range relDoors {
		coding := []string{"gzip", "br", "deflate"}[i]
		before, after := splitAt(t, d.body(false))
		bomb := compress(t, coding, before, bombSize, after)
		status, body := post(d.path(false), doorHeader(d, relBackends[i], coding), bomb)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "once decompressed") {
			t.Errorf("%s, %d bytes of %s inflating to %d MB: got %d %.300s, want 413 saying the limit is passed once decompressed",
				d.name, len(bomb), coding, bombSize>>20, status, body)
		}
		var shape map[string]any
		json.Unmarshal([]byte(body), &shape)
		switch d.name {
		case "anthropic":
			if shape["type"] != "error" {
				t.Errorf("anthropic: error body not in Anthropic's shape: %.300s", body)
			}
		case "gemini":
			if e, _ := shape["error"].(map[string]any); e == nil || e["code"] != float64(413) {
				t.Errorf("gemini: error body not in Gemini's shape: %.300s", body)
			}
		default:
			if e, _ := shape["error"].(map[string]any); e == nil || e["type"] != "invalid_request_error" {
				t.Errorf("openai: error body not in OpenAI's shape: %.300s", body)
			}
		}
	}
	adminBomb := compress(t, "gzip", `{"name":"`, bombSize, `","backend":"openai","base_url":"https://x.example/v1"}`)
	status, body := post("/admin/api/v1/clients", http.Header{"Content-Type": {"application/json"},
		"Authorization": {"Bearer " + g.token}, "Content-Encoding": {"gzip"}}, adminBomb)
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":"too_large"`) {
		t.Errorf("admin API, gzip bomb: got %d %.300s, want 413 too_large", status, body)
	}
	mu.Lock()
	if len(received) > 0 {
		t.Errorf("the upstream received %d request(s) from bombs, the first %d bytes long", len(received), len(received[0]))
	}
	received = nil
	mu.Unlock()

	// Honest compressed bodies are inflated once and reach the upstream uncompressed.
	for _, coding := range []string{"gzip", "x-gzip", "deflate", "deflate-raw", "br", "identity, gzip"} {
		for i, d := range relDoors {
			before, after := splitAt(t, d.body(false))
			enc := strings.TrimPrefix(coding, "identity, ")
			if enc == "x-gzip" {
				enc = "gzip"
			}
			small := compress(t, enc, before+"hello there ", 1000, after)
			header := strings.TrimSuffix(coding, "-raw")
			status, body := post(d.path(false), doorHeader(d, relBackends[i], header), small)
			if status != http.StatusOK || !strings.Contains(body, "ok") {
				t.Errorf("%s, %s body: got %d %.300s, want 200", d.name, coding, status, body)
			}
		}
	}
	mu.Lock()
	if len(received) != 6*len(relDoors) {
		t.Errorf("the upstream received %d requests, want %d", len(received), 6*len(relDoors))
	}
	for _, r := range received {
		if !strings.HasPrefix(r, "|") || !strings.Contains(r, "hello there "+strings.Repeat("a", 1000)) {
			t.Errorf("the upstream received %.200q, want the inflated text and no Content-Encoding", r)
		}
	}
	mu.Unlock()

	// A coding the gateway does not inflate, or a chain of them: 415 in the door's shape.
	for _, coding := range []string{"zstd", "gzip, gzip"} {
		status, body := post(relOpenAI.path(false), doorHeader(relOpenAI, beOpenAI, coding), []byte("(\xb5/\xfd"))
		if status != http.StatusUnsupportedMediaType || !strings.Contains(body, `"type":"invalid_request_error"`) {
			t.Errorf("Content-Encoding %s: got %d %.300s, want 415", coding, status, body)
		}
	}
	// Bytes that are not what the header says: 400, not an empty body passed on.
	status, body = post(relOpenAI.path(false), doorHeader(relOpenAI, beOpenAI, "gzip"), []byte(relOpenAI.body(false)))
	if status != http.StatusBadRequest || !strings.Contains(body, "not valid gzip") {
		t.Errorf("plain JSON labelled gzip: got %d %.300s, want 400", status, body)
	}
}
