package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// child is a helper process of the bench: the mock upstream or the bare proxy. Each runs in a
// process of its own, as an upstream does: were the mock in the load generator's process, the
// direct path would cross no process boundary at all, and what the gateway adds would include
// the cost of the two crossings any separate proxy brings.
type child struct {
	cmd *exec.Cmd
	url string
}

// startChild runs this bench binary again with args and waits for the URL it announces.
func startChild(args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case u := <-line:
		if strings.HasPrefix(u, "http://") {
			return &child{cmd: cmd, url: u}, nil
		}
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%v: announced %q, want a URL", args, u)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%v: no URL announced within 10s", args)
	}
}

func (c *child) stop() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}
