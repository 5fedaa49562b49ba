package routes

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

const (
	// wsWriteWait bounds every write to a dashboard; a browser that cannot take a message in
	// that time is gone.
	wsWriteWait = 10 * time.Second
	// wsPongWait is how long a dashboard may stay silent; pings every wsPingEvery keep a live
	// one talking (browsers answer pings by themselves).
	wsPongWait  = 60 * time.Second
	wsPingEvery = 25 * time.Second
	// wsReadLimit caps what a dashboard may send (it has nothing to say).
	wsReadLimit = 4 << 10
)

// wsGuard admits a WebSocket upgrade only from a page of this site (Origin) with a live admin
// session. A browser attaches cookies to cross-site WebSocket requests, so without the Origin
// check any site could read the dashboard of a logged-in admin.
func (s *server) wsGuard(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return &gateway.Refusal{Kind: providers.KindBadRequest, Status: fiber.StatusUpgradeRequired,
			Message: "this address speaks WebSocket only; open /admin for the dashboard"}
	}
	if !sameOrigin(c) {
		s.log.Warn("websocket from a foreign origin refused", "request_id", requestIDOf(c), "origin", c.Get(fiber.HeaderOrigin))
		return &gateway.Refusal{Kind: providers.KindPermission, Code: "origin", Message: "WebSocket connections are accepted from this site's own pages only"}
	}
	if _, err := s.loadSession(c); errors.Is(err, db.ErrNotFound) {
		return &gateway.Refusal{Kind: providers.KindAuth, Code: "unauthorized", Message: "log in to watch the dashboard"}
	} else if err != nil {
		return err
	}
	return c.Next()
}

// sameOrigin reports whether the request's Origin names the host it was sent to.
func sameOrigin(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, string(c.Request().Host()))
}

// dashboardSocket serves one open dashboard. It is the connection's only writer: it sends what
// the hub hands it, pings, and closes; a second goroutine only reads (pongs, close frames).
func (s *server) dashboardSocket(conn *websocket.Conn) {
	ws := conn.Conn // conn itself is recycled when this function returns
	cookie := conn.Cookies(sessionCookie)
	v, ok := s.hub.join()
	if !ok {
		closeSocket(ws, closeReason{closeRestarting, "server shutting down"})
		return
	}
	defer s.hub.leave(v)

	done := make(chan struct{})
	go func() {
		defer close(done)
		ws.SetReadLimit(wsReadLimit)
		ws.SetReadDeadline(time.Now().Add(wsPongWait))
		ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(wsPongWait)) })
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	defer func() {
		ws.Close() // unblocks the reader
		<-done
	}()

	every := wsPingEvery
	if s.wsPingEvery > 0 {
		every = s.wsPingEvery
	}
	ping := time.NewTicker(every)
	defer ping.Stop()
	for {
		select {
		case msg, ok := <-v.send:
			if !ok {
				closeSocket(ws, v.reason)
				return
			}
			ws.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ping.C:
			if !s.sessionAlive(cookie) {
				closeSocket(ws, closeReason{closeSessionEnd, "session ended: log in again"})
				return
			}
			ws.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-done:
			return
		}
	}
}

// sessionAlive reports whether the dashboard's session still exists (not logged out, not
// expired). A database error is not a logout.
func (s *server) sessionAlive(cookie string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Sessions.Lookup(ctx, cookie, s.now())
	return !errors.Is(err, db.ErrNotFound)
}

// closeSocket says goodbye with a close code; a zero reason (the viewer left) sends nothing.
func closeSocket(ws interface {
	WriteControl(int, []byte, time.Time) error
}, r closeReason) {
	if r.code == 0 {
		return
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(r.code, r.text), time.Now().Add(wsWriteWait))
}
