package cluster

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/ai-gateway/gateway"
)

// Events are gateway.ClientEvents over Redis pub/sub: a change made on one instance (a client
// created, edited, disabled, deleted or given a new key, prices, settings) is published, and
// every instance reloads from the database as soon as the message arrives. After a lost
// connection the subscriber reconnects by itself and reloads once, for the changes it missed.
type Events struct {
	s       *Shared
	channel string
}

var _ gateway.ClientEvents = (*Events)(nil)

// Events returns the change announcements.
func (s *Shared) Events() *Events { return &Events{s: s, channel: s.key("changes")} }

// Publish implements gateway.ClientEvents. With Redis down the change still applies here, and
// the announcement is kept and sent once Redis answers again (see Shared.settle).
func (e *Events) Publish(ctx context.Context, origin string) error {
	e.s.settle("publish", func(c context.Context) error {
		return e.s.rdb.Publish(c, e.channel, origin).Err()
	})
	return nil
}

// Subscribe implements gateway.ClientEvents. fn runs on one goroutine, one message at a time;
// after a reconnection it runs with origin "" (a change of unknown origin).
func (e *Events) Subscribe(fn func(origin string)) (cancel func()) {
	ctx, stop := context.WithCancel(context.Background())
	ps := e.s.rdb.Subscribe(ctx, e.channel)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.listen(ctx, ps, fn)
	}()
	return func() {
		stop()
		ps.Close() // a receive waiting for a message returns now
		<-done
	}
}

func (e *Events) listen(ctx context.Context, ps *redis.PubSub, fn func(origin string)) {
	subscribed := false
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, 30*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if isTimeout(err) {
				continue
			}
			e.s.health.failed("subscribe", err)
			select { // go-redis reconnects on the next receive
			case <-ctx.Done():
				return
			case <-time.After(retryEvery):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if subscribed {
					fn("") // back after an outage: reload whatever changed meanwhile
				}
				subscribed = true
			}
		case *redis.Message:
			fn(m.Payload)
		}
	}
}

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}
