package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedisGateway starts a second gateway whose rate limits, quotas and budget counters live in
// Redis (redis.url, under a key prefix of its own) and returns its row, measured like the
// in-memory gateway's: what Redis-backed limits add per request. A Redis that does not answer
// gives no row, with a note. stop ends the gateway and deletes its keys.
func startRedisGateway(o options, mockURL string, env []string) (*proxyRow, func(), error) {
	opt, err := redis.ParseURL(o.redis)
	if err != nil {
		return nil, nil, fmt.Errorf("-redis: %w", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		fmt.Fprintf(os.Stderr, "no Redis at %s: no row for Redis-backed limits (%v)\n", opt.Addr, err)
		return nil, nil, nil
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "aigw-bench:" + hex.EncodeToString(b[:]) + ":"
	gw, key, err := startGateway(o.gateway, mockURL, append(env, "AIGW_REDIS_URL="+o.redis, "AIGW_REDIS_PREFIX="+prefix))
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("gateway with Redis: %w", err)
	}
	stop := func() {
		stopGateway(gw)
		iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			c.Del(context.Background(), iter.Val())
		}
		c.Close()
	}
	return &proxyRow{target: newTarget("gw + Redis", gw.Base+"/v1/chat/completions", key, 64),
		cpu: func() float64 { return cpuSeconds(gw.Pid()) }, extra: true}, stop, nil
}
