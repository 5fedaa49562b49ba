package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aigateway/ai-gateway/contrib/gwproc"
)

// Wire protocols of the three test clients (their backend ids).
const (
	protoOpenAI    = "openai-compatible"
	protoAnthropic = "anthropic"
	protoGemini    = "gemini"
)

var protocols = []string{protoOpenAI, protoAnthropic, protoGemini}

// gatewayProc is the gateway under soak, with one client per protocol.
type gatewayProc struct {
	*gwproc.Process
	keys    map[string]string // protocol → client key
	clients map[string]int64  // protocol → client id
}

func newGateway(bin string, env []string) (*gatewayProc, error) {
	p, err := gwproc.New(bin, "aigw-soak-", env)
	if err != nil {
		return nil, err
	}
	return &gatewayProc{Process: p, keys: map[string]string{}, clients: map[string]int64{}}, nil
}

// setup creates an admin token with the CLI and one client per protocol through the admin API.
func (g *gatewayProc) setup(mockURL string) error {
	if err := g.CreateToken("soak"); err != nil {
		return err
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
		if err := g.Admin(http.MethodPost, "/admin/api/v1/clients", body, &created); err != nil {
			return err
		}
		if created.Key == "" {
			return fmt.Errorf("create client %s: no key", p)
		}
		g.keys[p], g.clients[p] = created.Key, created.ID
	}
	return nil
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
		if err := g.Admin(http.MethodGet, path, nil, &page); err != nil {
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
	req, _ := http.NewRequest(http.MethodGet, g.Base+"/v1/usage", nil)
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
	req, _ := http.NewRequest(http.MethodGet, g.Base+"/metrics", nil)
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
	if g.Pid() == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.Pid()))
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
