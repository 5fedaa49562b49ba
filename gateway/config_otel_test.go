package gateway

import (
	"maps"
	"strings"
	"testing"
)

// otel.* (SPEC §19): off by default; the file, the standard OTEL_* variables and AIGW_OTEL_*
// apply in that order, and OTEL_SDK_DISABLED turns tracing off whatever the rest says.
func TestOtelConfigSources(t *testing.T) {
	file := "otel:\n  endpoint: http://file:4318\n  headers: {x-file: f, x-both: file}\n  sample_ratio: 0.5\n  service_name: from-file\n"
	tests := []struct {
		name string
		file string
		env  map[string]string
		want OtelConfig
		url  string
	}{
		{"defaults: off", "", nil,
			OtelConfig{Headers: map[string]string{}, SampleRatio: 1, ServiceName: "ai-gateway"}, ""},
		{"file", file, nil,
			OtelConfig{Endpoint: "http://file:4318", Headers: map[string]string{"x-file": "f", "x-both": "file"}, SampleRatio: 0.5, ServiceName: "from-file"},
			"http://file:4318/v1/traces"},
		{"standard variables beat the file", file, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://std:4318/prefix/", "OTEL_EXPORTER_OTLP_HEADERS": "x-both=std,x-std=a%20b",
			"OTEL_SERVICE_NAME": "std-name", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25",
		}, OtelConfig{Endpoint: "https://std:4318/prefix/v1/traces", Headers: map[string]string{"x-file": "f", "x-both": "std", "x-std": "a b"},
			SampleRatio: 0.25, ServiceName: "std-name"}, "https://std:4318/prefix/v1/traces"},
		{"the traces endpoint is used as it is", "", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/custom",
			"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "k=v", "OTEL_TRACES_SAMPLER": "always_off",
		}, OtelConfig{Endpoint: "http://traces:4318/custom", Headers: map[string]string{"k": "v"}, SampleRatio: 0, ServiceName: "ai-gateway"},
			"http://traces:4318/custom"},
		{"AIGW_OTEL_* beat the standard variables", file, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://std:4318", "OTEL_SERVICE_NAME": "std-name",
			"AIGW_OTEL_ENDPOINT": "http://aigw:4318/", "AIGW_OTEL_HEADERS": "authorization=Bearer%20t", "AIGW_OTEL_SAMPLE_RATIO": "0.1",
			"AIGW_OTEL_SERVICE_NAME": "aigw-name",
		}, OtelConfig{Endpoint: "http://aigw:4318/", Headers: map[string]string{"authorization": "Bearer t"}, SampleRatio: 0.1, ServiceName: "aigw-name"},
			"http://aigw:4318/v1/traces"},
		{"OTEL_SDK_DISABLED", file, map[string]string{"AIGW_OTEL_ENDPOINT": "http://aigw:4318", "OTEL_SDK_DISABLED": "true"},
			OtelConfig{Headers: map[string]string{"x-file": "f", "x-both": "file"}, SampleRatio: 0.5, ServiceName: "from-file"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := LoadConfig(writeConfig(t, tt.file), envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Otel
			if got.Endpoint != tt.want.Endpoint || !maps.Equal(got.Headers, tt.want.Headers) ||
				got.SampleRatio != tt.want.SampleRatio || got.ServiceName != tt.want.ServiceName {
				t.Errorf("otel = %+v\nwant   %+v", got, tt.want)
			}
			if got.Enabled() != (tt.url != "") {
				t.Errorf("Enabled() = %v", got.Enabled())
			}
			if tt.url != "" && got.TracesURL() != tt.url {
				t.Errorf("TracesURL() = %q, want %q", got.TracesURL(), tt.url)
			}
		})
	}
}

func TestOtelConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want string
	}{
		{"not a URL", "otel:\n  endpoint: localhost:4318\n", nil, `otel.endpoint: "localhost:4318" is not an http:// or https:// URL`},
		{"no host", "", map[string]string{"AIGW_OTEL_ENDPOINT": "http:///v1/traces"}, "otel.endpoint:"},
		{"ratio above 1", "otel:\n  sample_ratio: 1.5\n", nil, "otel.sample_ratio: must be from 0 to 1, got 1.5"},
		{"negative ratio", "", map[string]string{"AIGW_OTEL_SAMPLE_RATIO": "-0.1"}, "otel.sample_ratio: must be from 0 to 1"},
		{"NaN ratio", "", map[string]string{"AIGW_OTEL_SAMPLE_RATIO": "NaN"}, "otel.sample_ratio: must be from 0 to 1"},
		{"ratio not a number", "", map[string]string{"AIGW_OTEL_SAMPLE_RATIO": "half"}, `AIGW_OTEL_SAMPLE_RATIO: "half" is not a number`},
		{"no service name", "otel:\n  endpoint: http://c:4318\n  service_name: \"\"\n", nil, "otel.service_name: must not be empty"},
		{"bad header name", "otel:\n  headers: {\"bad name\": x}\n", nil, `otel.headers: "bad name" is not a valid header name`},
		{"header value with a newline", "otel:\n  headers: {k: \"a\\nb\"}\n", nil, "otel.headers: the value of k holds a control character"},
		{"env header list", "", map[string]string{"AIGW_OTEL_HEADERS": "novalue"}, `AIGW_OTEL_HEADERS: "novalue" is not name=value`},
		{"standard header list", "", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "k=%zz"}, "OTEL_EXPORTER_OTLP_HEADERS: the value of k"},
		{"unknown sampler", "", map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, `OTEL_TRACES_SAMPLER: "jaeger_remote" is not supported`},
		{"bad sampler arg", "", map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "x"}, "OTEL_TRACES_SAMPLER_ARG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := LoadConfig(writeConfig(t, tt.file), envMap(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
