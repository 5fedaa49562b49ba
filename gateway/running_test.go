package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/ai-gateway/db"
	"github.com/aigateway/ai-gateway/providers"
)

// startCall admits a call of client name and gives it its upstream context.
func startCall(t *testing.T, e *testEnv, c *Client) (*Call, context.Context) {
	t.Helper()
	call, err := e.gw.Begin(c, Admission{Endpoint: "/v1/chat/completions", FrontDoor: "openai", Stream: true})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	ctx, cancel := call.Context(context.Background())
	t.Cleanup(cancel)
	return call, ctx
}

// An admin change that takes a key away ends the calls running with it, with the reason as the
// context's cause; other changes, and other clients, leave them running.
func TestAdminChangesEndTheCallsOfTheKeyTheyTakeAway(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *fakeClients)
		// reason is in the error the caller sees; empty means the call goes on.
		reason string
	}{
		{"delete", func(f *fakeClients) { f.remove(1) }, "deleted by an administrator"},
		{"disable", func(f *fakeClients) { r := clientRow(1, "app"); r.Active = false; f.put(r) }, "disabled by an administrator"},
		{"rotate key", func(f *fakeClients) { r := clientRow(1, "app"); r.KeyHash = hashKey("key-new"); f.put(r) }, "replaced by a new key"},
		{"rename", func(f *fakeClients) { r := clientRow(1, "app"); r.Name = "renamed"; f.put(r) }, ""},
		{"new limits and upstream key", func(f *fakeClients) {
			r := clientRow(1, "app")
			r.RequestsPerMinute, r.UpstreamKey = 5, []byte("enc:another-upstream-key")
			f.put(r)
		}, ""},
		{"another client deleted", func(f *fakeClients) { f.remove(2) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, []db.Client{clientRow(1, "app"), clientRow(2, "other")}, nil)
			call, ctx := startCall(t, e, e.auth("app"))
			tc.change(e.clients)
			if err := e.gw.ReloadClients(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tc.reason == "" {
				if ctx.Err() != nil {
					t.Fatalf("the call was ended by a change that keeps its key: %v", context.Cause(ctx))
				}
				call.End(ok200(1, 1))
				return
			}
			if ctx.Err() == nil {
				t.Fatal("the call is still running")
			}
			// What a front door makes of it: the transport's error, stamped with its backend.
			seen := providers.AsError(context.Cause(ctx))
			if seen.Kind != providers.KindAuth || !strings.Contains(seen.Message, tc.reason) {
				t.Fatalf("cause %+v, want KindAuth saying %q", seen, tc.reason)
			}
			seen.Provider = "openai"
			call.End(Outcome{Status: seen.Status(), Err: seen, Usage: providers.Usage{InputTokens: 7, OutputTokens: 3}})
			e.flush()
			rows := e.logRows()
			if len(rows) != 1 {
				t.Fatalf("%d log rows", len(rows))
			}
			r := rows[0]
			if r.Status != 401 || r.ErrorClass != "auth" || !strings.Contains(r.ErrorMessage, tc.reason) || r.OutputTokens != 3 || r.InputTokens != 7 {
				t.Fatalf("log row %+v; want 401 auth with the reason and the tokens served", r)
			}
			if n := testutil.CollectAndCount(e.gw.metrics.upstreamErrors); n != 0 {
				t.Fatalf("an admin's stop counted as an upstream error (%d series)", n)
			}
		})
	}
}

// A snapshot authenticated just before the change cannot start a call afterwards, and one that
// was admitted before but asks for its context afterwards gets an ended context.
func TestCallsRacingAnAdminChangeEndToo(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	stale := e.auth("app")
	admitted, err := e.gw.Begin(stale, Admission{Endpoint: "/v1/chat/completions"})
	if err != nil {
		t.Fatal(err)
	}
	e.clients.remove(1)
	if err := e.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.Begin(stale, Admission{Endpoint: "/v1/chat/completions"}); err == nil {
		t.Fatal("a deleted client's snapshot was admitted")
	} else if e := perr(t, err, providers.KindAuth); !strings.Contains(e.Message, "deleted") {
		t.Fatalf("refusal %q does not say why", e.Message)
	}
	ctx, cancel := admitted.Context(context.Background())
	defer cancel()
	if !errors.Is(ctx.Err(), context.Canceled) || !strings.Contains(context.Cause(ctx).Error(), "deleted") {
		t.Fatalf("a call admitted before the delete got a live context: %v", context.Cause(ctx))
	}
	admitted.End(Outcome{Err: context.Cause(ctx)})
}

// A client disabled and enabled again serves new calls; the old set stays ended.
func TestReenabledClientRunsNewCalls(t *testing.T) {
	e := newEnv(t, []db.Client{clientRow(1, "app")}, nil)
	row := clientRow(1, "app")
	row.Active = false
	e.clients.put(row)
	if err := e.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	row.Active = true
	e.clients.put(row)
	if err := e.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	call, ctx := startCall(t, e, e.auth("app"))
	if ctx.Err() != nil {
		t.Fatalf("a call of the re-enabled client was ended: %v", context.Cause(ctx))
	}
	call.End(ok200(1, 1))
}

// With several instances, the change made on one ends the calls running on the others.
func TestAdminChangeEndsCallsOnOtherInstances(t *testing.T) {
	bus := NewMemoryClientEvents()
	withBus := func(o *Options) { o.ClientEvents = bus }
	a := newEnv(t, []db.Client{clientRow(1, "app")}, withBus)
	b := newEnv(t, nil, withBus)
	b.clients = a.clients
	b.gw.opts.Clients = a.clients
	if err := b.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	call, ctx := startCall(t, b, b.auth("app"))
	a.clients.remove(1)
	if err := a.gw.ReloadClients(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("the call on the other instance is still running")
	}
	call.End(Outcome{Err: context.Cause(ctx)})
}
