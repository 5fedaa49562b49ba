package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/ai-gateway/providers/upstreamtest"
)

// TestAttackErrorShapeChangesOnceStreamed: the same failure, an upstream that stops answering,
// must reach a client as the same error whether it happens before the stream started (the HTTP
// error body) or after (the in-band stream error event). Clients and SDKs tell errors apart by
// error.type / error.code / error.status, so a door whose two paths disagree makes one failure
// look like two. Every door × backend is driven through the whole program.
func TestAttackErrorShapeChangesOnceStreamed(t *testing.T) {
	mock := newRelMock(t, func(w http.ResponseWriter, r *http.Request) {
		u := upstreamtest.ReadRequest(r)
		if strings.Contains(string(u.Body), "hang after the first word") {
			upstreamtest.WriteStreamHead(w, u.Proto, 5)
			upstreamtest.WriteStreamText(w, u.Proto, "first ", 5, 1)
		}
		<-r.Context().Done() // then silence, until the gateway gives up
	})
	g := startRelGateway(t, map[string]string{
		"AIGW_UPSTREAM_HEADER_TIMEOUT": "300ms", "AIGW_UPSTREAM_IDLE_TIMEOUT": "300ms",
	}, mock.URL)
	eachRelRoute(t, func(t *testing.T, d relDoor, backend string) {
		resp, before := g.call(d, backend, true, strings.Replace(d.body(true), "hello there", "hang before answering", 1))
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("hang before the first byte: status %d, want 504: %s", resp.StatusCode, before)
		}
		resp, after := g.call(d, backend, true, strings.Replace(d.body(true), "hello there", "hang after the first word", 1))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("hang after the first word: status %d, want 200 (the stream had started): %s", resp.StatusCode, after)
		}
		inBand := inBandError(t, after)
		if inBand == nil {
			t.Fatalf("no in-band error event in the cut stream:\n%s", after)
		}
		httpErr := decodeJSONObject(t, before)
		// The messages may say which timeout fired; everything else a client branches on must match.
		if a, b := withoutMessage(httpErr), withoutMessage(inBand); !reflect.DeepEqual(a, b) {
			t.Errorf("the same upstream timeout reads differently:\n before the stream: %s\n in-band:           %s", before, mustMarshal(t, inBand))
		}
	})
}

// inBandError is the first SSE event of body whose data is an error object (OpenAI and Gemini
// {"error":{…}}, Anthropic {"type":"error","error":{…}}), or nil.
func inBandError(t *testing.T, body string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || !strings.Contains(data, `"error"`) {
			continue
		}
		if ev := decodeJSONObject(t, data); ev["error"] != nil {
			return ev
		}
	}
	return nil
}

func decodeJSONObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not a JSON object: %v: %.300q", err, s)
	}
	return m
}

// withoutMessage is the error object with error.message left out.
func withoutMessage(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	if e, ok := m["error"].(map[string]any); ok {
		inner := map[string]any{}
		for k, v := range e {
			if k != "message" {
				inner[k] = v
			}
		}
		out["error"] = inner
	}
	return out
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
