package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// target is one endpoint under test: the mock directly, or the gateway in front of it.
type target struct {
	name   string
	url    string // full chat-completions URL
	key    string
	client *http.Client
}

func newTarget(name, url, key string, conns int) target {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     time.Minute,
	}
	return target{name: name, url: url, key: key, client: &http.Client{Transport: tr}}
}

func chatBody(model string, stream bool) []byte {
	return fmt.Appendf(nil, `{"model":%q,"stream":%t,"messages":[{"role":"user","content":"Say something about benchmarks, please."}]}`, model, stream)
}

func (t target) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	return t.client.Do(req)
}

// loadResult is what one closed-loop run measured.
type loadResult struct {
	requests int64
	errors   int64
	elapsed  time.Duration
	latency  histogram
}

func (r *loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// closedLoop runs `workers` clients that each send the next request as soon as the previous
// answer is fully read, for the given duration, and records each request's latency.
func closedLoop(t target, workers int, d time.Duration, body []byte) (*loadResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	var requests, failures atomic.Int64
	hists := make([]histogram, workers)
	var firstErr atomic.Value
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := t.post(context.Background(), body)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s: HTTP %d %v", t.name, resp.StatusCode, err))
					continue
				}
				hists[w].record(time.Since(t0))
				requests.Add(1)
			}
		}()
	}
	wg.Wait()
	res := &loadResult{requests: requests.Load(), errors: failures.Load(), elapsed: time.Since(start)}
	for i := range hists {
		res.latency.merge(&hists[i])
	}
	if res.errors > 0 {
		return res, fmt.Errorf("%d failed requests, first: %v", res.errors, firstErr.Load())
	}
	return res, nil
}

// streamResult measures streams: time to the first content event and time per relayed event.
type streamResult struct {
	ttfb     histogram
	total    histogram
	events   int
	requests int
}

// streams sends n streamed requests one after another and reads each to the end.
func streams(t target, n, events int) (*streamResult, error) {
	res := &streamResult{events: events}
	body := chatBody(fmt.Sprintf("stream-%d", events), true)
	for range n {
		t0 := time.Now()
		resp, err := t.post(context.Background(), body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return nil, fmt.Errorf("%s: HTTP %d: %s", t.name, resp.StatusCode, b)
		}
		br := bufio.NewReader(resp.Body)
		first := true
		for {
			line, err := br.ReadSlice('\n')
			if first && bytes.HasPrefix(line, []byte("data:")) {
				res.ttfb.record(time.Since(t0))
				first = false
			}
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		res.total.record(time.Since(t0))
		res.requests++
	}
	return res, nil
}

// openStreams opens n streams the mock holds open after its first event, and returns once all
// of them have received that event. close ends them.
func openStreams(t target, n int) (closeAll func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ready := make(chan error, n)
	body := chatBody("hold", true)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := t.post(ctx, body)
			if err != nil {
				ready <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				ready <- fmt.Errorf("HTTP %d", resp.StatusCode)
				return
			}
			br := bufio.NewReader(resp.Body)
			if _, err := br.ReadSlice('\n'); err != nil {
				ready <- err
				return
			}
			ready <- nil
			io.Copy(io.Discard, br)
		}()
	}
	for range n {
		if e := <-ready; e != nil && err == nil {
			err = e
		}
	}
	return func() { cancel(); wg.Wait() }, err
}
