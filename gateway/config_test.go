package gateway

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func noEnv(string) string { return "" }

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigFirstLaunchWritesDefaults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conf", "config.yaml")

	cfg, created, err := LoadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false on first launch")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %o, want 600 (it holds the Prometheus password)", st.Mode().Perm())
	}
	if len(cfg.Prometheus.Password) < 20 {
		t.Errorf("generated prometheus password %q is shorter than 20 chars", cfg.Prometheus.Password)
	}

	want := DefaultConfig()
	want.Prometheus.Password = cfg.Prometheus.Password
	want.Database.Path = filepath.Join(dir, "conf", "data", "gateway.db")
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("first launch config\n got %+v\nwant %+v", cfg, want)
	}

	// SPEC §2 values, spelled out so a changed default is noticed.
	if cfg.Server.Host != "0.0.0.0" || cfg.Server.Port != 8090 || cfg.Server.ShutdownTimeout != 30*time.Second ||
		cfg.Defaults.RateLimit != (RateLimit{60, 1000, 10000}) ||
		cfg.Defaults.Quota != (Quota{1_000_000, 500_000, 1000, 1_000_000, 8192}) ||
		cfg.Logs != (LogsConfig{RetentionDays: 30, StoreBodies: false, QueueSize: 10000}) ||
		cfg.Prometheus.Enabled || cfg.Prometheus.Username != "prometheus" ||
		cfg.Upstream != (UpstreamConfig{300 * time.Second, 300 * time.Second, 1, 2 * time.Second, BreakerConfig{5, 30 * time.Second}}) {
		t.Errorf("defaults differ from SPEC §2: %+v", cfg)
	}

	again, created, err := LoadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true on second launch")
	}
	if again.Prometheus.Password != cfg.Prometheus.Password {
		t.Error("second launch changed the prometheus password")
	}
}

// Every setting must be written to the default file, so users can see and edit it.
func TestDefaultConfigFileHasEveryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if _, _, err := LoadConfig(path, noEnv); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	walkConfig(reflect.ValueOf(DefaultConfig()).Elem(), EnvPrefix, "", func(_, key string, _ reflect.Value) error {
		n++
		var cur any = doc
		for _, part := range strings.Split(key, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				t.Errorf("%s missing from the default config file", key)
				return nil
			}
			if cur, ok = m[part]; !ok {
				t.Errorf("%s missing from the default config file", key)
				return nil
			}
		}
		return nil
	})
	if n < 20 {
		t.Errorf("walked only %d keys", n)
	}
}

func TestEnvKeys(t *testing.T) {
	keys := strings.Join(EnvKeys(), " ")
	for _, want := range []string{
		"AIGW_SERVER_PORT", "AIGW_SERVER_HTTPS_CERT_FILE", "AIGW_DEFAULTS_RATE_LIMIT_REQUESTS_PER_MINUTE",
		"AIGW_DEFAULTS_QUOTA_MAX_OUTPUT_TOKENS", "AIGW_DATABASE_PATH", "AIGW_DATABASE_DRIVER", "AIGW_DATABASE_URL", "AIGW_LOGS_QUEUE_SIZE",
		"AIGW_PROMETHEUS_PASSWORD", "AIGW_UPSTREAM_IDLE_TIMEOUT",
	} {
		if !strings.Contains(" "+keys+" ", " "+want+" ") {
			t.Errorf("EnvKeys() lacks %s: %s", want, keys)
		}
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	file := "server:\n  port: 7000\n  host: 127.0.0.1\nlogs:\n  retention_days: 5\n"
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"file beats defaults", nil, func(c *Config) bool {
			return c.Server.Port == 7000 && c.Server.Host == "127.0.0.1" && c.Logs.RetentionDays == 5 &&
				c.Defaults.Quota.MaxOutputTokens == 8192
		}},
		{"env beats file", map[string]string{"AIGW_SERVER_PORT": "9000"}, func(c *Config) bool {
			return c.Server.Port == 9000 && c.Server.Host == "127.0.0.1"
		}},
		{"nested section", map[string]string{"AIGW_DEFAULTS_QUOTA_MAX_OUTPUT_TOKENS": "4096"}, func(c *Config) bool {
			return c.Defaults.Quota.MaxOutputTokens == 4096
		}},
		{"rate limit with underscore section", map[string]string{"AIGW_DEFAULTS_RATE_LIMIT_REQUESTS_PER_MINUTE": "0"}, func(c *Config) bool {
			return c.Defaults.RateLimit.RequestsPerMinute == 0 && c.Defaults.RateLimit.RequestsPerHour == 1000
		}},
		{"duration", map[string]string{"AIGW_SERVER_SHUTDOWN_TIMEOUT": "5s", "AIGW_UPSTREAM_IDLE_TIMEOUT": "2m"}, func(c *Config) bool {
			return c.Server.ShutdownTimeout == 5*time.Second && c.Upstream.IdleTimeout == 2*time.Minute
		}},
		{"bool and string", map[string]string{
			"AIGW_LOGS_STORE_BODIES": "true", "AIGW_PROMETHEUS_ENABLED": "1", "AIGW_PROMETHEUS_PASSWORD": "pw",
		}, func(c *Config) bool {
			return c.Logs.StoreBodies && c.Prometheus.Enabled && c.Prometheus.Password == "pw"
		}},
		{"postgres from env", map[string]string{"AIGW_DATABASE_DRIVER": "postgres", "AIGW_DATABASE_URL": "postgres://gw@db:5432/gw"}, func(c *Config) bool {
			return c.Database.Driver == "postgres" && c.Database.URL == "postgres://gw@db:5432/gw"
		}},
		{"absolute database path", map[string]string{"AIGW_DATABASE_PATH": filepath.FromSlash("/srv/aigw/gw.db")}, func(c *Config) bool {
			return c.Database.Path == filepath.FromSlash("/srv/aigw/gw.db")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, created, err := LoadConfig(writeConfig(t, file), envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Error("created = true for an existing file")
			}
			if !tt.check(cfg) {
				t.Errorf("unexpected config: %+v", cfg)
			}
		})
	}
}

func TestLoadConfigRelativeDatabasePath(t *testing.T) {
	path := writeConfig(t, "database:\n  path: db/x.db\n")
	cfg, _, err := LoadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "db", "x.db"); cfg.Database.Path != want {
		t.Errorf("database.path = %q, want %q", cfg.Database.Path, want)
	}
}

func TestLoadConfigEmptyFileMeansDefaults(t *testing.T) {
	cfg, _, err := LoadConfig(writeConfig(t, ""), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Port != 8090 || cfg.Logs.QueueSize != 10000 {
		t.Errorf("empty file did not give defaults: %+v", cfg)
	}
}

func TestLoadConfigValidation(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.pem")
	tests := []struct {
		name string
		file string
		env  map[string]string
		want string
	}{
		{"bad yaml names the line", "server:\n  port: 8090\n  host: x: y\n", nil, "line 3: mapping values are not allowed"},
		{"unknown key", "server:\n  prot: 8090\n", nil, "field prot not found"},
		{"wrong type", "server:\n  port: ninety\n", nil, "cannot unmarshal"},
		{"port too big", "server:\n  port: 70000\n", nil, "server.port: 70000 is not a valid port"},
		{"negative port", "server:\n  port: -1\n", nil, "server.port: -1 is not a valid port"},
		{"https without cert", "server:\n  https:\n    enabled: true\n    key_file: k.pem\n", nil,
			"server.https.enabled is true but server.https.cert_file is not set"},
		{"https without key", "server:\n  https:\n    enabled: true\n", nil,
			"server.https.enabled is true but server.https.key_file is not set"},
		{"https cert missing", "server:\n  https:\n    enabled: true\n    cert_file: " + missing + "\n    key_file: " + missing + "\n", nil,
			"server.https.cert_file: stat " + missing},
		{"negative rate limit", "defaults:\n  rate_limit:\n    requests_per_hour: -5\n", nil,
			"defaults.rate_limit.requests_per_hour: must be 0 (no limit) or more, got -5"},
		{"negative quota", "defaults:\n  quota:\n    max_output_tokens: -1\n", nil,
			"defaults.quota.max_output_tokens: must be 0 (no limit) or more, got -1"},
		{"negative retention", "logs:\n  retention_days: -1\n", nil, "logs.retention_days: must be 0 (no limit) or more"},
		{"negative responses retention", "responses:\n  retention_days: -1\n", nil, "responses.retention_days: must be 0 (no limit) or more"},
		{"zero queue", "logs:\n  queue_size: 0\n", nil, "logs.queue_size: must be more than 0"},
		{"zero shutdown timeout", "server:\n  shutdown_timeout: 0s\n", nil, "server.shutdown_timeout: must be more than 0"},
		{"zero read timeout", "server:\n  read_timeout: 0s\n", nil, "server.read_timeout: must be more than 0"},
		{"env negative write timeout", "", map[string]string{"AIGW_SERVER_WRITE_TIMEOUT": "-1s"}, "server.write_timeout: must be more than 0"},
		{"zero max connections", "server:\n  max_connections: 0\n", nil, "server.max_connections: must be more than 0, got 0"},
		{"negative upstream timeout", "upstream:\n  header_timeout: -1s\n", nil, "upstream.header_timeout: must be 0 (no bound) or more"},
		{"empty database path", "database:\n  path: \"\"\n", nil, "database.path: must not be empty"},
		{"unknown database driver", "database:\n  driver: mysql\n", nil, `database.driver: "mysql" is not sqlite or postgres`},
		{"postgres without url", "database:\n  driver: postgres\n", nil,
			"database.driver is postgres but database.url is empty"},
		{"env postgres without url", "", map[string]string{"AIGW_DATABASE_DRIVER": "postgres"},
			"database.driver is postgres but database.url is empty"},
		{"url without postgres", "", map[string]string{"AIGW_DATABASE_URL": "postgres://localhost/gw"},
			"database.url is set but database.driver is sqlite"},
		{"url not postgres", "database:\n  driver: postgres\n  url: mysql://gw:s3cret@localhost/gw\n", nil,
			"database.url: mysql://gw:xxxxx@localhost/gw is not a postgres://"},
		{"bad trusted proxy", "server:\n  trusted_proxies: \"10.0.0.0/8, proxy.local\"\n", nil,
			`server.trusted_proxies: "proxy.local" is not an IP or CIDR`},
		{"env bad trusted proxy", "", map[string]string{"AIGW_SERVER_TRUSTED_PROXIES": "10.0.0.0/33"}, `server.trusted_proxies: "10.0.0.0/33" is not an IP or CIDR`},
		{"prometheus without password", "prometheus:\n  enabled: true\n  password: \"\"\n", nil,
			"prometheus.enabled is true but prometheus.username or prometheus.password is empty"},
		{"env not an integer", "", map[string]string{"AIGW_SERVER_PORT": "abc"}, `AIGW_SERVER_PORT: "abc" is not an integer`},
		{"env not a bool", "", map[string]string{"AIGW_LOGS_STORE_BODIES": "maybe"}, `AIGW_LOGS_STORE_BODIES: "maybe" is not a boolean`},
		{"env not a duration", "", map[string]string{"AIGW_UPSTREAM_IDLE_TIMEOUT": "10"}, `AIGW_UPSTREAM_IDLE_TIMEOUT: "10" is not a duration`},
		{"env bad port", "", map[string]string{"AIGW_SERVER_PORT": "99999"}, "server.port: 99999 is not a valid port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := LoadConfig(writeConfig(t, tt.file), envMap(tt.env))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.Port = 70000
	cfg.Logs.QueueSize = 0
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "server.port") || !strings.Contains(err.Error(), "logs.queue_size") {
		t.Errorf("Validate() = %v, want both problems", err)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestListenAddr(t *testing.T) {
	for host, want := range map[string]string{"0.0.0.0": "0.0.0.0:8090", "::1": "[::1]:8090", "localhost": "localhost:8090"} {
		cfg := DefaultConfig()
		cfg.Server.Host = host
		if got := cfg.ListenAddr(); got != want {
			t.Errorf("ListenAddr(%q) = %q, want %q", host, got, want)
		}
	}
}

// A bad database URL is named in the error without its password.
func TestDatabaseURLErrorHidesPassword(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Database.Driver, cfg.Database.URL = "postgres", "mysql://gw:s3cret-pw@localhost/gw"
	err := cfg.Validate()
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "database.url") {
		t.Fatalf("Validate() = %v, want a database.url error without the password", err)
	}
}
