package routes

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// dial opens the dashboard WebSocket of base with the given Origin and session cookie ("" for
// none). It returns the connection, or the handshake's HTTP status when it was refused.
func dial(t *testing.T, base, origin, cookie string) (*websocket.Conn, int) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if cookie != "" {
		h.Set("Cookie", sessionCookie+"="+cookie)
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/admin/ws", h)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { conn.Close() })
	return conn, resp.StatusCode
}

func read(t *testing.T, conn *websocket.Conn) []byte {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("message type %d", typ)
	}
	return msg
}

func TestDashboardSocketChecksOriginAndSession(t *testing.T) {
	th := newTestHub()
	e := newEdge(t, func(d *Deps) { d.Hub = th.Hub })
	base := e.listen()
	s := e.login()
	u, _ := url.Parse(base)

	for _, tt := range []struct {
		name, origin, cookie string
		want                 int
	}{
		{"foreign origin", "https://evil.example", s.cookie, http.StatusForbidden},
		{"same host, other port", "http://" + u.Hostname() + ":1", s.cookie, http.StatusForbidden},
		{"no origin", "", s.cookie, http.StatusForbidden},
		{"no session", base, "", http.StatusUnauthorized},
		{"unknown session", base, "forged-session-value", http.StatusUnauthorized},
	} {
		if conn, status := dial(t, base, tt.origin, tt.cookie); conn != nil || status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, status, tt.want)
		}
	}
	if th.viewerCount() != 0 {
		t.Fatalf("a refused socket joined the hub")
	}
	if conn, status := dial(t, base, base, s.cookie); conn == nil || status != http.StatusSwitchingProtocols {
		t.Fatalf("own page with a session: status %d", status)
	}
	<-th.joins

	// A plain GET is not a WebSocket.
	if resp, _ := e.do(newReq("GET", "/admin/ws", "", "Cookie", sessionCookie+"="+s.cookie)); resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %d", resp.StatusCode)
	}
}

func TestDashboardSocketTickReachesEveryViewer(t *testing.T) {
	th := newTestHub()
	e := newEdge(t, func(d *Deps) { d.Hub = th.Hub })
	base := e.listen()
	s := e.login()
	c1, _ := dial(t, base, base, s.cookie)
	c2, _ := dial(t, base, base, s.cookie)
	<-th.joins
	<-th.joins

	th.n.Store(7)
	th.tick()
	m1, m2 := read(t, c1), read(t, c2)
	if !bytes.Equal(m1, m2) || string(m1) != `<div id="a">7</div><div id="b">constant</div>` {
		t.Fatalf("viewers got %q and %q; want the same fragments", m1, m2)
	}
	th.n.Store(8)
	th.tick()
	if m := read(t, c1); string(m) != `<div id="a">8</div>` {
		t.Errorf("second tick %q", m)
	}

	// The hub closing (shutdown) tells browsers to reconnect later.
	th.Close()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	read(t, c2) // the second tick
	_, _, err := c2.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != closeRestarting {
		t.Errorf("after the hub closed: %v, want close code %d", err, closeRestarting)
	}
}

func TestDashboardSocketPingsAndEndsWithTheSession(t *testing.T) {
	th := newTestHub()
	e := newEdge(t, func(d *Deps) { d.Hub = th.Hub; d.wsPingEvery = 20 * time.Millisecond })
	base := e.listen()
	s := e.login()
	conn, _ := dial(t, base, base, s.cookie)
	<-th.joins
	pinged := make(chan struct{}, 1)
	conn.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	go conn.ReadMessage() // runs the ping handler
	select {
	case <-pinged:
	case <-time.After(10 * time.Second):
		t.Fatal("no ping")
	}

	conn2, _ := dial(t, base, base, s.cookie)
	<-th.joins
	resp, _ := e.do(newReq("POST", "/admin/logout", "csrf_token="+s.csrf, "Cookie", sessionCookie+"="+s.cookie,
		"Content-Type", "application/x-www-form-urlencoded"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	conn2.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := conn2.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != closeSessionEnd {
		t.Fatalf("after logout: %v, want close code %d", err, closeSessionEnd)
	}
}
