package gateway

import (
	"net/url"
	"time"
)

// RedisConfig points several gateway instances at one Redis (SPEC §17): rate limits, daily
// quotas, budgets and login throttling are then shared, and a change made on one instance
// reaches the others over pub/sub. Empty URL: everything stays in this instance's memory.
type RedisConfig struct {
	// URL is redis://[user:password@]host:port[/db], or rediss:// for TLS.
	URL string `yaml:"url"`
	// Prefix starts every key and channel the gateway uses, so that separate deployments can
	// share one Redis; the instances of one deployment must use the same.
	Prefix string `yaml:"prefix"`
	// Timeout bounds each Redis call; past it the instance decides on its own memory (and skips
	// Redis for a second), so a Redis that hangs cannot hold requests up for longer.
	Timeout time.Duration `yaml:"timeout"`
}

// Enabled reports whether a Redis is configured.
func (c RedisConfig) Enabled() bool { return c.URL != "" }

func (c RedisConfig) validate(bad func(string, ...any)) {
	if c.URL == "" {
		return
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		// The URL may hold a password: name the problem, never echo the value.
		bad("redis.url: not a redis:// or rediss:// URL with a host (e.g. redis://127.0.0.1:6379/0)")
	}
	if c.Timeout <= 0 {
		bad("redis.timeout: must be more than 0, got %s", c.Timeout)
	}
	if c.Prefix == "" {
		bad("redis.prefix: must not be empty when redis.url is set (the default is \"aigw:\")")
	}
}
