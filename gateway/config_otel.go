package gateway

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// OtelConfig sends OpenTelemetry traces to a collector over OTLP/HTTP (SPEC §19). Tracing is
// off while Endpoint is empty.
type OtelConfig struct {
	// Endpoint is the collector's OTLP/HTTP URL, e.g. http://localhost:4318; a URL without a
	// path gets /v1/traces (see TracesURL).
	Endpoint string `yaml:"endpoint"`
	// Headers go with every export, e.g. a hosted collector's API key.
	Headers map[string]string `yaml:"headers"`
	// SampleRatio is the share of new traces recorded, 0 to 1. A caller that sends a
	// traceparent decides for its own trace (its sampled flag).
	SampleRatio float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name of every span.
	ServiceName string `yaml:"service_name"`
}

// Enabled reports whether traces are exported.
func (c OtelConfig) Enabled() bool { return c.Endpoint != "" }

// TracesURL is where spans are sent: Endpoint, with /v1/traces added when it has no path.
func (c OtelConfig) TracesURL() string {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return c.Endpoint
	}
	u.Path = "/v1/traces"
	return u.String()
}

// headerName is an HTTP header name (RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func (c OtelConfig) validate(bad func(string, ...any)) {
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("otel.endpoint: %q is not an http:// or https:// URL (e.g. http://localhost:4318)", c.Endpoint)
		}
		if c.ServiceName == "" {
			bad("otel.service_name: must not be empty when otel.endpoint is set")
		}
	}
	if !(c.SampleRatio >= 0 && c.SampleRatio <= 1) {
		bad("otel.sample_ratio: must be from 0 to 1, got %v", c.SampleRatio)
	}
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !headerName.MatchString(k) {
			bad("otel.headers: %q is not a valid header name", k)
		} else if strings.ContainsFunc(c.Headers[k], func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			bad("otel.headers: the value of %s holds a control character", k)
		}
	}
}

// parseHeaderList reads "k1=v1,k2=v2", the format of AIGW_OTEL_HEADERS and of the standard
// OTEL_EXPORTER_OTLP_HEADERS; values may be percent-encoded.
func parseHeaderList(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not name=value", strings.TrimSpace(kv))
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("the value of %s: %v", k, err)
		}
		out[k] = dv
	}
	return out, nil
}

// applyOtelEnv applies the standard OpenTelemetry variables, which beat the config file (the
// AIGW_OTEL_* variables, applied after, beat them): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the
// URL as it is) or OTEL_EXPORTER_OTLP_ENDPOINT (a base URL that gets /v1/traces),
// OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS (added to otel.headers),
// OTEL_SERVICE_NAME, and OTEL_TRACES_SAMPLER with OTEL_TRACES_SAMPLER_ARG.
func applyOtelEnv(c *OtelConfig, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if e := env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); e != "" {
		c.Endpoint = e
	} else if e := env("OTEL_EXPORTER_OTLP_ENDPOINT"); e != "" {
		c.Endpoint = strings.TrimRight(e, "/") + "/v1/traces"
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		if s := env(k); s != "" {
			h, err := parseHeaderList(s)
			if err != nil {
				return fmt.Errorf("%s: %v", k, err)
			}
			if c.Headers == nil {
				c.Headers = map[string]string{}
			}
			for name, v := range h {
				c.Headers[name] = v
			}
		}
	}
	if s := env("OTEL_SERVICE_NAME"); s != "" {
		c.ServiceName = s
	}
	switch s := env("OTEL_TRACES_SAMPLER"); s {
	case "":
	case "always_on", "parentbased_always_on":
		c.SampleRatio = 1
	case "always_off", "parentbased_always_off":
		c.SampleRatio = 0
	case "traceidratio", "parentbased_traceidratio":
		if a := env("OTEL_TRACES_SAMPLER_ARG"); a != "" {
			r, err := strconv.ParseFloat(a, 64)
			if err != nil {
				return fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a number from 0 to 1", a)
			}
			c.SampleRatio = r
		}
	default:
		return fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not supported (use parentbased_traceidratio, always_on or always_off)", s)
	}
	return nil
}

// applyOtelOff turns tracing off when OTEL_SDK_DISABLED=true, whatever else says.
func applyOtelOff(c *OtelConfig, getenv func(string) string) {
	if getenv != nil && strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		c.Endpoint = ""
	}
}
