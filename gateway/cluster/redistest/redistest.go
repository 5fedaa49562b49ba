// Package redistest is the Redis of the tests that need one (the cluster package's and the
// several-instances test): where it is, and a check that skips a test without it — or fails it
// under CI, where .ci/run starts one.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the test server when $AIGW_TEST_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the test server's URL: $AIGW_TEST_REDIS_URL, else DefaultURL.
func URL() string {
	if u := os.Getenv("AIGW_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Need skips t when the test server does not answer a PING, or fails it when CI=true.
func Need(t testing.TB) {
	t.Helper()
	opt, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		msg := "redis not reachable at " + opt.Addr + ` (start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no): ` + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}
