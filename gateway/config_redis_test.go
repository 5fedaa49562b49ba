package gateway

import (
	"strings"
	"testing"
)

// redis.url (SPEC §17): empty by default (this instance alone), set from the file or
// AIGW_REDIS_URL, and refused with a clear message that never repeats the URL's password.
func TestRedisConfig(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"default: none", "", nil, "", ""},
		{"file", "redis:\n  url: redis://cache:6379/2\n", nil, "redis://cache:6379/2", ""},
		{"env beats the file", "redis:\n  url: redis://cache:6379/2\n", map[string]string{"AIGW_REDIS_URL": "rediss://other:6380"}, "rediss://other:6380", ""},
		{"not a redis URL", "", map[string]string{"AIGW_REDIS_URL": "http://user:s3cret@cache:6379"}, "", "redis.url: not a redis:// or rediss:// URL"},
		{"no host", "", map[string]string{"AIGW_REDIS_URL": "redis://"}, "", "redis.url: not a redis:// or rediss:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := LoadConfig(writeConfig(t, tt.file), envMap(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Redis.URL != tt.want || cfg.Redis.Enabled() != (tt.want != "") {
				t.Fatalf("redis.url = %q (enabled %v), want %q", cfg.Redis.URL, cfg.Redis.Enabled(), tt.want)
			}
		})
	}
}
