package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/aigateway/ai-gateway/gateway"
)

// The Dockerfile and deploy/compose.yaml cannot be built here, but what they say about the
// program is checked: every AIGW_ variable they set is one the gateway reads, the health check
// is a real subcommand, and compose runs two gateways on Postgres and Redis behind a proxy.
func TestDeployFilesMatchTheProgram(t *testing.T) {
	known := append(gateway.EnvKeys(), "AIGW_MASTER_KEY")
	envVar := regexp.MustCompile(`\bAIGW_[A-Z0-9_]+\b`)
	for _, f := range []string{"Dockerfile", "deploy/compose.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range envVar.FindAllString(string(b), -1) {
			if !slices.Contains(known, v) {
				t.Errorf("%s sets %s, which the gateway does not read", f, v)
			}
		}
	}

	docker, _ := os.ReadFile("Dockerfile")
	if !strings.Contains(string(docker), `HEALTHCHECK`) || !strings.Contains(string(docker), `"/ai-gateway", "healthcheck"`) {
		t.Error("the Dockerfile's HEALTHCHECK does not run `ai-gateway healthcheck`")
	}
	if !slices.ContainsFunc(subcommands(), func(s subcommand) bool { return s.words == "healthcheck" }) {
		t.Error("there is no healthcheck subcommand")
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532", "VOLUME /data"} {
		if !strings.Contains(string(docker), want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}

	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	b, _ := os.ReadFile("deploy/compose.yaml")
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	gateways := 0
	for name, s := range compose.Services {
		if s.Environment["AIGW_REDIS_URL"] == "" {
			continue
		}
		gateways++
		if s.Environment["AIGW_DATABASE_DRIVER"] != "postgres" || s.Environment["AIGW_MASTER_KEY"] == "" {
			t.Errorf("gateway %s: not on the shared Postgres with the shared master key: %v", name, s.Environment)
		}
	}
	if gateways != 2 {
		t.Errorf("compose runs %d gateways on Redis, want 2", gateways)
	}
	for _, svc := range []string{"postgres", "redis", "caddy"} {
		if _, ok := compose.Services[svc]; !ok {
			t.Errorf("compose has no %s service", svc)
		}
	}
}
