package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Wire protocols of the three test clients (their backend ids).
const (
	protoOpenAI    = "openai-compatible"
	protoAnthropic = "anthropic"
	protoGemini    = "gemini"
)

var protocols = []string{protoOpenAI, protoAnthropic, protoGemini}

// gatewayProc is the ai-gateway binary running in its own directory, as an operator runs it.
type gatewayProc struct {
	bin, dir, cfg string
	port          int
	base          string
	env           []string
	cmd           *exec.Cmd
	log           *os.File

	token   string
	keys    map[string]string // protocol → client key
	clients map[string]int64  // protocol → client id
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// newGateway prepares a fresh directory; start runs the binary in it.
func newGateway(bin string, env []string) (*gatewayProc, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "aigw-soak-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	g := &gatewayProc{bin: bin, dir: dir, cfg: filepath.Join(dir, "config.yaml"), port: port,
		base: fmt.Sprintf("http://127.0.0.1:%d", port), keys: map[string]string{}, clients: map[string]int64{}}
	g.env = append(append(os.Environ(), "AIGW_DATABASE_PATH="+filepath.Join(dir, "data", "gateway.db")), env...)
	g.log, err = os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (g *gatewayProc) start() error {
	g.cmd = exec.Command(g.bin, "-config", g.cfg, "-host", "127.0.0.1", "-port", strconv.Itoa(g.port))
	g.cmd.Dir, g.cmd.Env = g.dir, g.env
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(g.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the gateway at %s did not become ready (log: %s)", g.base, g.log.Name())
}

// stop sends SIGINT and waits for the orderly shutdown (it writes the usage and the log).
func (g *gatewayProc) stop() error {
	if g.cmd == nil || g.cmd.Process == nil {
		return nil
	}
	g.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		g.cmd = nil
		return err
	case <-time.After(60 * time.Second):
		g.cmd.Process.Kill()
		return fmt.Errorf("the gateway did not stop within 60s after SIGINT")
	}
}

func (g *gatewayProc) remove() {
	g.log.Close()
	os.RemoveAll(g.dir)
}

// setup creates an admin token with the CLI and one client per protocol through the admin API.
func (g *gatewayProc) setup(mockURL string) error {
	tok := exec.Command(g.bin, "admin", "token", "create", "--name", "soak", "-config", g.cfg)
	tok.Dir, tok.Env = g.dir, g.env
	out, err := tok.CombinedOutput()
	if err != nil {
		return fmt.Errorf("admin token create: %v: %s", err, out)
	}
	for _, w := range strings.Fields(string(out)) {
		if strings.HasPrefix(w, "aigw_") {
			g.token = w
		}
	}
	if g.token == "" {
		return fmt.Errorf("no token in: %s", out)
	}
	for _, p := range protocols {
		base := mockURL
		if p == protoOpenAI {
			base += "/v1"
		}
		body, _ := json.Marshal(map[string]any{
			"name": "soak-" + p, "backend": p, "base_url": base, "default_model": "m", "upstream_key": "sk-soak-upstream-" + p,
			"rate_limit": map[string]int{"requests_per_minute": 0, "requests_per_hour": 0, "requests_per_day": 0},
			"quota": map[string]int{"max_input_tokens_per_day": 0, "max_output_tokens_per_day": 0, "max_requests_per_day": 0,
				"max_input_tokens": 0, "max_output_tokens": 0},
		})
		var created struct {
			ID  int64  `json:"id"`
			Key string `json:"key"`
		}
		if err := g.admin(http.MethodPost, "/admin/api/v1/clients", body, &created); err != nil {
			return err
		}
		if created.Key == "" {
			return fmt.Errorf("create client %s: no key", p)
		}
		g.keys[p], g.clients[p] = created.Key, created.ID
	}
	return nil
}

func (g *gatewayProc) admin(method, path string, body []byte, out any) error {
	req, _ := http.NewRequest(method, g.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// logTotals is what the request log says about one client.
type logTotals struct {
	Rows, OK, Errors    int64
	ByStatus            map[int]int64
	OKInput, OKOutput   int64 // tokens of the rows with status 200
	AllInput, AllOutput int64
}

// requestLog pages through the client's request log with the admin API.
func (g *gatewayProc) requestLog(client int64) (logTotals, error) {
	t := logTotals{ByStatus: map[int]int64{}}
	before := ""
	for {
		var page struct {
			Requests []struct {
				Status       int   `json:"status"`
				InputTokens  int64 `json:"input_tokens"`
				OutputTokens int64 `json:"output_tokens"`
			} `json:"requests"`
			NextBefore *int64 `json:"next_before"`
		}
		path := fmt.Sprintf("/admin/api/v1/requests?client_id=%d&limit=500%s", client, before)
		if err := g.admin(http.MethodGet, path, nil, &page); err != nil {
			return t, err
		}
		for _, r := range page.Requests {
			t.Rows++
			t.ByStatus[r.Status]++
			t.AllInput += r.InputTokens
			t.AllOutput += r.OutputTokens
			if r.Status == http.StatusOK {
				t.OK++
				t.OKInput += r.InputTokens
				t.OKOutput += r.OutputTokens
			} else {
				t.Errors++
			}
		}
		if page.NextBefore == nil {
			return t, nil
		}
		before = "&before=" + strconv.FormatInt(*page.NextBefore, 10)
	}
}

// usage is GET /v1/usage for the client: today's totals as the gateway restored them from
// usage_daily at start.
func (g *gatewayProc) usage(key string) (requests, input, output int64, err error) {
	req, _ := http.NewRequest(http.MethodGet, g.base+"/v1/usage", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	var u struct {
		Usage struct {
			Requests     int64 `json:"requests"`
			InputTokens  int64 `json:"input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		return 0, 0, 0, fmt.Errorf("GET /v1/usage: %w", err)
	}
	return u.Usage.Requests, u.Usage.InputTokens, u.Usage.OutputTokens, nil
}

// metric reads one unlabelled counter from /metrics (Basic auth from the soak's own settings).
func (g *gatewayProc) metric(name string) (float64, error) {
	req, _ := http.NewRequest(http.MethodGet, g.base+"/metrics", nil)
	req.SetBasicAuth("prometheus", metricsPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s not in /metrics (HTTP %d: %.300s)", name, resp.StatusCode, b)
}

// rssMB is the gateway's resident memory (Linux; 0 elsewhere).
func (g *gatewayProc) rssMB() float64 {
	if g.cmd == nil || g.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
