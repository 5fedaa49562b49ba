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

// redisRow measures a second gateway whose rate limits, quotas and budget counters live in Redis
// (redis.url, a key prefix of its own) the way the in-memory one was measured: latency at
// concurrency 1 and CPU per request at 32. The numbers go into r next to the in-memory ones; a
// Redis that does not answer skips the row with a note.
func redisRow(r *report, o options, mockURL string, env []string) error {
	opt, err := redis.ParseURL(o.redis)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		fmt.Fprintf(os.Stderr, "Redis-backed limits: skipped, no Redis at %s (%v)\n", opt.Addr, err)
		return nil
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "aigw-bench:" + hex.EncodeToString(b[:]) + ":"
	defer func() {
		iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			c.Del(context.Background(), iter.Val())
		}
	}()

	fmt.Fprintln(os.Stderr, "Redis-backed limits …")
	gw, key, err := startGateway(o.gateway, mockURL, append(env, "AIGW_REDIS_URL="+o.redis, "AIGW_REDIS_PREFIX="+prefix))
	if err != nil {
		return fmt.Errorf("gateway with Redis: %w", err)
	}
	defer stopGateway(gw)
	via := newTarget("gateway+redis", gw.Base+"/v1/chat/completions", key, 64)
	body := chatBody("bench", false)
	if _, err := closedLoop(via, 4, time.Second, body); err != nil {
		return fmt.Errorf("warm-up gateway+redis: %w", err)
	}
	g1, err := closedLoop(via, 1, o.duration, body)
	if err != nil {
		return err
	}
	cpu0 := cpuSeconds(gw.Pid())
	g32, err := closedLoop(via, 32, o.duration, body)
	if err != nil {
		return err
	}
	r.RedisP50us, r.RedisP99us = us(g1.latency.quantile(0.5)), us(g1.latency.quantile(0.99))
	r.RedisAddedP50us, r.RedisAddedP99us = r.RedisP50us-r.GatewayP50us, r.RedisP99us-r.GatewayP99us
	r.RedisCPUus = (cpuSeconds(gw.Pid()) - cpu0) * 1e6 / float64(g32.requests)
	r.RedisRPS = g32.rps()
	return nil
}
