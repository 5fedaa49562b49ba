package routes

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aigateway/ai-gateway/gateway"
)

const (
	// hubInterval is how often the dashboard's live fragments are rendered.
	hubInterval = time.Second
	// hubBuffer is how many messages a viewer may fall behind before it is dropped.
	hubBuffer = 8
	// hubRenderTimeout bounds one render.
	hubRenderTimeout = 5 * time.Second
)

// Hub pushes the dashboard's live fragments to every open dashboard. Once per tick it renders
// the fragments once, keeps those that changed since the last tick, and hands the same bytes to
// every viewer. A viewer whose buffer is full is dropped, never waited on: one slow browser
// cannot delay the others. The hub ticks only while someone is watching.
//
// Build one with NewHub, pass it in Deps, and Close it at shutdown.
type Hub struct {
	render   func(ctx context.Context) ([][]byte, error)
	interval time.Duration
	buffer   int
	log      *slog.Logger
	// ticker starts the clock of a running hub; tests replace it with a channel they drive.
	ticker func(d time.Duration) (ticks <-chan time.Time, stop func())
	// joined, when set (tests), is called after a viewer joined.
	joined func()

	mu      sync.Mutex
	viewers map[*viewer]struct{}
	// last holds the fragments last sent; full is all of them in one message, for a viewer that
	// joins between ticks (so a change it missed is not lost until the next one).
	last   [][]byte
	full   []byte
	run    chan struct{} // closed to stop the running loop; nil while nobody watches
	closed bool
}

// viewer is one open dashboard. The hub closes send when it lets go of the viewer; reason says
// why (the WebSocket close code and text).
type viewer struct {
	send   chan []byte
	reason closeReason
}

type closeReason struct {
	code int
	text string
}

// WebSocket close codes the htmx ws extension reconnects after (1012, 1013), and one it doesn't.
const (
	closeTooSlow    = 1013 // try again later
	closeRestarting = 1012 // service restart
	closeSessionEnd = 1008 // policy violation: the session ended
)

// NewHub returns the hub of the dashboard's live numbers, rendered from stats (Gateway.Stats),
// and of the request log's newest id (newest, db.RequestLogStore.Newest; nil: none), which
// the request history watches to put new rows on top.
func NewHub(stats func() gateway.Snapshot, newest func(context.Context) (int64, error), logger *slog.Logger) *Hub {
	return newHub(func(ctx context.Context) ([][]byte, error) {
		l := dashboardLive(stats())
		if newest != nil {
			id, err := newest(ctx)
			if err != nil {
				return nil, err
			}
			l.NewestRequest = id
		}
		return renderLive(ctx, l)
	}, logger)
}

func newHub(render func(ctx context.Context) ([][]byte, error), logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		render:   render,
		interval: hubInterval,
		buffer:   hubBuffer,
		log:      logger,
		ticker: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		},
		viewers: map[*viewer]struct{}{},
	}
}

// join adds a viewer; it gets the latest full picture first, if the hub has one. ok is false
// once the hub is closed.
func (h *Hub) join() (v *viewer, ok bool) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, false
	}
	v = &viewer{send: make(chan []byte, h.buffer)}
	if h.full != nil {
		v.send <- h.full
	}
	h.viewers[v] = struct{}{}
	if h.run == nil {
		h.run = make(chan struct{})
		go h.loop(h.run)
	}
	joined := h.joined
	h.mu.Unlock()
	if joined != nil {
		joined()
	}
	return v, true
}

// leave removes a viewer (its connection ended). The hub stops ticking when nobody is left.
func (h *Hub) leave(v *viewer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(v, closeReason{})
}

// dropLocked lets go of v with reason; h.mu must be held.
func (h *Hub) dropLocked(v *viewer, reason closeReason) {
	if _, ok := h.viewers[v]; !ok {
		return
	}
	delete(h.viewers, v)
	v.reason = reason
	close(v.send)
	if len(h.viewers) == 0 && h.run != nil {
		close(h.run)
		h.run, h.last, h.full = nil, nil, nil
	}
}

// Close disconnects every viewer (telling their browsers to reconnect later) and refuses new
// ones. Call it at shutdown, before waiting for HTTP connections: a dashboard never finishes.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for v := range h.viewers {
		h.dropLocked(v, closeReason{closeRestarting, "server shutting down"})
	}
}

func (h *Hub) loop(run chan struct{}) {
	ticks, stop := h.ticker(h.interval)
	defer stop()
	for {
		select {
		case <-run:
			return
		case <-ticks:
			h.tick(run)
		}
	}
}

// tick renders once and sends what changed to every viewer.
func (h *Hub) tick(run chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), hubRenderTimeout)
	frags, err := h.render(ctx)
	cancel()
	if err != nil {
		h.log.Error("render dashboard fragments", "error", err.Error())
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.run != run { // stopped (and maybe restarted) while rendering
		return
	}
	var changed, full bytes.Buffer
	for i, f := range frags {
		full.Write(f)
		if i >= len(h.last) || !bytes.Equal(h.last[i], f) {
			changed.Write(f)
		}
	}
	h.last, h.full = frags, full.Bytes()
	if changed.Len() == 0 {
		return
	}
	msg := changed.Bytes() // shared by every viewer: nobody may change it
	for v := range h.viewers {
		select {
		case v.send <- msg:
		default:
			h.dropLocked(v, closeReason{closeTooSlow, "too slow: reconnect to catch up"})
		}
	}
}

// viewerCount is the number of open dashboards.
func (h *Hub) viewerCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.viewers)
}
