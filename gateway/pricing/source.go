// Package pricing holds the price of every model the gateway can price, in US dollars per
// million tokens, and turns a request's token counts into its cost in micro-dollars.
//
// The prices come from an embedded snapshot of the price data of genai-prices by Pydantic
// (github.com/pydantic/genai-prices, published on npm as @pydantic/genai-prices, MIT licence; the
// licence text is in LICENSE-genai-prices next to this file). `just prices` refreshes the snapshot
// from npm. A deployment may point pricing.url at the same data (the project publishes it as
// data.json) to load newer prices at start; the snapshot is the fallback.
package pricing

import _ "embed"

// Snapshot is the embedded price data (genai-prices, MIT).
//
//go:embed genai-prices.json
var snapshot []byte

// Snapshot returns the embedded price data.
func Snapshot() []byte { return snapshot }
