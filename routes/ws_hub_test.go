package routes

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// testHub is a hub driven by the test: ticks come from a channel, and every render shows the
// current value of n in fragment "a" (and a constant fragment "b").
type testHub struct {
	*Hub
	ticks   chan time.Time
	n       atomic.Int64
	renders atomic.Int64
	joins   chan struct{}
}

func newTestHub() *testHub {
	th := &testHub{ticks: make(chan time.Time), joins: make(chan struct{}, 16)}
	th.Hub = newHub(func(context.Context) ([][]byte, error) {
		th.renders.Add(1)
		return [][]byte{
			fmt.Appendf(nil, `<div id="a">%d</div>`, th.n.Load()),
			[]byte(`<div id="b">constant</div>`),
		}, nil
	}, nil)
	th.ticker = func(time.Duration) (<-chan time.Time, func()) { return th.ticks, func() {} }
	th.joined = func() { th.joins <- struct{}{} }
	return th
}

func (th *testHub) tick() { th.ticks <- time.Now() }

func recv(t *testing.T, v *viewer) []byte {
	t.Helper()
	select {
	case msg, ok := <-v.send:
		if !ok {
			t.Fatal("viewer was dropped")
		}
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	return nil
}

func TestHubSendsOneRenderToEveryViewer(t *testing.T) {
	th := newTestHub()
	v1, _ := th.join()
	v2, _ := th.join()
	th.tick()
	m1, m2 := recv(t, v1), recv(t, v2)
	if want := `<div id="a">0</div><div id="b">constant</div>`; string(m1) != want {
		t.Fatalf("first message %q, want every fragment: %q", m1, want)
	}
	if &m1[0] != &m2[0] {
		t.Error("viewers got different buffers: the tick was rendered or copied per viewer")
	}
	if th.renders.Load() != 1 {
		t.Errorf("%d renders for one tick", th.renders.Load())
	}

	// Only what changed is sent; a tick that changes nothing sends nothing.
	th.n.Store(1)
	th.tick()
	if m := recv(t, v1); string(m) != `<div id="a">1</div>` {
		t.Errorf("second message %q, want only the changed fragment", m)
	}
	recv(t, v2)
	th.tick() // unchanged
	th.n.Store(2)
	th.tick()
	if m := recv(t, v1); string(m) != `<div id="a">2</div>` {
		t.Errorf("after an unchanged tick: %q", m)
	}

	// A viewer joining between ticks gets the whole picture first.
	v3, _ := th.join()
	if m := recv(t, v3); !bytes.Contains(m, []byte(`id="b"`)) || !bytes.Contains(m, []byte(`>2<`)) {
		t.Errorf("late viewer's first message %q", m)
	}
}

func TestHubDropsSlowViewer(t *testing.T) {
	th := newTestHub()
	slow, _ := th.join()
	fast, _ := th.join()
	for i := range th.buffer + 1 {
		th.n.Store(int64(i))
		th.tick()
		recv(t, fast) // the fast viewer keeps up; the slow one never reads
	}
	var got int
	for range slow.send {
		got++
	}
	if got != th.buffer || slow.reason.code != closeTooSlow {
		t.Fatalf("slow viewer: %d messages kept, close code %d; want %d and %d", got, slow.reason.code, th.buffer, closeTooSlow)
	}
	th.n.Store(100)
	th.tick()
	if m := recv(t, fast); string(m) != `<div id="a">100</div>` {
		t.Errorf("the fast viewer after the drop got %q", m)
	}
	if th.viewerCount() != 1 {
		t.Errorf("%d viewers, want 1", th.viewerCount())
	}
}

func TestHubStopsWhenNobodyWatchesAndCloses(t *testing.T) {
	th := newTestHub()
	v, _ := th.join()
	th.tick()
	recv(t, v)
	th.leave(v)
	th.mu.Lock()
	running := th.run != nil || th.full != nil
	th.mu.Unlock()
	if running {
		t.Error("the hub keeps running without viewers")
	}
	// A new viewer restarts it, and the first tick sends the whole picture again.
	v, _ = th.join()
	th.tick()
	if m := recv(t, v); !bytes.Contains(m, []byte(`id="b"`)) {
		t.Errorf("after a restart: %q", m)
	}
	th.Close()
	if _, ok := <-v.send; ok || v.reason.code != closeRestarting {
		t.Errorf("after Close: open=%v code=%d", ok, v.reason.code)
	}
	if _, ok := th.join(); ok {
		t.Error("a closed hub accepts viewers")
	}
}
