package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The shape of the house (STYLE.md), as a test: imports flow one way.
//
//	providers/<p> → providers;  gateway → providers, db, gateway/pricing (the price table);  db → migrations;
//	gateway/cluster → gateway (its Redis-backed implementations);
//	routes → everything below;  views, static, providers, migrations → nothing internal;
//	only routes and main import fiber (or fasthttp under it).

const module = "github.com/aigateway/ai-gateway"

// allowedInternal returns the internal packages pkg may depend on (module-relative, "/..." for a
// subtree), or all=true. ok=false means the package has no rule yet: add one here.
func allowedInternal(pkg string) (allowed []string, all, ok bool) {
	switch {
	case pkg == "" || pkg == "routes" || strings.HasPrefix(pkg, "contrib/"):
		return nil, true, true
	case pkg == "sdktest": // tests only: official SDKs against the built binary
		return nil, true, true
	case pkg == "gateway":
		return []string{"providers", "db", "migrations", "gateway/pricing", "gateway/mcpservers"}, false, true
	case pkg == "gateway/mcpservers":
		return []string{"db", "migrations"}, false, true
	case pkg == "gateway/cluster":
		return []string{"gateway", "gateway/pricing", "gateway/mcpservers", "providers", "db", "migrations"}, false, true
	case pkg == "db":
		return []string{"migrations"}, false, true
	case pkg == "providers" || pkg == "views" || pkg == "static" || pkg == "migrations" || pkg == "gateway/pricing" ||
		pkg == "db/pgtest" || pkg == "gateway/cluster/redistest": // tests only: PostgreSQL and Redis for tests
		return nil, false, true
	case strings.HasPrefix(pkg, "providers/"):
		return []string{"providers", "providers/..."}, false, true
	}
	return nil, false, false
}

// mayImportFiber lists the packages allowed to depend on the HTTP framework: main, routes, and
// the benchmark's bare proxy, which is the gateway's HTTP server with nothing behind it.
func mayImportFiber(pkg string) bool { return pkg == "" || pkg == "routes" || pkg == "contrib/bench" }

func isFiber(dep string) bool {
	return strings.HasPrefix(dep, "github.com/gofiber/") || strings.HasPrefix(dep, "github.com/valyala/fasthttp")
}

func matches(pattern, pkg string) bool {
	if sub, ok := strings.CutSuffix(pattern, "/..."); ok {
		return strings.HasPrefix(pkg, sub+"/")
	}
	return pattern == pkg
}

// forbiddenEdges checks one package's transitive dependencies against the rules.
func forbiddenEdges(pkg string, deps []string) []string {
	allowed, all, ok := allowedInternal(pkg)
	if !ok {
		return []string{"package " + displayPkg(pkg) + " has no import rule: add it to deps_test.go"}
	}
	var bad []string
	for _, dep := range deps {
		if isFiber(dep) && !mayImportFiber(pkg) {
			bad = append(bad, displayPkg(pkg)+" → "+dep+" (only routes and main may use fiber)")
			continue
		}
		rel, internal := strings.CutPrefix(dep, module+"/")
		if dep == module {
			rel, internal = "", true
		}
		if !internal || all {
			continue
		}
		if !slices.ContainsFunc(allowed, func(p string) bool { return matches(p, rel) }) {
			bad = append(bad, displayPkg(pkg)+" → "+displayPkg(rel))
		}
	}
	return bad
}

func displayPkg(rel string) string {
	if rel == "" {
		return "main"
	}
	return rel
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		pkg = strings.TrimPrefix(pkg, "/")
		n++
		for _, e := range forbiddenEdges(pkg, fields[1:]) {
			t.Error(e)
		}
	}
	if n < 8 {
		t.Fatalf("go list found only %d packages:\n%s", n, out)
	}
}

// The rules themselves, so the test above cannot pass by accident.
func TestImportRules(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	tests := []struct {
		pkg  string
		deps []string
		bad  int
	}{
		{"gateway", []string{m("providers"), m("db"), m("migrations"), "github.com/uptrace/bun"}, 0},
		{"gateway", []string{m("routes")}, 1},
		{"gateway", []string{m("providers/openai")}, 1},
		{"gateway", []string{"github.com/gofiber/fiber/v2"}, 1},
		{"db", []string{m("gateway")}, 1},
		{"db", []string{m("providers")}, 1},
		{"views", []string{m("db")}, 1},
		{"views", []string{"github.com/a-h/templ"}, 0},
		{"static", []string{m("views")}, 1},
		{"providers", []string{m("db")}, 1},
		{"providers/openai", []string{m("providers")}, 0},
		{"providers/mistral", []string{m("providers/openai"), m("providers")}, 0},
		{"providers/openai", []string{m("gateway")}, 1},
		{"providers/openai", []string{"github.com/valyala/fasthttp"}, 1},
		{"routes", []string{m("gateway"), m("db"), m("views"), "github.com/gofiber/fiber/v2"}, 0},
		{"", []string{m("routes"), "github.com/gofiber/fiber/v2"}, 0},
		{"newpkg", nil, 1},
	}
	for _, tt := range tests {
		if got := forbiddenEdges(tt.pkg, tt.deps); len(got) != tt.bad {
			t.Errorf("forbiddenEdges(%q, %v) = %v, want %d", tt.pkg, tt.deps, got, tt.bad)
		}
	}
}
