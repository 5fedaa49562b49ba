package routes

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// revealTTL is how long a secret just made waits for the page that shows it.
const revealTTL = 5 * time.Minute

// reveals keep a secret just made (a client's key, an admin token) for the one GET that shows
// it, so the form's POST can answer with a redirect (a reload never re-submits, and the address
// bar never holds a POST-only URL) without putting the secret in a URL. Each is bound to the
// admin session that made it and shown at most once; an unclaimed one is dropped after
// revealTTL. They live in this process: behind a load balancer, keep admin sessions sticky.
type reveals struct {
	mu sync.Mutex
	m  map[string]reveal
}

// reveal is one secret waiting to be shown.
type reveal struct {
	session string
	expires time.Time
	// Secret is the key or token; Name, ID and Rotated say what it belongs to.
	Secret  string
	Name    string
	ID      int64
	Rotated bool
}

// put keeps r for session and returns the one-time id to claim it with.
func (rs *reveals) put(session string, r reveal) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	now := time.Now()
	r.session, r.expires = session, now.Add(revealTTL)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = map[string]reveal{}
	}
	for k, old := range rs.m {
		if now.After(old.expires) {
			delete(rs.m, k)
		}
	}
	rs.m[id] = r
	return id
}

// take returns and forgets the secret id names, if it is session's and still waiting.
func (rs *reveals) take(session, id string) (reveal, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r, ok := rs.m[id]
	if !ok || r.session != session {
		return reveal{}, false
	}
	delete(rs.m, id)
	if time.Now().After(r.expires) {
		return reveal{}, false
	}
	return r, true
}
