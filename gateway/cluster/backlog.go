package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// maxBacklog bounds the settlements kept while Redis is unreachable; past it the oldest are
// dropped (and logged), and their reservations expire with their day.
const maxBacklog = 100_000

// backlog holds the settlements of reservations made in Redis that could not be written there:
// they only add to counters, in any order, so they are replayed as soon as Redis answers again
// and the shared counters end up as if it had never been away.
type backlog struct {
	mu        sync.Mutex
	ops       []func(ctx context.Context) error
	n         atomic.Int64
	replaying atomic.Bool
	dropped   int
}

// settle runs op against Redis, or keeps it for later when Redis does not take it now.
func (s *Shared) settle(what string, op func(ctx context.Context) error) {
	if s.try(what, op) {
		return
	}
	b := &s.backlog
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ops) >= maxBacklog {
		b.ops = b.ops[1:]
		b.dropped++
		if b.dropped == 1 || b.dropped%10_000 == 0 {
			s.log.Error("redis unreachable for long: settlements dropped", "dropped", b.dropped)
		}
	}
	b.ops = append(b.ops, op)
	b.n.Store(int64(len(b.ops)))
}

// replayBacklog writes the kept settlements, oldest first, until they are all written or the
// connection is closed; after a failure it tries again every retryEvery. One replay runs at a
// time, off the request path.
func (s *Shared) replayBacklog() {
	b := &s.backlog
	if b.n.Load() == 0 || !b.replaying.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer b.replaying.Store(false)
		for {
			b.mu.Lock()
			if len(b.ops) == 0 {
				b.mu.Unlock()
				return
			}
			op := b.ops[0]
			b.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			err := op(ctx)
			cancel()
			if err != nil {
				s.health.failed("replay", err)
				select {
				case <-s.closed:
					return
				case <-time.After(retryEvery):
				}
				continue
			}
			b.mu.Lock()
			b.ops = b.ops[1:]
			b.n.Store(int64(len(b.ops)))
			b.mu.Unlock()
		}
	}()
}
