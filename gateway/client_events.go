package gateway

import (
	"context"
	"sync"
)

// ClientEvents carries "the clients changed" between gateway instances so that each reloads its
// key cache (SPEC §13: Redis pub/sub when several instances share a database). A single
// instance needs none: ReloadClients already reloads its own cache.
type ClientEvents interface {
	// Publish tells every subscriber, origin included, that the clients changed.
	Publish(ctx context.Context, origin string) error
	// Subscribe calls fn with the publisher's origin on every change until cancel is called.
	Subscribe(fn func(origin string)) (cancel func())
}

// MemoryClientEvents delivers events between gateways in one process, synchronously.
type MemoryClientEvents struct {
	mu   sync.Mutex
	next int
	subs map[int]func(string)
}

// NewMemoryClientEvents returns an in-process event bus.
func NewMemoryClientEvents() *MemoryClientEvents {
	return &MemoryClientEvents{subs: map[int]func(string){}}
}

var _ ClientEvents = (*MemoryClientEvents)(nil)

// Publish implements ClientEvents: every subscriber has run when it returns.
func (b *MemoryClientEvents) Publish(_ context.Context, origin string) error {
	b.mu.Lock()
	fns := make([]func(string), 0, len(b.subs))
	for _, fn := range b.subs {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(origin)
	}
	return nil
}

// Subscribe implements ClientEvents.
func (b *MemoryClientEvents) Subscribe(fn func(origin string)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}
