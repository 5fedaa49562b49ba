package routes

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every admin password is verified through checkPassword, so none escapes its throttle and its
// slots: outside db (which holds the argon2id code), no program file imports an argon2 package,
// and the only call of AdminUsers.Authenticate (ctx, username, password) is in password_check.go.
func TestPasswordsAreVerifiedOnlyThroughCheckPassword(t *testing.T) {
	fset := token.NewFileSet()
	var calls []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && d.Name() != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.Base(filepath.Dir(path)) == "db" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "argon2") {
				t.Errorf("%s imports %s: argon2id belongs in db, reached through routes.checkPassword", path, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Authenticate" && len(call.Args) == 3 {
					calls = append(calls, filepath.ToSlash(path))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != "../routes/password_check.go" {
		t.Errorf("admin passwords are verified in %v; only routes/password_check.go may (through checkPassword)", calls)
	}
}
