package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nginxConfig is a minimal nginx reverse proxy in front of the mock: a keep-alive pool to the
// upstream, no access log, no response or request buffering, one worker per CPU. It is the
// floor a plain reverse proxy sets on this machine (SPEC §10).
const nginxConfig = `daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_requests 1000000;
	upstream mock {
		server %[2]s;
		keepalive 256;
		keepalive_requests 1000000;
	}
	server {
		listen %[3]s;
		location / {
			proxy_pass http://mock;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_request_buffering off;
		}
	}
}
`

// nginxProxy is nginx running the generated configuration.
type nginxProxy struct {
	cmd *exec.Cmd
	dir string
	url string
}

// startNginx runs nginx (found on PATH) as a reverse proxy to the mock at mockURL, or returns
// nil when nginx is not installed (`apt-get install -y nginx-light`).
func startNginx(mockURL string) (*nginxProxy, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "aigw-bench-nginx-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	upstream := strings.TrimPrefix(mockURL, "http://")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConfig, dir, upstream, addr), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &nginxProxy{cmd: cmd, dir: dir, url: "http://" + addr}
	// Ready when it answers through to the mock.
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Post(p.url+"/v1/chat/completions", "application/json", strings.NewReader(string(chatBody("bench", false))))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("nginx did not answer within 10s (%v): %s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid is nginx's master process; its workers are its children.
func (p *nginxProxy) pid() int { return p.cmd.Process.Pid }

func (p *nginxProxy) stop() {
	p.cmd.Process.Signal(os.Interrupt) // fast shutdown of master and workers
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(p.dir)
}

// treeCPUSeconds is the CPU time of pid and its direct children (nginx's workers), from /proc.
func treeCPUSeconds(pid int) float64 {
	total := cpuSeconds(pid)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += cpuSeconds(child)
		}
	}
	return total
}
