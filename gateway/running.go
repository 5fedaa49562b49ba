package gateway

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/aigateway/ai-gateway/providers"
)

// running is the set of a client's calls that have an upstream context (Call.Context). It is
// shared by the snapshots of one client for as long as its key stays valid; when an
// administrator deletes the client, disables it or gives it a new key, the reload ends the set:
// every call in it has its context cancelled with the reason as cause, so its stream ends with
// the front door's in-band error and End accounts what was served. A call that comes later with
// a snapshot taken before the reload is refused at Begin, or cancelled as it joins.
//
// One set per client, each with its own lock: calls of different clients never contend.
type running struct {
	mu     sync.Mutex
	calls  map[*Call]context.CancelCauseFunc
	reason atomic.Pointer[revocation] // set once; no call stays in the set after it
}

func newRunning() *running { return &running{calls: map[*Call]context.CancelCauseFunc{}} }

// revoked is why the set was ended, or nil while the client's key is valid.
func (r *running) revoked() *revocation {
	if r == nil {
		return nil
	}
	return r.reason.Load()
}

// join adds c with the cancel of its context; a set that has been ended cancels it at once.
func (r *running) join(c *Call, cancel context.CancelCauseFunc) {
	if r == nil {
		return
	}
	r.mu.Lock()
	why := r.reason.Load()
	if why == nil {
		r.calls[c] = cancel
	}
	r.mu.Unlock()
	if why != nil {
		cancel(why)
	}
}

// leave removes c (End calls it).
func (r *running) leave(c *Call) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.calls, c)
	r.mu.Unlock()
}

// end cancels every call in the set with why and refuses the ones that come later. Only the
// first reason counts.
func (r *running) end(why *revocation) {
	if r == nil || !r.reason.CompareAndSwap(nil, why) {
		return
	}
	r.mu.Lock()
	calls := r.calls
	r.calls = nil
	r.mu.Unlock()
	for _, cancel := range calls {
		cancel(why)
	}
}

// revocation is the cause given to the upstream contexts of a client's calls when an
// administrator's change took its key away. Each errors.As gets a fresh *providers.Error of
// KindAuth (401, what the key now gets on a new request): the transport stamps its backend on
// the error it returns, and a shared one would be written by every call at once.
type revocation struct{ message string }

var (
	revokedDeleted  = &revocation{"this API key was deleted by an administrator; the request was stopped"}
	revokedDisabled = &revocation{"this API key was disabled by an administrator; the request was stopped"}
	revokedRekeyed  = &revocation{"this API key was replaced by a new key by an administrator; the request was stopped"}
)

func (r *revocation) Error() string { return r.message }

func (r *revocation) As(target any) bool {
	e, ok := target.(**providers.Error)
	if ok {
		*e = r.refusal().Wire()
	}
	return ok
}

// refusal is what a new request with the revoked key gets.
func (r *revocation) refusal() *Refusal {
	return &Refusal{Kind: providers.KindAuth, Message: r.message}
}

// revocationOf is why client prev's calls end when its snapshot becomes next (nil: deleted),
// or nil when they go on.
func revocationOf(prev, next *Client) *revocation {
	switch {
	case next == nil:
		return revokedDeleted
	case next.running == prev.running:
		return nil
	case !next.Active:
		return revokedDisabled
	}
	return revokedRekeyed
}

// sharesRunning reports whether next, rebuilt from prev, keeps prev's running calls: the client
// stays active and keeps its key.
func sharesRunning(prev, next *Client) bool {
	return prev != nil && prev.Active && next.Active && prev.keyHash == next.keyHash
}
