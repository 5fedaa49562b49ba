package main

// Issue 14, item 3 (write side): a client that asks for a large answer and never reads it is
// disconnected once no byte of the answer has gone out for server.write_timeout, instead of
// holding its connection (and the answer in memory) for as long as it likes.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

func TestAttackSlowReader(t *testing.T) {
	const answerSize = 20 << 20
	up := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{strings.Repeat("a", answerSize)}, Input: 3, Output: 1})
	})
	defer up.Close()
	g := startRelGateway(t, map[string]string{"AIGW_SERVER_WRITE_TIMEOUT": "1s"}, up.URL)

	conn, err := net.Dial("tcp", strings.TrimPrefix(g.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(16 << 10) // what the kernel reads ahead for a client that doesn't
	body := relOpenAI.body(false)
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", g.keys[beOpenAI], len(body), body)

	// The answer has started: its head is here.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(conn, 4<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.ContentLength < answerSize {
		t.Fatalf("got %d with Content-Length %d, want 200 and the whole answer announced", resp.StatusCode, resp.ContentLength)
	}

	// The client reads nothing for several write timeouts; then it takes whatever is on its way.
	time.Sleep(5 * time.Second)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.Copy(io.Discard, io.LimitReader(br, resp.ContentLength))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("the connection neither ended nor delivered the answer: %v", err)
	case got == resp.ContentLength:
		t.Errorf("the whole %s-byte answer was still waiting for a client that had not read for 5s (write_timeout 1s)",
			strconv.FormatInt(resp.ContentLength, 10))
	}
	t.Logf("received %d of %d bytes", got, resp.ContentLength)

	// A stream that is read lives on however long its pauses and its whole run last.
	slow := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		upstreamtest.WriteStreamHead(w, u.Proto, 3)
		for i, s := range []string{"one ", "two ", "three"} {
			time.Sleep(1500 * time.Millisecond)
			upstreamtest.WriteStreamText(w, u.Proto, s, 3, i+1)
		}
		upstreamtest.WriteStreamTail(w, u.Proto, 3, 3)
	})
	defer slow.Close()
	g.createClient(beOpenAI, slow.URL, nil)
	r2, streamed := g.call(relOpenAI, beOpenAI, true, "")
	if text, _ := relStreamedText(t, relOpenAI, streamed); r2.StatusCode != http.StatusOK || text != "one two three" ||
		!streamEnded(relOpenAI, streamed) {
		t.Errorf("a 4.5s stream with 1.5s pauses under write_timeout 1s: %d %q\n%s", r2.StatusCode, text, streamed)
	}
}
