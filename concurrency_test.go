package main

// Concurrency (SPEC §6 "takes effect on the next request", §11; issue 10): admin edits and key
// rotations while traffic flows. Run with -race (CI does). No key is accepted once its rotation
// has answered, and every edit is in force for the next request.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

func TestAdminEditsAndKeyRotationsUnderTraffic(t *testing.T) {
	probes := sync.Map{} // probe id → upstream body
	probe := regexp.MustCompile(`probe-\d+`)
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if id := probe.Find(u.Body); id != nil {
			probes.Store(string(id), string(u.Body))
		}
		upstreamtest.WriteAnswer(w, u, upstreamtest.Reply{Texts: []string{"a", "b"}, Input: 3, Output: 2})
	})
	g := startRelGateway(t, nil, mock.URL)

	// Keys in use, and when each old key's rotation answered.
	var mu sync.Mutex
	keys := map[string]string{}
	retired := map[string]time.Time{}
	for b, k := range g.keys {
		keys[b] = k
	}
	currentKey := func(b string) string {
		mu.Lock()
		defer mu.Unlock()
		return keys[b]
	}

	send := func(ctx context.Context, d relDoor, key string, stream bool, body string) (int, error) {
		if body == "" {
			body = d.body(stream)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.url+d.path(stream), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		d.auth(req.Header, key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}

	ctx, stopTraffic := context.WithCancel(context.Background())
	var traffic sync.WaitGroup
	var served, refused, stale int64
	var tmu sync.Mutex
	for w := range 6 {
		traffic.Add(1)
		go func() {
			defer traffic.Done()
			for i := 0; ctx.Err() == nil; i++ {
				d := relDoors[(w+i)%3]
				b := relBackends[(w+2*i)%3]
				key := currentKey(b)
				sent := time.Now()
				status, err := send(ctx, d, key, i%2 == 0, "")
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.Errorf("traffic: %v", err)
					return
				}
				tmu.Lock()
				switch status {
				case http.StatusOK:
					served++
					mu.Lock()
					if at, ok := retired[key]; ok && at.Before(sent) {
						stale++
						t.Errorf("a key rotated away at %v was accepted for a request sent at %v", at.Format(time.StampMicro), sent.Format(time.StampMicro))
					}
					mu.Unlock()
				case http.StatusUnauthorized:
					refused++ // the key was rotated while this request was on its way
				default:
					t.Errorf("traffic: %s → %s: status %d", d.name, b, status)
				}
				tmu.Unlock()
			}
		}()
	}

	// The admin, meanwhile: rotate each client's key, and edit its system prompt; each change is
	// checked on the very next request.
	for round := range 15 {
		for _, b := range relBackends {
			old := currentKey(b)
			status, body := g.admin(http.MethodPost, "/admin/api/v1/clients/"+strconv.FormatInt(g.ids[b], 10)+"/rotate-key", nil)
			if status != http.StatusOK {
				t.Fatalf("rotate %s: %d %s", b, status, body)
			}
			var out struct {
				Key string `json:"key"`
			}
			json.Unmarshal([]byte(body), &out)
			mu.Lock()
			retired[old] = time.Now()
			keys[b] = out.Key
			mu.Unlock()
			if s, err := send(context.Background(), relOpenAI, old, false, ""); err != nil || s != http.StatusUnauthorized {
				t.Errorf("round %d %s: the old key right after rotation: %d %v, want 401", round, b, s, err)
			}
			if s, err := send(context.Background(), relOpenAI, out.Key, false, ""); err != nil || s != http.StatusOK {
				t.Errorf("round %d %s: the new key right after rotation: %d %v, want 200", round, b, s, err)
			}

			prompt := fmt.Sprintf("edit-%d-%s", round, b)
			if status, body := g.admin(http.MethodPatch, "/admin/api/v1/clients/"+strconv.FormatInt(g.ids[b], 10),
				map[string]any{"system_prompt": prompt, "description": prompt}); status != http.StatusOK {
				t.Fatalf("patch %s: %d %s", b, status, body)
			}
			id := fmt.Sprintf("probe-%d%d", round, len(b))
			s, err := send(context.Background(), relOpenAI, out.Key, false,
				`{"model":"m","messages":[{"role":"user","content":"`+id+`"}]}`)
			if err != nil || s != http.StatusOK {
				t.Fatalf("probe after edit: %d %v", s, err)
			}
			got, _ := probes.Load(id)
			if body, _ := got.(string); !strings.Contains(body, prompt) {
				t.Errorf("round %d %s: the request right after the edit went upstream without the new system prompt %q:\n%.300s", round, b, prompt, body)
			}
		}
	}
	stopTraffic()
	traffic.Wait()
	t.Logf("traffic during the edits: %d served, %d refused (key rotated in flight), %d stale", served, refused, stale)
	if served == 0 {
		t.Error("no traffic was served while the admin worked")
	}
}
