package gateway

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzLoadConfig feeds LoadConfig arbitrary config files and one arbitrary environment override.
// Whatever the input: no panic; an existing file is never rewritten; a config that loads is
// valid, has an absolute database path, carries the override, and survives a YAML round trip; a
// bad override is reported by the variable's name.
func FuzzLoadConfig(f *testing.F) {
	def := DefaultConfig()
	def.Prometheus.Password = "seed-password"
	var buf strings.Builder
	if err := defaultConfigTemplate.Execute(&buf, def); err != nil {
		f.Fatal(err)
	}
	keys := EnvKeys()
	f.Add([]byte(buf.String()), uint8(0), "")
	f.Add([]byte(""), uint8(1), "9000")
	f.Add([]byte("server:\n  port: 8090\n  host: a: b\n"), uint8(2), "10s")
	f.Add([]byte("server: {port: -1, shutdown_timeout: 0s}\nlogs: {queue_size: 0}\n"), uint8(3), "x")
	f.Add([]byte("defaults:\n  quota: {max_output_tokens: 99999999999999999999}\n"), uint8(4), "-5")
	f.Add([]byte("prometheus: {enabled: true, password: \"\"}\nunknown: 1\n"), uint8(5), "true")
	f.Add([]byte("a: &a [*a, *a]\n"), uint8(6), "  30s  ")
	f.Add([]byte("database: {path: \"rel/dir/../gw.db\"}\nupstream: {header_timeout: 1h, idle_timeout: -1s}\n"), uint8(7), "0")
	f.Add([]byte("server:\n  https: {enabled: true, cert_file: /nonexistent, key_file: \"\"}\n"), uint8(8), "yes")

	// One file per fuzzing process, rewritten each time (a process runs its inputs one by one).
	path := filepath.Join(f.TempDir(), "config.yaml")
	f.Fuzz(func(t *testing.T, file []byte, keyIndex uint8, value string) {
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		env := keys[int(keyIndex)%len(keys)]
		getenv := func(k string) string {
			if k == env {
				return value
			}
			return ""
		}
		cfg, created, err := LoadConfig(path, getenv)
		if after, rerr := os.ReadFile(path); rerr != nil || string(after) != string(file) {
			t.Fatalf("LoadConfig changed an existing config file (err %v)", rerr)
		}
		if created {
			t.Fatal("created = true for an existing file")
		}
		if err != nil {
			if cfg != nil {
				t.Fatal("a config returned together with an error")
			}
			// An override's error starts with the variable's name; a file's error may quote the
			// file, which can hold any text (even "AIGW_").
			if strings.TrimSpace(value) != "" && strings.HasPrefix(err.Error(), EnvPrefix+"_") && !strings.HasPrefix(err.Error(), env+":") {
				t.Fatalf("an environment error that does not name %s: %v", env, err)
			}
			return
		}
		if verr := cfg.Validate(); verr != nil {
			t.Fatalf("LoadConfig returned a config that does not validate: %v", verr)
		}
		if !filepath.IsAbs(cfg.Database.Path) {
			t.Fatalf("database.path %q is not absolute", cfg.Database.Path)
		}
		if strings.TrimSpace(value) != "" {
			// The override won over the file: loading with it again from a file without the key
			// gives the same value for that key.
			var field reflect.Value
			walkConfig(reflect.ValueOf(cfg).Elem(), EnvPrefix, "", func(e, _ string, v reflect.Value) error {
				if e == env {
					field = v
				}
				return nil
			})
			fresh := DefaultConfig()
			if err := applyEnv(fresh, getenv); err != nil {
				t.Fatalf("the override applied in LoadConfig fails alone: %v", err)
			}
			var want reflect.Value
			walkConfig(reflect.ValueOf(fresh).Elem(), EnvPrefix, "", func(e, _ string, v reflect.Value) error {
				if e == env {
					want = v
				}
				return nil
			})
			if env != "AIGW_DATABASE_PATH" && !reflect.DeepEqual(field.Interface(), want.Interface()) {
				t.Fatalf("%s=%q: got %v, want %v (env beats file)", env, value, field.Interface(), want.Interface())
			}
		}
		// What loaded can be written and read back to the same config.
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal a loaded config: %v", err)
		}
		again := DefaultConfig()
		if err := decodeYAML(out, again); err != nil {
			t.Fatalf("a loaded config does not read back: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip changed the config:\n got %+v\nwant %+v", again, cfg)
		}
	})
}
