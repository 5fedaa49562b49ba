package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// CI fuzzes every fuzz target for a bounded time (.ci/run lists them, one "./pkg FuzzName" per
// line, because go test -fuzz takes one target at a time). A target added without a line there
// would never be fuzzed in CI; a line without a target would fail CI.
func TestCIFuzzesEveryTarget(t *testing.T) {
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(\./\S*) (Fuzz\w+)"`).FindAllStringSubmatch(string(ci), -1) {
		listed[m[1]+" "+m[2]] = true
	}
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)
	found := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := "./" + filepath.ToSlash(filepath.Dir(path))
		if pkg == "./." {
			pkg = "."
		}
		for _, m := range fuzzFunc.FindAllStringSubmatch(string(b), -1) {
			found[pkg+" "+m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("no fuzz targets found")
	}
	for target := range found {
		if !listed[target] {
			t.Errorf("fuzz target %q is not fuzzed by .ci/run", target)
		}
	}
	for target := range listed {
		if !found[target] {
			t.Errorf(".ci/run fuzzes %q, which does not exist", target)
		}
	}
}
