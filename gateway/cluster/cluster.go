// Package cluster lets several gateway instances share one Redis (SPEC §17): Redis-backed
// implementations of the gateway's limiter, daily quota counters and budget counters, the
// admin login throttle, the change announcements that keep every instance's key cache, prices
// and settings current, and the live numbers of every instance for the dashboard.
//
// Every shared decision is one Lua script, so it is atomic across instances. When Redis cannot
// be reached each instance falls back to its own memory (fail-open per instance): requests keep
// flowing, ai_gateway_redis_errors_total counts the failures, a log line says so at most every
// few seconds, and Redis is tried again every second until it answers.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Options configure Open.
type Options struct {
	// URL is redis.url: redis://[user:password@]host:port[/db] or rediss://.
	URL string
	// Prefix starts every key and channel name (default "aigw:"), so several gateways, or tests,
	// can share one Redis.
	Prefix string
	// Registry gets ai_gateway_redis_errors_total and ai_gateway_redis_up; nil keeps them private.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// Timeout bounds each Redis call (redis.timeout; default 1s); past it the call counts as
	// failed and the instance's own memory decides.
	Timeout time.Duration
	// Now is the clock of the health checks; nil means time.Now.
	Now func() time.Time
}

// Shared is one instance's connection to the shared state.
type Shared struct {
	rdb      *redis.Client
	prefix   string
	instance string
	log      *slog.Logger
	timeout  time.Duration
	health   *health
	backlog  backlog
	// closed is closed by Close: background work stops.
	closed    chan struct{}
	closeOnce sync.Once
}

// Open connects to Redis. An unreachable Redis is not an error: the instance starts on its own
// memory and joins the others once Redis answers. The error is for a URL that cannot be used.
func Open(ctx context.Context, o Options) (*Shared, error) {
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		// go-redis errors may quote the URL, password included.
		return nil, errors.New("redis.url: not a usable redis:// or rediss:// URL")
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Prefix == "" {
		o.Prefix = "aigw:"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	opt.PoolTimeout = o.Timeout
	// A failed call falls back at once; retrying would only hold the request up.
	opt.MaxRetries = -1
	opt.PoolSize = max(opt.PoolSize, 64)
	h, err := newHealth(o.Registry, o.Logger, o.Now)
	if err != nil {
		return nil, err
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	s := &Shared{
		rdb:      redis.NewClient(opt),
		prefix:   o.Prefix,
		instance: hex.EncodeToString(id[:]),
		log:      o.Logger,
		timeout:  o.Timeout,
		health:   h,
		closed:   make(chan struct{}),
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := s.rdb.Ping(pctx).Err(); err != nil {
		s.health.failed("connect", err)
	}
	return s, nil
}

// Instance is this instance's id: random per process, it names the instance on the dashboard.
func (s *Shared) Instance() string { return s.instance }

// Close stops the background work and closes the connections.
func (s *Shared) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return s.rdb.Close()
}

// Ping reports whether Redis answers now.
func (s *Shared) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// try runs op against Redis unless Redis is known to be down; false means it did not succeed and
// the caller decides on its own memory.
func (s *Shared) try(what string, op func(ctx context.Context) error) bool {
	if !s.health.usable() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := op(ctx); err != nil && !errors.Is(err, redis.Nil) {
		s.health.failed(what, err)
		return false
	}
	s.health.ok()
	if s.backlog.n.Load() > 0 {
		s.replayBacklog()
	}
	return true
}

// key is the prefixed name of a Redis key made of parts joined by ':'.
func (s *Shared) key(parts ...string) string {
	n := len(s.prefix)
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, s.prefix...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, p...)
	}
	return string(b)
}

// forget deletes every key matching the patterns (a deleted client's state). It scans, so it is
// for rare admin actions only.
func (s *Shared) forget(patterns ...string) {
	s.try("forget", func(ctx context.Context) error {
		for _, p := range patterns {
			iter := s.rdb.Scan(ctx, 0, p, 500).Iterator()
			var keys []string
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if err := iter.Err(); err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// parseInt reads a counter Redis returned as text; anything else counts as 0.
func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// errUnavailable is what a call skipped while Redis is known to be down returns.
var errUnavailable = errors.New("redis unavailable")

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
