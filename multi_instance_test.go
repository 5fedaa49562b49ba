//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/ai-gateway/db/pgtest"
	"github.com/aigateway/ai-gateway/gateway/cluster/redistest"
	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// multiChildEnv makes the test binary, run again as a child, serve one gateway instance on the
// config in the directory it names, until SIGTERM.
const multiChildEnv = "AIGW_TEST_MULTI_CHILD"

// multiInstanceDBEnv is the database the instances share, as environment variables: a fresh
// PostgreSQL schema (pgtest: skipped with the reason when no server answers, failed under CI).
func multiInstanceDBEnv(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": pgtest.Schema(t)}
}

// instanceProc is one gateway instance running as a child process.
type instanceProc struct {
	url string
	out *output
}

// startInstance runs the test binary as a child serving the gateway on dir's config with env
// added to its environment, and waits until it listens. It is stopped when the test ends.
func startInstance(t *testing.T, dir string, env map[string]string) *instanceProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestMultiInstance$", "-test.count=1")
	cmd.Env = append(os.Environ(), multiChildEnv+"="+dir)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := newOutput()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	})
	select {
	case u := <-out.listening:
		return &instanceProc{url: u, out: out}
	case err := <-exited:
		t.Fatalf("an instance ended before listening: %v\n%s", err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("an instance did not listen within 60s:\n%s", out)
	}
	return nil
}

// multiChild is the child: one instance of the whole program until SIGTERM.
func multiChild(dir string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := run(ctx, []string{"ai-gateway", "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0"},
		os.Getenv, os.Stdout)
	if err != nil {
		fmt.Println("run:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// multiUpstream is an OpenAI-compatible upstream whose answers use as many output tokens as the
// request's cap allows (5 without a cap), so the output quota is spent to the last token.
func multiUpstream(t *testing.T) *upstreamtest.Server {
	return newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MaxTokens           int `json:"max_tokens"`
			MaxCompletionTokens int `json:"max_completion_tokens"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		out := max(req.MaxTokens, req.MaxCompletionTokens)
		if out == 0 {
			out = 5
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":%d,"total_tokens":%d}}`, out, out+10)
	})
}

// The whole of SPEC §17 that a user of several instances notices: three gateway processes on one
// PostgreSQL database and one Redis behave as one gateway. A 60 requests/minute limit admits exactly 60 of
// 200 concurrent requests spread over the three; a daily output-token quota is never exceeded; a
// client disabled on instance 1 is refused by instance 3 within a second; an admin session made
// on one instance works on another; each instance's requests are in the history on every one.
func TestMultiInstance(t *testing.T) {
	if dir := os.Getenv(multiChildEnv); dir != "" {
		multiChild(dir)
		return
	}
	redistest.Need(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "aigwtest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		opt, _ := redis.ParseURL(redistest.URL())
		c := redis.NewClient(opt)
		defer c.Close()
		iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			c.Del(context.Background(), iter.Val())
		}
	})
	dir := t.TempDir()
	env := map[string]string{"AIGW_REDIS_URL": redistest.URL(), "AIGW_REDIS_PREFIX": prefix,
		// A loaded CI machine under -race can take a while to answer: failing open here would
		// let each instance decide alone, which is what the test must not see.
		"AIGW_REDIS_TIMEOUT": "10s", "AIGW_SERVER_MAX_CONNECTIONS": "1000"}
	for k, v := range multiInstanceDBEnv(t) {
		env[k] = v
	}

	// The first instance sets everything up; the next two find it set up and print no password.
	first := startInstance(t, dir, env)
	m := passwordLine.FindStringSubmatch(first.out.String())
	if m == nil {
		t.Fatalf("the first instance printed no admin password:\n%s", first.out)
	}
	password := m[1]
	if env["AIGW_DATABASE_DRIVER"] == "postgres" && !regexp.MustCompile(`created tables in\s+postgres://`).MatchString(first.out.String()) {
		t.Fatalf("the first instance did not set up PostgreSQL:\n%s", first.out)
	}
	inst := []*instanceProc{first, startInstance(t, dir, env), startInstance(t, dir, env)}
	for i, in := range inst[1:] {
		if passwordLine.MatchString(in.out.String()) {
			t.Fatalf("instance %d, started on a set-up database, printed a password:\n%s", i+2, in.out)
		}
	}
	out, err := runCmd(t, env, "admin", "token", "create", "--name", "multi", "-config", filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	token := regexp.MustCompile(`(?m)^aigw_\w+$`).FindString(out)
	admin := func(in *instanceProc, method, path string, body any) (int, string) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, in.url+path, r)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	upstream := multiUpstream(t)
	createClient := func(name string, limits map[string]any) (key string, id int64) {
		t.Helper()
		body := map[string]any{"name": name, "backend": "openai", "base_url": upstream.URL + "/v1",
			"upstream_key": "sk-upstream", "default_model": "m"}
		for k, v := range relNoLimits {
			body[k] = v
		}
		for k, v := range limits {
			body[k] = v
		}
		status, resp := admin(inst[0], http.MethodPost, "/admin/api/v1/clients", body)
		if status != http.StatusCreated {
			t.Fatalf("create client %s: %d %s", name, status, resp)
		}
		var c struct {
			Key string `json:"key"`
			ID  int64  `json:"id"`
		}
		json.Unmarshal([]byte(resp), &c)
		return c.Key, c.ID
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	chat := func(in *instanceProc, key, requestID string, maxTokens int) (int, int) {
		body := `{"model":"m","messages":[{"role":"user","content":"hello"}]}`
		if maxTokens > 0 {
			body = fmt.Sprintf(`{"model":"m","max_tokens":%d,"messages":[{"role":"user","content":"hello"}]}`, maxTokens)
		}
		req, _ := http.NewRequest(http.MethodPost, in.url+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if requestID != "" {
			req.Header.Set("X-Request-Id", requestID)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("chat: %v", err)
			return 0, 0
		}
		defer resp.Body.Close()
		var answer struct {
			Usage struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		json.NewDecoder(resp.Body).Decode(&answer)
		return resp.StatusCode, answer.Usage.CompletionTokens
	}
	// A client created on instance 1 is known to the others once the announcement arrived.
	waitKnown := func(key string) {
		t.Helper()
		for _, in := range inst {
			relWaitFor(t, "the new client on every instance", 10*time.Second, func() bool {
				status, _ := chat(in, key, "", 1)
				return status != http.StatusUnauthorized
			})
		}
	}

	t.Run("a rate limit is exact across instances", func(t *testing.T) {
		key, _ := createClient("limited", map[string]any{"rate_limit": map[string]int{"requests_per_minute": 60}})
		// Waiting until every instance knows the client spends requests of the limit: they are
		// counted in.
		waitKnownCounted := 0
		for _, in := range inst {
			relWaitFor(t, "the new client on every instance", 10*time.Second, func() bool {
				status, _ := chat(in, key, "", 0)
				if status != http.StatusUnauthorized {
					waitKnownCounted++
				}
				return status != http.StatusUnauthorized
			})
		}
		var ok, limited, other atomic.Int64
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch status, _ := chat(inst[i%3], key, "", 0); status {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					other.Add(1)
				}
			}()
		}
		wg.Wait()
		if got := ok.Load() + int64(waitKnownCounted); got != 60 || limited.Load() != 200-ok.Load() {
			t.Fatalf("admitted %d (+%d before the burst), limited %d, other %d: want exactly 60 admitted in all",
				ok.Load(), waitKnownCounted, limited.Load(), other.Load())
		}
	})

	t.Run("a daily token quota is never exceeded", func(t *testing.T) {
		key, _ := createClient("quota", map[string]any{"quota": map[string]int{"max_output_tokens_per_day": 1000}})
		waitKnown(key) // spends 1 token per instance
		var used, admitted atomic.Int64
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, out := chat(inst[i%3], key, "", 100); status == http.StatusOK {
					admitted.Add(1)
					used.Add(int64(out))
				}
			}()
		}
		wg.Wait()
		// Each admitted request reserves its cap, the last one what is left, and the upstream
		// uses it all: the quota ends spent to the token, never past it.
		if total := used.Load() + 3; total != 1000 {
			t.Fatalf("%d output tokens answered against a daily quota of 1000 (%d requests admitted)", total, admitted.Load())
		}
		for i, in := range inst {
			if status, _ := chat(in, key, "", 100); status != http.StatusTooManyRequests {
				t.Fatalf("instance %d answers %d after the quota was used up, want 429", i+1, status)
			}
		}
	})

	t.Run("a client disabled on one instance is refused by another within a second", func(t *testing.T) {
		key, id := createClient("disabled", nil)
		waitKnown(key)
		status, resp := admin(inst[0], http.MethodPatch, fmt.Sprintf("/admin/api/v1/clients/%d", id), map[string]any{"active": false})
		if status != http.StatusOK {
			t.Fatalf("disable: %d %s", status, resp)
		}
		disabled := time.Now()
		for {
			status, _ := chat(inst[2], key, "", 1)
			if status == http.StatusUnauthorized {
				break
			}
			if time.Since(disabled) > time.Second {
				t.Fatalf("instance 3 still answers %d more than a second after instance 1 disabled the client", status)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	browser := noRedirects()
	t.Run("an admin session works on every instance", func(t *testing.T) {
		if resp := login(t, browser, inst[0].url, "admin", password); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login on instance 1: %d", resp.StatusCode)
		}
		for i, in := range inst {
			resp, err := browser.Get(in.url + "/admin/clients")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("instance %d answers %d to the session made on instance 1", i+1, resp.StatusCode)
			}
		}
	})

	t.Run("settings saved on one instance apply on another within a second", func(t *testing.T) {
		metrics := func(in *instanceProc) int {
			req, _ := http.NewRequest(http.MethodGet, in.url+"/metrics", nil)
			req.SetBasicAuth("scraper", "scrape-pw-1234")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if status := metrics(inst[2]); status != http.StatusNotFound {
			t.Fatalf("/metrics on instance 3 before Prometheus is turned on: %d, want 404", status)
		}
		resp, err := browser.Get(inst[0].url + "/admin/settings")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
		if csrf == nil {
			t.Fatalf("no CSRF token on the settings page (%d)", resp.StatusCode)
		}
		resp, err = browser.PostForm(inst[0].url+"/admin/settings/prometheus", url.Values{"csrf_token": {string(csrf[1])},
			"enabled": {"true"}, "username": {"scraper"}, "password": {"scrape-pw-1234"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("saving the Prometheus settings on instance 1: %d", resp.StatusCode)
		}
		saved := time.Now()
		for metrics(inst[2]) != http.StatusOK {
			if time.Since(saved) > time.Second {
				t.Fatal("instance 3 still serves no /metrics a second after instance 1 turned Prometheus on")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("a price set on one instance applies on another within a second", func(t *testing.T) {
		status, resp := admin(inst[0], http.MethodPut, "/admin/api/v1/prices", map[string]any{"model": "m-priced",
			"input_usd_per_mtok": 1, "output_usd_per_mtok": 2})
		if status != http.StatusOK && status != http.StatusCreated {
			t.Fatalf("set a price on instance 1: %d %s", status, resp)
		}
		saved := time.Now()
		for {
			_, list := admin(inst[2], http.MethodGet, "/admin/api/v1/prices", nil)
			if strings.Contains(list, `"m-priced"`) {
				break
			}
			if time.Since(saved) > time.Second {
				t.Fatalf("instance 3 does not list the price a second after instance 1 set it: %s", list)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("request history from every instance is visible on each", func(t *testing.T) {
		key, _ := createClient("history", nil)
		waitKnown(key)
		ids := make([]string, len(inst))
		for i, in := range inst {
			ids[i] = fmt.Sprintf("multi-instance-%d-%s", i+1, hex.EncodeToString(b[:3]))
			if status, _ := chat(in, key, ids[i], 1); status != http.StatusOK {
				t.Fatalf("request on instance %d: %d", i+1, status)
			}
		}
		for i, in := range inst {
			relWaitFor(t, fmt.Sprintf("every instance's requests in instance %d's history", i+1), 15*time.Second, func() bool {
				_, body := admin(in, http.MethodGet, "/admin/api/v1/requests?limit=500", nil)
				for _, id := range ids {
					if !strings.Contains(body, `"request_id":"`+id+`"`) {
						return false
					}
				}
				return true
			})
		}
	})

	t.Run("the live numbers of every instance add up on each", func(t *testing.T) {
		type stats struct {
			Today struct {
				Requests int64 `json:"requests"`
			} `json:"today"`
			Instances []struct {
				Host  string `json:"host"`
				Self  bool   `json:"self"`
				Today struct {
					Requests int64 `json:"requests"`
				} `json:"today"`
			} `json:"instances"`
		}
		// Each instance publishes every second: wait until all three agree on the same total,
		// which is the sum of what each served (the database held nothing when they started).
		var totals [3]int64
		relWaitFor(t, "every instance's dashboard adding up all three", 15*time.Second, func() bool {
			for i, in := range inst {
				_, body := admin(in, http.MethodGet, "/admin/api/v1/stats", nil)
				var s stats
				if json.Unmarshal([]byte(body), &s) != nil || len(s.Instances) != 3 {
					return false
				}
				var sum int64
				selves := 0
				for _, x := range s.Instances {
					sum += x.Today.Requests
					if x.Self {
						selves++
					}
				}
				if sum != s.Today.Requests || selves != 1 || s.Today.Requests < 260 {
					return false
				}
				totals[i] = s.Today.Requests
			}
			return totals[0] == totals[1] && totals[1] == totals[2]
		})
	})

	// Last: it locks the test's address out of the admin login on every instance.
	t.Run("failed logins on different instances count together", func(t *testing.T) {
		for i := range 5 {
			if resp := login(t, noRedirects(), inst[i%3].url, "admin", "wrong-password"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failed login %d on instance %d: %d, want 401", i+1, i%3+1, resp.StatusCode)
			}
		}
		for i, in := range inst {
			if resp := login(t, noRedirects(), in.url, "admin", password); resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("the right password on instance %d after five failures spread over three: %d, want 429", i+1, resp.StatusCode)
			}
		}
	})
}
