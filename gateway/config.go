package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/aigateway/ai-gateway/db"
)

// Config is config.yaml (SPEC §2). Provider settings (keys, URLs, models) live per client in the
// database, not here.
type Config struct {
	Server     ServerConfig     `yaml:"server"`
	Defaults   Limits           `yaml:"defaults"`
	Database   DatabaseConfig   `yaml:"database"`
	Logs       LogsConfig       `yaml:"logs"`
	Responses  ResponsesConfig  `yaml:"responses"`
	Prometheus PrometheusConfig `yaml:"prometheus"`
	Upstream   UpstreamConfig   `yaml:"upstream"`
	Otel       OtelConfig       `yaml:"otel"`
	Pricing    PricingConfig    `yaml:"pricing"`
	MCP        MCPConfig        `yaml:"mcp"`
	Redis      RedisConfig      `yaml:"redis"`
}

// PricingConfig says where model prices come from (SPEC §16).
type PricingConfig struct {
	// URL, when set, is fetched once at start for price data in genai-prices' format (its
	// data.json); on any failure the embedded snapshot is used. Empty: the snapshot only.
	URL string `yaml:"url"`
}

// ServerConfig is where and how the HTTP server listens.
type ServerConfig struct {
	Host string `yaml:"host"`
	// Port 0 picks a free port (the actual one is printed at start).
	Port int `yaml:"port"`
	// ShutdownTimeout bounds how long in-flight requests and streams may run after SIGINT/SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReadTimeout bounds reading one request, headers and body, from its first byte (a new
	// connection's from when it is accepted); slower clients are disconnected.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds each write of an answer: a client that accepts none of it for this long
	// is disconnected. A stream that is read runs as long as it lasts.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MaxConnections caps the open client connections; more get 503 and are closed at once.
	MaxConnections int         `yaml:"max_connections"`
	HTTPS          HTTPSConfig `yaml:"https"`
	// TrustedProxies lists, comma-separated, the addresses (IPs or CIDRs) of reverse proxies in
	// front of the gateway: for a request from one of them, the client is the nearest address in
	// X-Forwarded-For that is not a trusted proxy. Empty: the connection's peer is the client.
	TrustedProxies string `yaml:"trusted_proxies"`
}

// TrustedProxyPrefixes parses TrustedProxies; a bare IP is a prefix of its full length.
func (c ServerConfig) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP or CIDR", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP or CIDR", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// HTTPSConfig turns on TLS with a certificate and key in PEM files.
type HTTPSConfig struct {
	Enabled  bool   `yaml:"enabled"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Limits are the rate limits and quotas of one client; the config holds the defaults copied into
// each new client. 0 means "no limit". The admin JSON API uses the same field names.
type Limits struct {
	RateLimit RateLimit `yaml:"rate_limit" json:"rate_limit"`
	Quota     Quota     `yaml:"quota" json:"quota"`
}

// RateLimit caps requests per sliding window.
type RateLimit struct {
	RequestsPerMinute int64 `yaml:"requests_per_minute" json:"requests_per_minute"`
	RequestsPerHour   int64 `yaml:"requests_per_hour" json:"requests_per_hour"`
	RequestsPerDay    int64 `yaml:"requests_per_day" json:"requests_per_day"`
}

// Quota caps daily usage (UTC day) and the size of one request.
type Quota struct {
	MaxInputTokensPerDay  int64 `yaml:"max_input_tokens_per_day" json:"max_input_tokens_per_day"`
	MaxOutputTokensPerDay int64 `yaml:"max_output_tokens_per_day" json:"max_output_tokens_per_day"`
	MaxRequestsPerDay     int64 `yaml:"max_requests_per_day" json:"max_requests_per_day"`
	// MaxInputTokens and MaxOutputTokens are per request.
	MaxInputTokens  int64 `yaml:"max_input_tokens" json:"max_input_tokens"`
	MaxOutputTokens int64 `yaml:"max_output_tokens" json:"max_output_tokens"`
}

// DatabaseConfig says where the data lives (SPEC §17): a SQLite file (the default), or a
// PostgreSQL database that several instances share. Path's directory is the data directory (the
// master key's) with either driver.
type DatabaseConfig struct {
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// Path is the SQLite file. LoadConfig makes it absolute: a relative path is relative to the
	// config file's directory.
	Path string `yaml:"path"`
	// URL is the PostgreSQL DSN (driver postgres only), e.g.
	// postgres://gateway:secret@db:5432/gateway?sslmode=disable.
	URL string `yaml:"url"`
}

// Options are the database options of db.Connect.
func (c DatabaseConfig) Options() db.Options {
	return db.Options{Driver: c.Driver, Path: c.Path, URL: c.URL}
}

// validate reports the database settings' problems through bad. The URL is never echoed whole:
// it may hold a password.
func (c DatabaseConfig) validate(bad func(format string, args ...any)) {
	if c.Path == "" {
		bad("database.path: must not be empty")
	}
	switch c.Driver {
	case db.DriverSQLite:
		if c.URL != "" {
			bad("database.url is set but database.driver is sqlite: set database.driver to postgres, or empty database.url")
		}
	case db.DriverPostgres:
		if c.URL == "" {
			bad("database.driver is postgres but database.url is empty (e.g. postgres://user:password@localhost:5432/gateway?sslmode=disable)")
		} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			bad("database.url: %s is not a postgres://user:password@host:port/database URL", db.RedactDSN(c.URL))
		}
	default:
		bad("database.driver: %q is not sqlite or postgres", c.Driver)
	}
}

// LogsConfig controls the request log.
type LogsConfig struct {
	// RetentionDays is how long request log rows are kept; 0 keeps them forever.
	RetentionDays int `yaml:"retention_days"`
	// StoreBodies keeps request and response bodies (truncated, secrets redacted) in the log.
	StoreBodies bool `yaml:"store_bodies"`
	// QueueSize bounds the background log writer's queue; overflow is counted, never waited on.
	QueueSize int `yaml:"queue_size"`
}

// ResponsesConfig controls the Responses API's stored state (SPEC §14).
type ResponsesConfig struct {
	// RetentionDays is how long stored responses are kept; 0 keeps them forever.
	RetentionDays int `yaml:"retention_days"`
}

// PrometheusConfig guards /metrics with HTTP Basic auth.
type PrometheusConfig struct {
	Enabled  bool   `yaml:"enabled"`
	Username string `yaml:"username"`
	// Password is generated on first launch.
	Password string `yaml:"password"`
}

// UpstreamConfig bounds waiting on upstreams. There is no total timeout: a long stream is legal.
type UpstreamConfig struct {
	// HeaderTimeout bounds the wait for an upstream's response headers (504 when exceeded); 0 = none.
	HeaderTimeout time.Duration `yaml:"header_timeout"`
	// IdleTimeout bounds the silence between two bytes of an upstream body; 0 = none.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// Retries is how many times a failed attempt is retried on the same target before the next
	// target is tried (SPEC §15); 0 = go straight to the next target.
	Retries int `yaml:"retries"`
	// RetryBackoffMax caps the jittered wait before a retry, Retry-After included.
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`
	Breaker         BreakerConfig `yaml:"breaker"`
}

// BreakerConfig is the circuit breaker of every upstream target (SPEC §15).
type BreakerConfig struct {
	// Failures is how many consecutive failed attempts open a target's breaker; 0 = never.
	Failures int `yaml:"failures"`
	// Cooldown is how long an open breaker refuses calls before one probe may pass.
	Cooldown time.Duration `yaml:"cooldown"`
}

// DefaultConfig returns the configuration of SPEC §2 with an empty Prometheus password.
func DefaultConfig() *Config {
	return &Config{
		Server: ServerConfig{Host: "0.0.0.0", Port: 8090, ShutdownTimeout: 30 * time.Second,
			ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, MaxConnections: 10000},
		Defaults: Limits{
			RateLimit: RateLimit{RequestsPerMinute: 60, RequestsPerHour: 1000, RequestsPerDay: 10000},
			Quota: Quota{
				MaxInputTokensPerDay:  1_000_000,
				MaxOutputTokensPerDay: 500_000,
				MaxRequestsPerDay:     1000,
				MaxInputTokens:        1_000_000,
				MaxOutputTokens:       8192,
			},
		},
		Database:   DatabaseConfig{Driver: db.DriverSQLite, Path: "./data/gateway.db"},
		Logs:       LogsConfig{RetentionDays: 30, QueueSize: 10000},
		Responses:  ResponsesConfig{RetentionDays: 30},
		Prometheus: PrometheusConfig{Username: "prometheus"},
		Upstream: UpstreamConfig{HeaderTimeout: 300 * time.Second, IdleTimeout: 300 * time.Second,
			Retries: 1, RetryBackoffMax: 2 * time.Second,
			Breaker: BreakerConfig{Failures: 5, Cooldown: 30 * time.Second}},
		Otel:  OtelConfig{Headers: map[string]string{}, SampleRatio: 1, ServiceName: "ai-gateway"},
		MCP:   MCPConfig{MaxSteps: 8, ToolTimeout: 30 * time.Second, MaxResultBytes: 64 << 10},
		Redis: RedisConfig{Prefix: "aigw:", Timeout: time.Second},
	}
}

// EnvPrefix starts every environment override: AIGW_<SECTION>_<KEY>, nested sections joined by "_".
const EnvPrefix = "AIGW"

// LoadConfig reads the config file at path, first writing it with every default (and a generated
// Prometheus password) when it does not exist yet; created reports that. Environment variables
// AIGW_<SECTION>_<KEY> (e.g. AIGW_SERVER_PORT, AIGW_DEFAULTS_QUOTA_MAX_OUTPUT_TOKENS) override the
// file. A relative database.path is made relative to the config file's directory.
//
// The error names the file and line for bad YAML, the variable for a bad environment value, and
// every invalid setting (see Validate).
func LoadConfig(path string, getenv func(string) string) (cfg *Config, created bool, err error) {
	created, err = writeDefaultConfig(path)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read config: %w", err)
	}
	cfg = DefaultConfig()
	if err := decodeYAML(b, cfg); err != nil {
		return nil, false, fmt.Errorf("config %s: %w", path, err)
	}
	if err := applyOtelEnv(&cfg.Otel, getenv); err != nil {
		return nil, false, err
	}
	if err := applyEnv(cfg, getenv); err != nil {
		return nil, false, err
	}
	applyOtelOff(&cfg.Otel, getenv)
	if cfg.Database.Path != "" && !filepath.IsAbs(cfg.Database.Path) {
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), cfg.Database.Path))
		if err != nil {
			return nil, false, fmt.Errorf("database.path: %w", err)
		}
		cfg.Database.Path = abs
	}
	if err := cfg.Validate(); err != nil {
		return nil, false, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, created, nil
}

func decodeYAML(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file means "all defaults"; the decoder reports it as io.EOF.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if cfg.Otel.Headers == nil { // "headers:" with nothing after it reads as no map at all
		cfg.Otel.Headers = map[string]string{}
	}
	return nil
}

// Validate checks every setting and reports all problems at once, one per line.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Server.Port < 0 || c.Server.Port > 65535 {
		bad("server.port: %d is not a valid port (use 1-65535, or 0 for any free port)", c.Server.Port)
	}
	if c.Server.ShutdownTimeout <= 0 {
		bad("server.shutdown_timeout: must be more than 0, got %s", c.Server.ShutdownTimeout)
	}
	if c.Server.ReadTimeout <= 0 {
		bad("server.read_timeout: must be more than 0, got %s", c.Server.ReadTimeout)
	}
	if c.Server.WriteTimeout <= 0 {
		bad("server.write_timeout: must be more than 0, got %s", c.Server.WriteTimeout)
	}
	if c.Server.MaxConnections <= 0 {
		bad("server.max_connections: must be more than 0, got %d", c.Server.MaxConnections)
	}
	if h := c.Server.HTTPS; h.Enabled {
		for _, f := range []struct{ key, path string }{
			{"server.https.cert_file", h.CertFile}, {"server.https.key_file", h.KeyFile},
		} {
			if f.path == "" {
				bad("server.https.enabled is true but %s is not set", f.key)
			} else if _, err := os.Stat(f.path); err != nil {
				bad("%s: %v", f.key, err)
			}
		}
	}
	for _, l := range []struct {
		key string
		v   int64
	}{
		{"defaults.rate_limit.requests_per_minute", c.Defaults.RateLimit.RequestsPerMinute},
		{"defaults.rate_limit.requests_per_hour", c.Defaults.RateLimit.RequestsPerHour},
		{"defaults.rate_limit.requests_per_day", c.Defaults.RateLimit.RequestsPerDay},
		{"defaults.quota.max_input_tokens_per_day", c.Defaults.Quota.MaxInputTokensPerDay},
		{"defaults.quota.max_output_tokens_per_day", c.Defaults.Quota.MaxOutputTokensPerDay},
		{"defaults.quota.max_requests_per_day", c.Defaults.Quota.MaxRequestsPerDay},
		{"defaults.quota.max_input_tokens", c.Defaults.Quota.MaxInputTokens},
		{"defaults.quota.max_output_tokens", c.Defaults.Quota.MaxOutputTokens},
		{"logs.retention_days", int64(c.Logs.RetentionDays)},
		{"responses.retention_days", int64(c.Responses.RetentionDays)},
	} {
		if l.v < 0 {
			bad("%s: must be 0 (no limit) or more, got %d", l.key, l.v)
		}
	}
	if _, err := c.Server.TrustedProxyPrefixes(); err != nil {
		bad("server.trusted_proxies: %v", err)
	}
	c.Database.validate(bad)
	if c.Logs.QueueSize <= 0 {
		bad("logs.queue_size: must be more than 0, got %d", c.Logs.QueueSize)
	}
	if c.Prometheus.Enabled && (c.Prometheus.Username == "" || c.Prometheus.Password == "") {
		bad("prometheus.enabled is true but prometheus.username or prometheus.password is empty")
	}
	if c.Upstream.HeaderTimeout < 0 {
		bad("upstream.header_timeout: must be 0 (no bound) or more, got %s", c.Upstream.HeaderTimeout)
	}
	if c.Upstream.IdleTimeout < 0 {
		bad("upstream.idle_timeout: must be 0 (no bound) or more, got %s", c.Upstream.IdleTimeout)
	}
	c.Otel.validate(bad)
	c.MCP.validate(bad)
	c.Redis.validate(bad)
	if c.Upstream.Retries < 0 || c.Upstream.Retries > 10 {
		bad("upstream.retries: must be 0 to 10, got %d", c.Upstream.Retries)
	}
	if c.Upstream.RetryBackoffMax < 0 {
		bad("upstream.retry_backoff_max: must be 0 (no wait) or more, got %s", c.Upstream.RetryBackoffMax)
	}
	if c.Upstream.Breaker.Failures < 0 {
		bad("upstream.breaker.failures: must be 0 (no breaker) or more, got %d", c.Upstream.Breaker.Failures)
	}
	if c.Upstream.Breaker.Cooldown < 0 {
		bad("upstream.breaker.cooldown: must be 0 or more, got %s", c.Upstream.Breaker.Cooldown)
	}
	if u := c.Pricing.URL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		bad("pricing.url: must be an http(s) URL, got %q", u)
	}
	return errors.Join(errs...)
}

// ListenAddr is host:port for net.Listen.
func (c *Config) ListenAddr() string {
	return netJoin(c.Server.Host, c.Server.Port)
}

func netJoin(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// EnvKeys lists every environment variable that overrides a config key, in file order.
func EnvKeys() []string {
	var keys []string
	walkConfig(reflect.ValueOf(DefaultConfig()).Elem(), EnvPrefix, "", func(env, _ string, _ reflect.Value) error {
		keys = append(keys, env)
		return nil
	})
	return keys
}

// walkConfig calls fn for every leaf setting with its env name and its dotted YAML key.
func walkConfig(v reflect.Value, env, key string, fn func(env, key string, v reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		e, k := env+"_"+strings.ToUpper(tag), tag
		if key != "" {
			k = key + "." + tag
		}
		f := v.Field(i)
		if f.Kind() == reflect.Slice {
			continue // lists (mcp.stdio) are set in the file only
		}
		if f.Kind() == reflect.Struct {
			if err := walkConfig(f, e, k, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(e, k, f); err != nil {
			return err
		}
	}
	return nil
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	headersType  = reflect.TypeFor[map[string]string]()
)

func applyEnv(cfg *Config, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	return walkConfig(reflect.ValueOf(cfg).Elem(), EnvPrefix, "", func(env, _ string, f reflect.Value) error {
		s := getenv(env)
		if s == "" {
			return nil
		}
		s = strings.TrimSpace(s)
		switch {
		case f.Type() == durationType:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration (e.g. 30s, 5m)", env, s)
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.String:
			f.SetString(s)
		case f.Kind() == reflect.Float64:
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", env, s)
			}
			f.SetFloat(x)
		case f.Type() == headersType:
			h, err := parseHeaderList(s)
			if err != nil {
				return fmt.Errorf("%s: %v (use name=value,name2=value2)", env, err)
			}
			f.Set(reflect.ValueOf(h))
		case f.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("%s: %q is not a boolean (true or false)", env, s)
			}
			f.SetBool(b)
		case f.CanInt():
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || f.OverflowInt(n) {
				return fmt.Errorf("%s: %q is not an integer", env, s)
			}
			f.SetInt(n)
		default:
			return fmt.Errorf("%s: unsupported setting type %s", env, f.Type())
		}
		return nil
	})
}

// writeDefaultConfig creates path with every default unless it exists. The file holds the
// generated Prometheus password, so it is private to the owner.
func writeDefaultConfig(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("config: %w", err)
	}
	cfg := DefaultConfig()
	cfg.Prometheus.Password = db.RandomString(24)
	var buf bytes.Buffer
	if err := defaultConfigTemplate.Execute(&buf, cfg); err != nil {
		return false, fmt.Errorf("render default config: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("create config directory: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil // another process wrote it first
	}
	if err != nil {
		return false, fmt.Errorf("write config: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return false, fmt.Errorf("write config: %w", err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write config: %w", err)
	}
	return true, nil
}

func yamlDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// yamlMap writes m as a JSON object, which is a valid YAML flow mapping.
func yamlMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func yamlString(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a valid YAML double-quoted scalar
	return string(b)
}

var defaultConfigTemplate = template.Must(template.New("config").Funcs(template.FuncMap{
	"d": yamlDuration, "q": yamlString, "m": yamlMap,
}).Parse(`# AI Gateway configuration, written with every default on first launch.
# Every key can also be set by environment variable AIGW_<SECTION>_<KEY>, e.g.
# AIGW_SERVER_PORT=9000 or AIGW_DEFAULTS_QUOTA_MAX_OUTPUT_TOKENS=4096. Env beats this file;
# the -host and -port flags beat env. Provider settings live per client in the database.
server:
  host: {{q .Server.Host}}
  port: {{.Server.Port}}
  shutdown_timeout: {{d .Server.ShutdownTimeout}}   # in-flight requests and streams may finish within this on SIGINT/SIGTERM
  read_timeout: {{d .Server.ReadTimeout}}       # a client must send a whole request (headers and body) within this
  write_timeout: {{d .Server.WriteTimeout}}      # a client that reads none of an answer for this long is disconnected; streams may run longer
  max_connections: {{.Server.MaxConnections}}    # open client connections; more get 503
  https:
    enabled: {{.Server.HTTPS.Enabled}}
    cert_file: {{q .Server.HTTPS.CertFile}}
    key_file: {{q .Server.HTTPS.KeyFile}}
  trusted_proxies: {{q .Server.TrustedProxies}}       # reverse proxies whose X-Forwarded-For names the client, e.g. "127.0.0.1, 10.0.0.0/8"
defaults:                      # copied into each new client; each client can override; 0 = no limit
  rate_limit:
    requests_per_minute: {{.Defaults.RateLimit.RequestsPerMinute}}
    requests_per_hour: {{.Defaults.RateLimit.RequestsPerHour}}
    requests_per_day: {{.Defaults.RateLimit.RequestsPerDay}}
  quota:
    max_input_tokens_per_day: {{.Defaults.Quota.MaxInputTokensPerDay}}
    max_output_tokens_per_day: {{.Defaults.Quota.MaxOutputTokensPerDay}}
    max_requests_per_day: {{.Defaults.Quota.MaxRequestsPerDay}}
    max_input_tokens: {{.Defaults.Quota.MaxInputTokens}}    # per request
    max_output_tokens: {{.Defaults.Quota.MaxOutputTokens}}      # per request
database:
  driver: {{q .Database.Driver}}      # sqlite, or postgres to share one database between several instances
  path: {{q .Database.Path}}      # the SQLite file, relative to this file's directory; the master key lives next to it
  url: {{q .Database.URL}}                      # postgres only: postgres://user:password@host:5432/database?sslmode=disable
logs:
  retention_days: {{.Logs.RetentionDays}}             # 0 keeps request logs forever
  store_bodies: {{.Logs.StoreBodies}}
  queue_size: {{.Logs.QueueSize}}              # request log rows waiting to be written; overflow is counted and dropped
responses:
  retention_days: {{.Responses.RetentionDays}}             # stored Responses API responses; 0 keeps them forever
prometheus:
  enabled: {{.Prometheus.Enabled}}
  username: {{q .Prometheus.Username}}
  password: {{q .Prometheus.Password}}
upstream:
  header_timeout: {{d .Upstream.HeaderTimeout}}            # wait for an upstream's response headers
  idle_timeout: {{d .Upstream.IdleTimeout}}              # silence allowed between two bytes of an upstream stream
  retries: {{.Upstream.Retries}}                      # retries on the same target before the next one (SPEC §15)
  retry_backoff_max: {{d .Upstream.RetryBackoffMax}}          # cap of the jittered wait before a retry, Retry-After included
  breaker:
    failures: {{.Upstream.Breaker.Failures}}                   # consecutive failed attempts that open a target's breaker; 0 = never
    cooldown: {{d .Upstream.Breaker.Cooldown}}                 # how long an open breaker skips its target before one probe
otel:                          # OpenTelemetry traces over OTLP/HTTP; off while endpoint is empty (OTEL_EXPORTER_OTLP_* work too)
  endpoint: {{q .Otel.Endpoint}}                 # the collector, e.g. "http://localhost:4318"
  headers: {{m .Otel.Headers}}                  # sent with every export, e.g. {"x-api-key": "..."}
  sample_ratio: {{.Otel.SampleRatio}}               # share of new traces recorded, 0 to 1
  service_name: {{q .Otel.ServiceName}}
pricing:
  url: {{q .Pricing.URL}}      # genai-prices data.json fetched at start; empty: the embedded snapshot
mcp:                           # tool mode gateway and /mcp (SPEC §18); HTTP MCP servers are added in the admin UI
  max_steps: {{.MCP.MaxSteps}}                    # rounds of gateway tool calls in one request
  tool_timeout: {{d .MCP.ToolTimeout}}              # one tool call
  max_result_bytes: {{.MCP.MaxResultBytes}}         # one tool result's text, cut beyond
  allow_private: {{.MCP.AllowPrivate}}             # let MCP server URLs reach loopback, private and link-local addresses
  # stdio:                     # servers the gateway runs itself (never from the web UI), e.g.
  #   - {name: files, command: mcp-files, args: ["/srv"], env: {LOG_LEVEL: warn}}
redis:                         # shared limits and live changes between several instances; empty: this instance alone
  url: {{q .Redis.URL}}      # e.g. "redis://127.0.0.1:6379/0" (rediss:// for TLS)
  prefix: {{q .Redis.Prefix}}  # starts every key and channel; one per deployment
  timeout: {{d .Redis.Timeout}}             # a slower Redis call counts as failed: the instance decides alone
`))
