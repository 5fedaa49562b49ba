# AI Gateway's front panel. Every recipe is one line you could also type by hand.

version := `git describe --tags --always --dirty 2>/dev/null || echo dev`
commit := `git rev-parse --short HEAD 2>/dev/null || echo unknown`
date := `date -u +%Y-%m-%dT%H:%M:%SZ`
ldflags := "-s -w -X main.version=" + version + " -X main.commit=" + commit + " -X main.date=" + date

# list the recipes
default:
    @just --list

# serve on :8090; the first launch writes config.yaml and prints the admin password
run *args:
    go run . {{args}}

# run the tests (the README's test command)
test:
    go test ./...

# what CI runs: gofmt, go vet, templ drift, tests with the race detector
check:
    bash .ci/run

# end-to-end: the real OpenAI, Anthropic, Gemini and AI SDKs and opencode through the built gateway (needs Node.js 20+)
e2e:
    cd e2e && npm ci --no-audit --no-fund && npm test

# regenerate the templ components after editing views/*.templ
generate:
    go tool templ generate

# refresh the embedded price list from npm's @pydantic/genai-prices (MIT; needs npm and Node.js 20+)
prices:
    d=$(mktemp -d) && (cd "$d" && npm pack --silent @pydantic/genai-prices >/dev/null && tar xzf *.tgz) && node contrib/prices/extract.mjs "$d/package" > gateway/pricing/genai-prices.json && cp "$d/package/LICENSE" gateway/pricing/LICENSE-genai-prices && rm -rf "$d"

# build ./ai-gateway with version, commit and build time embedded
build:
    CGO_ENABLED=0 go build -trimpath -ldflags "{{ldflags}}" -o ai-gateway .

# cross-compile release binaries into dist/: linux and darwin (amd64, arm64), windows (amd64)
release:
    for t in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64; do os=${t%/*}; arch=${t#*/}; ext=; [ "$os" = windows ] && ext=.exe; CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "{{ldflags}}" -o dist/ai-gateway-$os-$arch$ext . || exit 1; done

# measure what the gateway adds over a local mock upstream against the floors (a bare proxy; nginx when on PATH: apt-get install -y nginx-light), every SPEC §10 budget as a ratio; writes bench-results/bench.json (just bench -otel: with every request traced)
bench *args:
    go build -o dist/bench/ai-gateway . && go run ./contrib/bench -gateway dist/bench/ai-gateway -out bench-results/bench.json {{args}}

# a few minutes of mixed traffic with injected faults against the built gateway, then check the request log and usage against the mock upstream (just soak -duration 1m)
soak *args:
    go build -o dist/soak/ai-gateway . && go run ./contrib/soak -gateway dist/soak/ai-gateway {{args}}

# replay every attack and fault of the hardening pass against the whole program (the TestAttack* tests)
attack:
    go test -count=1 -run '^TestAttack' ./...

# Go micro-benchmarks of the hot paths, with allocation counts
microbench:
    go test -run '^$' -bench . -benchmem ./gateway/ ./providers/... ./db/
