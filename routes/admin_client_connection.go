package routes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/gateway"
	"github.com/aigateway/ai-gateway/providers"
)

// connectionTimeout bounds Test Connection and Fetch Models.
const connectionTimeout = 20 * time.Second

// connectionTest is what Test Connection found out about a client's backend.
type connectionTest struct {
	OK bool
	// Models is the backend's model list (sorted) when OK.
	Models  []string
	Latency time.Duration
	// Err is the failure, its message already free of the upstream key.
	Err *providers.Error
}

// Message is the one-line outcome for a person.
func (t connectionTest) Message(backend string) string {
	if t.OK {
		return fmt.Sprintf("%s answered in %d ms and lists %d %s.", backend, t.Latency.Milliseconds(),
			len(t.Models), pluralWord(len(t.Models), "model", "models"))
	}
	msg := t.Err.Message
	if st := t.Err.HTTPStatus; st != 0 && !strings.Contains(msg, fmt.Sprint(st)) {
		msg = fmt.Sprintf("%s (HTTP %d)", msg, st)
	}
	return msg
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// liveClient is the gateway's snapshot of cl, the one requests use. Its absence is an error a
// person can act on.
func (s *server) liveClient(cl *db.Client) (*gateway.Client, *providers.Error) {
	if s.Gateway == nil {
		return nil, &providers.Error{Kind: providers.KindUnavailable, Message: "the gateway is not running"}
	}
	gc := s.Gateway.ClientByID(cl.ID)
	if gc == nil {
		return nil, &providers.Error{Kind: providers.KindUnavailable,
			Message: "the gateway has not loaded this client yet; save it again"}
	}
	return gc, nil
}

// testConnection asks the client's backend for its models with the saved settings: the cheapest
// call every provider has, never a paid completion.
func (s *server) testConnection(ctx context.Context, cl *db.Client) connectionTest {
	return s.testTarget(ctx, cl, 0)
}

// testTarget is testConnection for target n of cl: 0 its own backend, n its n-th fallback.
func (s *server) testTarget(ctx context.Context, cl *db.Client, target int) connectionTest {
	gc, perr := s.liveClient(cl)
	if perr != nil {
		return connectionTest{Err: perr}
	}
	ctx, cancel := context.WithTimeout(ctx, connectionTimeout)
	defer cancel()
	start := time.Now()
	a, err := s.Gateway.Do(ctx, &gateway.Exchange{Client: gc, Admission: gateway.Admission{Op: gateway.OpProbe}, Target: target})
	if err != nil {
		return connectionTest{Err: s.scrubError(cl, err), Latency: time.Since(start)}
	}
	models := a.Probed
	latency := time.Since(start)
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	return connectionTest{OK: true, Models: ids, Latency: latency}
}

// fetchModels refreshes the client's model cache from its backend (stored before it returns).
func (s *server) fetchModels(ctx context.Context, cl *db.Client) ([]string, *providers.Error) {
	gc, perr := s.liveClient(cl)
	if perr != nil {
		return nil, perr
	}
	ctx, cancel := context.WithTimeout(ctx, connectionTimeout)
	defer cancel()
	models, err := s.Gateway.FetchModels(ctx, gc)
	if err != nil {
		return nil, s.scrubError(cl, err)
	}
	return models, nil
}

// scrubError makes err a typed error whose message cannot carry the client's upstream key, even
// when a backend echoes it back.
func (s *server) scrubError(cl *db.Client, err error) *providers.Error {
	pe := *providers.AsError(err)
	sealed := [][]byte{cl.UpstreamKey}
	for _, k := range cl.UpstreamKeys {
		sealed = append(sealed, k.Ciphertext)
	}
	for _, fb := range cl.Fallbacks {
		for _, k := range fb.Keys {
			sealed = append(sealed, k.Ciphertext)
		}
	}
	for _, ct := range sealed {
		if key, derr := s.Keyring.Decrypt(ct); derr == nil && len(key) >= 4 {
			pe.Message = strings.ReplaceAll(pe.Message, key, "[REDACTED]")
		}
	}
	return &pe
}
