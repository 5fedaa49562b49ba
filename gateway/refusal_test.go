package gateway

import (
	"errors"
	"testing"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// The gateway's own refusals (key, policy, validation, limits) are *Refusal, never an upstream's
// *providers.Error, and every errors.As to the wire type gets its own copy, so a door that edits
// one (redaction) cannot change what the next caller sees.
func TestAdmissionRefusalsAreTheGatewaysOwn(t *testing.T) {
	limited := clientRow(2, "limited")
	limited.RequestsPerMinute = 1
	listed := clientRow(3, "listed")
	listed.ModelWhitelist = db.Strings{"gpt-4o"}
	e := newEnv(t, []db.Client{clientRow(1, "open"), limited, listed}, nil)
	if call, err := e.gw.Begin(e.auth("limited"), Admission{}); err != nil {
		t.Fatal(err)
	} else {
		call.End(ok200(1, 1))
	}
	_, badKey := e.gw.Authenticate("not-a-key")

	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"unknown key", badKey, 401, ""},
		{"inactive client", begin(e.gw, nil, Admission{}), 401, ""},
		{"model not allowed", begin(e.gw, e.auth("listed"), Admission{Model: "o3"}), 403, "model_not_allowed"},
		{"invalid model id", begin(e.gw, e.auth("open"), Admission{Model: "../x"}), 400, "invalid_model"},
		{"too many choices", begin(e.gw, e.auth("open"), Admission{Choices: MaxChoices + 1}), 400, ""},
		{"rate limited", begin(e.gw, e.auth("limited"), Admission{}), 429, "rate_limit_exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Refusal
			if !errors.As(tt.err, &r) {
				t.Fatalf("error %v (%T) is not a *gateway.Refusal", tt.err, tt.err)
			}
			var first, second *providers.Error
			if !errors.As(tt.err, &first) || !errors.As(tt.err, &second) {
				t.Fatal("a refusal is not readable as the codecs' *providers.Error")
			}
			if first == second {
				t.Fatal("two errors.As calls share one *providers.Error")
			}
			first.Message = "edited by a door"
			if second.Message == first.Message || r.Message == first.Message {
				t.Fatal("editing the wire copy changed the refusal")
			}
			if second.Status() != tt.status || second.Code != tt.code || second.Provider != "" {
				t.Fatalf("wire form = status %d code %q provider %q, want %d %q and no provider",
					second.Status(), second.Code, second.Provider, tt.status, tt.code)
			}
			if tt.status == 429 && second.RetryAfter == "" {
				t.Fatal("a rate-limit refusal has no Retry-After")
			}
		})
	}
}

func begin(g *Gateway, c *Client, a Admission) error {
	call, err := g.Begin(c, a)
	if err == nil {
		call.End(ok200(1, 1))
	}
	return err
}
