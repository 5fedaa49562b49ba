// Package gwproc runs the built ai-gateway binary for the tools in contrib (bench, soak) the way
// an operator runs it: in a directory of its own, configured by flags and environment, set up
// through its CLI and admin API, stopped with SIGINT.
package gwproc

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

// Process is one ai-gateway binary in its directory.
type Process struct {
	Bin, Dir, Config string
	Port             int
	// Base is http://127.0.0.1:<port>.
	Base string
	Env  []string
	// Log holds what the binary printed.
	Log *os.File
	// Token is the admin API token CreateToken made.
	Token string

	cmd *exec.Cmd
}

// New prepares a fresh directory (named after prefix) on a free port; Start runs the binary.
// env is added to this process's environment.
func New(bin, prefix string, env []string) (*Process, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	p := &Process{Bin: bin, Dir: dir, Config: filepath.Join(dir, "config.yaml"), Port: port,
		Base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	p.Env = append(append(os.Environ(), "AIGW_DATABASE_PATH="+filepath.Join(dir, "data", "gateway.db")), env...)
	if p.Log, err = os.Create(filepath.Join(dir, "gateway.log")); err != nil {
		return nil, err
	}
	return p, nil
}

// FreePort is a loopback port nobody listens on right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start runs the binary and waits until /readyz answers 200.
func (p *Process) Start() error {
	p.cmd = exec.Command(p.Bin, "-config", p.Config, "-host", "127.0.0.1", "-port", strconv.Itoa(p.Port))
	p.cmd.Dir, p.cmd.Env = p.Dir, p.Env
	p.cmd.Stdout, p.cmd.Stderr = p.Log, p.Log
	if err := p.cmd.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(p.Base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the gateway at %s did not become ready (log: %s)", p.Base, p.Log.Name())
}

// Pid is the running binary's process id (0 when it is not running).
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stop sends SIGINT and waits for the orderly shutdown (it writes the usage and the log).
func (p *Process) Stop() error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		p.cmd = nil
		return err
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		return fmt.Errorf("the gateway did not stop within 60s after SIGINT")
	}
}

// Remove deletes the directory (after Stop).
func (p *Process) Remove() {
	p.Log.Close()
	os.RemoveAll(p.Dir)
}

// CreateToken makes an admin API token with the CLI, as an operator would, into Token.
func (p *Process) CreateToken(name string) error {
	tok := exec.Command(p.Bin, "admin", "token", "create", "--name", name, "-config", p.Config)
	tok.Dir, tok.Env = p.Dir, p.Env
	out, err := tok.CombinedOutput()
	if err != nil {
		return fmt.Errorf("admin token create: %v: %s", err, out)
	}
	for _, w := range strings.Fields(string(out)) {
		if strings.HasPrefix(w, "aigw_") {
			p.Token = w
		}
	}
	if p.Token == "" {
		return fmt.Errorf("no token in: %s", out)
	}
	return nil
}

// Admin calls the admin JSON API with Token and decodes the answer into out.
func (p *Process) Admin(method, path string, body []byte, out any) error {
	req, _ := http.NewRequest(method, p.Base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.Token)
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
