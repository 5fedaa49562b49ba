package pricing

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxFetch bounds the price data read from pricing.url (genai-prices' data.json is under 2 MiB).
const maxFetch = 32 << 20

// Load returns the price table from url when it is set and answers with valid data, else the
// embedded snapshot; err says why url was not used (the table is good either way).
func Load(ctx context.Context, client *http.Client, url string, now time.Time) (*Table, error) {
	snap, serr := Parse(Snapshot(), now)
	if serr != nil {
		return nil, fmt.Errorf("embedded prices: %w", serr)
	}
	if url == "" {
		return snap, nil
	}
	t, err := fetch(ctx, client, url, now)
	if err != nil {
		return snap, fmt.Errorf("prices from %s: %w; using the embedded snapshot (%s)", url, err, snap.Source())
	}
	return t, nil
}

func fetch(ctx context.Context, client *http.Client, url string, now time.Time) (*Table, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFetch {
		return nil, fmt.Errorf("more than %d bytes", maxFetch)
	}
	t, err := Parse(b, now)
	if err != nil {
		return nil, err
	}
	if t.source == "" {
		t.source = url
	}
	return t, nil
}
