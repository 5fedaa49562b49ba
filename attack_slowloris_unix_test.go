//go:build unix

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// emfileChildEnv makes the test binary, run again as a child, serve the gateway with few file
// descriptors (the value is its directory).
const emfileChildEnv = "AIGW_TEST_EMFILE_CHILD"

// emfileLimit is the child's descriptor limit: enough to start, far fewer than the attack opens.
const emfileLimit = 64

// emfileChild is the child: the whole program, under a low RLIMIT_NOFILE, until SIGTERM.
func emfileChild(t *testing.T, dir string) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = emfileLimit
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := run(ctx, []string{"ai-gateway", "-config", filepath.Join(dir, "config.yaml"), "-host", "127.0.0.1", "-port", "0"},
		os.Getenv, os.Stdout)
	if err != nil {
		fmt.Println("run:", err)
		os.Exit(1)
	}
}

// emfileSurvival runs the gateway as a child process with a low descriptor limit, opens many
// more connections than it has descriptors, and checks that once they are gone it serves again.
func emfileSurvival(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestAttackSlowloris$", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileChildEnv+"="+t.TempDir(), "AIGW_SERVER_READ_TIMEOUT=1s")
	out := newOutput()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	}()
	var url string
	select {
	case url = <-out.listening:
	case err := <-exited:
		t.Fatalf("the child ended before listening: %v\n%s", err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("the child did not listen within 60s:\n%s", out)
	}

	// Four times as many connections as the child has descriptors, all at once.
	var conns []net.Conn
	for range 4 * emfileLimit {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			select {
			case werr := <-exited:
				t.Fatalf("the gateway exited when descriptors ran out: %v\n%s", werr, out)
			case <-time.After(5 * time.Second):
				t.Fatalf("dial: %v", err)
			}
		}
		conns = append(conns, c)
	}
	ranOut := false
	for deadline := time.Now().Add(20 * time.Second); !ranOut && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		ranOut = strings.Contains(out.String(), "too many open files")
	}
	for _, c := range conns {
		c.Close()
	}
	if !ranOut {
		t.Fatalf("the child never ran out of descriptors; the test proves nothing:\n%s", out)
	}

	// Once the attack is over the same process serves again.
	var lastErr error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the gateway exited when descriptors ran out: %v\n%s", err, out)
		default:
		}
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		lastErr = err
	}
	t.Fatalf("the gateway did not serve again within 30s after the attack: %v\n%s", lastErr, out)
}
