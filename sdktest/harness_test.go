// Package sdktest drives the client-facing front doors of the real program with the official
// SDKs (openai-go, anthropic-sdk-go v1 and v2, google.golang.org/genai) and with plain HTTP, over
// mock upstreams that speak each provider's exact wire format and record what they upstreamtest.Request.
//
// The program under test is the ai-gateway binary, built once by TestMain and started per test
// on a free port in a temp dir, exactly as a user runs it. The SDKs are slow to compile, which is
// why these tests live in their own package.
package sdktest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// gatewayBinary is the ai-gateway executable TestMain built; it is set before any test runs and only
// read afterwards.
var gatewayBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aigw-sdktest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatewayBinary = filepath.Join(dir, "ai-gateway")
	args := []string{"build", "-o", gatewayBinary}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Dir = ".." // the module root: package main
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gateway is one running ai-gateway process, seen from one test (see at).
type gateway struct {
	t *testing.T
	*process
}

// process is the running program with an admin API token.
type process struct {
	url   string
	token string
	out   *logBuffer
	// secrets must never appear in the program's output (upstream keys, client keys).
	mu      sync.Mutex
	secrets []string
	clients int
}

// at is the same gateway for a subtest, so that its helpers fail the subtest.
func (g *gateway) at(t *testing.T) *gateway { return &gateway{t: t, process: g.process} }

// logBuffer collects the program's stdout and reports the "listening on" URL once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	listeningLine  = regexp.MustCompile(`listening on (http://\S+)`)
	adminTokenLine = regexp.MustCompile(`(?m)^aigw_\w+$`)
)

// environ is the process environment without AIGW_* overrides, plus env ("KEY=value").
func environ(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AIGW_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// startGateway starts the program in a temp dir on a free port, waits until it listens and
// creates an admin API token with its CLI. The process is stopped (SIGTERM) when the test ends,
// and the test fails if its output ever contained a registered secret.
func startGateway(t *testing.T, env ...string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	g := &gateway{t: t, process: &process{out: &logBuffer{}}}
	cmd := exec.Command(gatewayBinary, "-config", cfg, "-host", "127.0.0.1", "-port", "0")
	cmd.Env = environ(env)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			g.out.Write([]byte(line + "\n"))
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				select {
				case listening <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("ai-gateway did not stop within 30s of SIGTERM")
		}
		<-copied
		out := g.out.String()
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, s := range g.secrets {
			if strings.Contains(out, s) {
				t.Errorf("the program's output contains the secret %q", s)
			}
		}
	})
	select {
	case g.url = <-listening:
	case err := <-exited:
		t.Fatalf("ai-gateway exited before listening: %v\n%s", err, g.out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("ai-gateway did not listen within 60s:\n%s", g.out.String())
	}
	tok := exec.Command(gatewayBinary, "-config", cfg, "admin", "token", "create", "--name", "sdktest")
	tok.Env = environ(env)
	out, err := tok.CombinedOutput()
	if err != nil {
		t.Fatalf("admin token create: %v\n%s", err, out)
	}
	if g.token = adminTokenLine.FindString(string(out)); g.token == "" {
		t.Fatalf("no admin token in:\n%s", out)
	}
	return g
}

// secret registers strings the program must never print.
func (g *gateway) secret(s ...string) {
	g.mu.Lock()
	g.secrets = append(g.secrets, s...)
	g.mu.Unlock()
}

// client is SPEC §8's client JSON for the admin API.
type client map[string]any

// newClient creates a client through the admin JSON API and returns its gateway key and id.
// The name defaults to the test's name; the key and any upstream_key become secrets.
func (g *gateway) newClient(spec client) (key string, id int64) {
	g.t.Helper()
	if _, ok := spec["name"]; !ok {
		spec["name"] = strings.NewReplacer("/", "-", " ", "-").Replace(g.t.Name()) + "-" + strconv.Itoa(g.clientCount())
	}
	var out struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	g.admin("POST", "/admin/api/v1/clients", spec, &out)
	if out.Key == "" {
		g.t.Fatal("create client returned no key")
	}
	g.secret(out.Key)
	if k, ok := spec["upstream_key"].(string); ok && k != "" {
		g.secret(k)
	}
	return out.Key, out.ID
}

func (g *gateway) clientCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.clients++
	return g.clients
}

// updateClient PATCHes a client.
func (g *gateway) updateClient(id int64, spec client) {
	g.t.Helper()
	g.admin("PATCH", "/admin/api/v1/clients/"+strconv.FormatInt(id, 10), spec, nil)
}

func (g *gateway) admin(method, path string, in, out any) {
	g.t.Helper()
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, g.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		g.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			g.t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
}

// call sends one request to the gateway and reads the whole answer; headers are name, value
// pairs.
func (g *gateway) call(method, path, body string, headers ...string) (*http.Response, string) {
	g.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		g.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, string(b)
}

// newUpstream starts a mock provider (providers/upstreamtest) that records every request and
// answers with reply.
func newUpstream(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, body []byte)) *upstreamtest.Server {
	t.Helper()
	return upstreamtest.New(t, withBody(reply))
}

// withBody is a handler for reply, which needs only the body.
func withBody(reply func(w http.ResponseWriter, r *http.Request, body []byte)) upstreamtest.Handler {
	return func(w http.ResponseWriter, r *http.Request, got upstreamtest.Request) { reply(w, r, got.Body) }
}

// data frames one OpenAI stream payload.
func data(payload string) string { return "data: " + payload + "\n\n" }

// sseData returns the data payloads of an event stream, in order.
func sseData(stream string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(stream, "\r\n", "\n"), "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

// decode unmarshals b into a generic JSON object, failing the test on invalid JSON.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

// at walks a decoded JSON value: string keys index objects, ints index arrays. A missing step
// yields nil.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
