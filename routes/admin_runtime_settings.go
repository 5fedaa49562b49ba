package routes

import (
	"context"
	"encoding/base64"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aigateway/ai-gateway/gateway"
)

// Keys of the settings table: what the Settings page changes at runtime, overriding config.yaml.
const (
	settingPrometheusEnabled  = "prometheus.enabled"
	settingPrometheusUsername = "prometheus.username"
	// settingPrometheusPassword holds the password sealed by the Keyring, base64-encoded.
	settingPrometheusPassword = "prometheus.password"
	settingRetentionDays      = "logs.retention_days"
	settingStoreBodies        = "logs.store_bodies"
)

// maxRetentionDays bounds the log retention an admin may set (ten years).
const maxRetentionDays = 3650

// liveSettings are the settings in force: config.yaml, overridden by what was saved on the
// Settings page. They are replaced whole, never changed in place.
type liveSettings struct {
	Prometheus    gateway.PrometheusConfig
	RetentionDays int
	StoreBodies   bool
}

// runtimeSettings holds the settings in force for concurrent readers (/metrics on every scrape).
type runtimeSettings struct {
	v atomic.Pointer[liveSettings]
}

func (r *runtimeSettings) get() liveSettings { return *r.v.Load() }

func (r *runtimeSettings) set(l liveSettings) { r.v.Store(&l) }

// loadSettings starts from the config and applies the saved overrides. A setting that cannot be
// read is logged and left at the config's value: the server still starts.
func (s *server) loadSettings(ctx context.Context) liveSettings {
	l := liveSettings{
		Prometheus:    s.Config.Prometheus,
		RetentionDays: s.Config.Logs.RetentionDays,
		StoreBodies:   s.Config.Logs.StoreBodies,
	}
	if s.Settings == nil {
		return l
	}
	all, err := s.Settings.All(ctx)
	if err != nil {
		s.log.Error("load admin settings; using config.yaml", "error", err.Error())
		return l
	}
	bad := func(key string, err error) {
		s.log.Error("admin setting unreadable; using config.yaml", "setting", key, "error", err.Error())
	}
	if v, ok := all[settingPrometheusEnabled]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			l.Prometheus.Enabled = b
		} else {
			bad(settingPrometheusEnabled, err)
		}
	}
	if v, ok := all[settingPrometheusUsername]; ok {
		l.Prometheus.Username = v
	}
	if v, ok := all[settingPrometheusPassword]; ok {
		if pw, err := s.openSecret(v); err == nil {
			l.Prometheus.Password = pw
		} else {
			bad(settingPrometheusPassword, err)
		}
	}
	if v, ok := all[settingRetentionDays]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			l.RetentionDays = n
		} else {
			bad(settingRetentionDays, strconv.ErrSyntax)
		}
	}
	if v, ok := all[settingStoreBodies]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			l.StoreBodies = b
		} else {
			bad(settingStoreBodies, err)
		}
	}
	return l
}

// applySettings puts l in force: /metrics reads it on the next scrape, the gateway's log writer
// on its next row and its next retention run.
func (s *server) applySettings(l liveSettings) {
	s.live.set(l)
	if s.Gateway != nil {
		s.Gateway.SetRetentionDays(l.RetentionDays)
		s.Gateway.SetStoreBodies(l.StoreBodies)
	}
}

// initSettings loads the saved settings when the app is built, so a restart keeps what the
// admin chose.
func (s *server) initSettings() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.applySettings(s.loadSettings(ctx))
	s.reloadSettingsOnChange()
}

func (s *server) sealSecret(plain string) (string, error) {
	ct, err := s.Keyring.Encrypt(plain)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

func (s *server) openSecret(stored string) (string, error) {
	ct, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return "", err
	}
	return s.Keyring.Decrypt(ct)
}

// saveSettings stores each key's value and tells the other instances to reload the settings;
// the caller then applies the new liveSettings here.
func (s *server) saveSettings(ctx context.Context, kv map[string]string) error {
	for k, v := range kv {
		if err := s.Settings.Set(ctx, k, v); err != nil {
			return err
		}
	}
	s.settingsChanged(ctx)
	return nil
}

// settingsChanged announces saved settings to the other instances (SPEC §17), which reload them
// from the database. The change is stored, so a failed announcement is logged, not returned.
func (s *server) settingsChanged(ctx context.Context) {
	if s.Gateway == nil {
		return
	}
	if err := s.Gateway.AnnounceChange(ctx); err != nil {
		s.log.Error("announce settings change", "error", err.Error())
	}
}

// reloadSettingsOnChange makes a change announced by another instance reload the settings here.
func (s *server) reloadSettingsOnChange() {
	if s.Gateway != nil {
		s.Gateway.OnChange(func(ctx context.Context) { s.applySettings(s.loadSettings(ctx)) })
	}
}
