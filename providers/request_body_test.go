package providers

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func TestFresh(t *testing.T) {
	in := []byte(`{"model":"a","messages":[]}`)
	tests := []struct {
		name string
		out  []byte
		want bool
	}{
		{"the input itself (a rewrite that changed nothing)", in, false},
		{"a part of the input", in[9:12], false},
		{"a copy", append([]byte(nil), in...), true},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := Fresh(tt.out, in); got != tt.want {
			t.Errorf("%s: Fresh = %v, want %v", tt.name, got, tt.want)
		}
	}
	spare := make([]byte, 4, 16)
	if Fresh(spare[8:12], spare) {
		t.Error("Fresh is true for memory inside the input's capacity")
	}
	if !Fresh([]byte("x"), nil) {
		t.Error("Fresh is false for a body rewritten from none")
	}
}

// NewRequest sends a copy of a small body, so the caller may reuse its buffer at once (the
// server's request buffer); NewRequestOwned sends the bytes it was given, which the caller gave
// up (a rewrite's output), and with owned false is NewRequest.
func TestNewRequestOwnedKeepsTheBody(t *testing.T) {
	for _, tt := range []struct {
		name  string
		new   func(ctx context.Context, body []byte) (*http.Request, error)
		owned bool
	}{
		{"NewRequest", func(ctx context.Context, b []byte) (*http.Request, error) {
			return NewRequest(ctx, http.MethodPost, "http://upstream.test/v1", b)
		}, false},
		{"NewRequestOwned, not owned", func(ctx context.Context, b []byte) (*http.Request, error) {
			return NewRequestOwned(ctx, http.MethodPost, "http://upstream.test/v1", b, false)
		}, false},
		{"NewRequestOwned", func(ctx context.Context, b []byte) (*http.Request, error) {
			return NewRequestOwned(ctx, http.MethodPost, "http://upstream.test/v1", b, true)
		}, true},
	} {
		body := []byte(`{"model":"a"}`)
		req, err := tt.new(context.Background(), body)
		if err != nil {
			t.Fatal(err)
		}
		copy(body, `{"model":"b"}`) // the caller writes to the buffer it passed
		got, _ := io.ReadAll(req.Body)
		want := `{"model":"a"}`
		if tt.owned {
			want = `{"model":"b"}` // the same memory: nothing was copied
		}
		if string(got) != want {
			t.Errorf("%s: the request's body is %s, want %s", tt.name, got, want)
		}
		if !ownsBody(req) {
			t.Errorf("%s: a small body is not the request's own (it would be guarded)", tt.name)
		}
		if req.ContentLength != int64(len(body)) {
			t.Errorf("%s: Content-Length %d, want %d", tt.name, req.ContentLength, len(body))
		}
	}
	big := make([]byte, ownedBodyMax+1)
	if req, _ := NewRequestOwned(context.Background(), http.MethodPost, "http://upstream.test/v1", big, true); !ownsBody(req) {
		t.Error("a large owned body is guarded (it needs no guard: nobody reuses it)")
	}
	if req, _ := NewRequest(context.Background(), http.MethodPost, "http://upstream.test/v1", big); ownsBody(req) {
		t.Error("a large borrowed body is not guarded")
	}
}
