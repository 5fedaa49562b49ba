package main

// Issue 14, item 3 (read side): clients that open connections and send nothing, send their
// headers or their body a byte at a time, are disconnected after server.read_timeout; past
// server.max_connections new connections are turned away at once; and running out of file
// descriptors does not end the process (attack_slowloris_unix_test.go).

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAttackSlowloris(t *testing.T) {
	if dir := os.Getenv(emfileChildEnv); dir != "" {
		emfileChild(t, dir)
		return
	}
	const conns, maxConns = 150, 60
	g := startRelGateway(t, map[string]string{"AIGW_SERVER_READ_TIMEOUT": "1s",
		"AIGW_SERVER_MAX_CONNECTIONS": "60"}, "")
	addr := strings.TrimPrefix(g.url, "http://")

	// Each attacker trickles its part a byte every 100ms for as long as the gateway lets it.
	attacks := []struct{ name, head, trickle string }{
		{"nothing sent", "", ""},
		{"slow headers", "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n", strings.Repeat("X-Slow: a\r\n", 1000)},
		{"slow body", "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n" +
			"Content-Length: 100000\r\n\r\n", strings.Repeat("{", 100000)},
	}
	var (
		readers sync.WaitGroup
		writers sync.WaitGroup
		mu      sync.Mutex
		stillUp = map[string]int{}
		refused int
	)
	done := make(chan struct{})
	for i := range conns {
		a := attacks[i%len(attacks)]
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
		writers.Add(1)
		go func() {
			defer writers.Done()
			if _, err := io.WriteString(c, a.head); err != nil {
				return
			}
			for j := 0; j < len(a.trickle); j++ {
				select {
				case <-done:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Write([]byte{a.trickle[j]}); err != nil {
					return
				}
			}
		}()
		readers.Add(1)
		go func() {
			defer readers.Done()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			b, err := io.ReadAll(c)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				stillUp[a.name]++
			}
			if strings.HasPrefix(string(b), "HTTP/1.1 503") {
				refused++
			}
		}()
	}
	readers.Wait()
	close(done)
	writers.Wait()
	for name, n := range stillUp {
		t.Errorf("%s: %d connection(s) still open after 20s (read_timeout 1s)", name, n)
	}
	if refused == 0 {
		t.Errorf("%d connections at once under max_connections %d: none was turned away", conns, maxConns)
	}

	// The gateway still serves.
	resp, err := http.Get(g.url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after the attack: %v %v", resp, err)
	}
	resp.Body.Close()

	t.Run("descriptors run out", emfileSurvival)
}
