// Command apisurface counts the exported API of the module's public packages,
// the way `go doc -all` shows it: exported constants, variables, functions,
// types and methods of exported types (the "identifiers"), plus the exported
// fields of exported structs and methods of exported interfaces (the
// "members"), per package.
//
// Run from the module root:
//
//	go run ./internal/tools/apisurface            # this module
//	go run ./internal/tools/apisurface middleware/awsmw   # a nested module's directory
//
// A public package is a non-main package whose import path has no "internal"
// element, outside testdata and outside nested modules (directories with their
// own go.mod, unless named on the command line). _test.go files are ignored.
package main

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type count struct {
	consts, vars, funcs, types, methods, members int
}

func (c count) ids() int { return c.consts + c.vars + c.funcs + c.types + c.methods }

func main() {
	roots := os.Args[1:]
	if len(roots) == 0 {
		roots = []string{"."}
	}
	results := map[string]count{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			name := d.Name()
			if path != root {
				if name == "testdata" || name == "internal" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // nested module: count it by naming it
				}
			}
			c, ok, err := countDir(path)
			if err != nil {
				return err
			}
			if ok {
				results[filepath.ToSlash(path)] = c
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	dirs := make([]string, 0, len(results))
	for d := range results {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var total count
	pkgs := 0
	fmt.Printf("%-34s %6s %5s %5s %5s %7s %5s %7s\n", "package", "const", "var", "func", "type", "method", "ids", "members")
	for _, d := range dirs {
		c := results[d]
		if c.ids() == 0 {
			continue // a package without API (a test suite)
		}
		pkgs++
		fmt.Printf("%-34s %6d %5d %5d %5d %7d %5d %7d\n", d, c.consts, c.vars, c.funcs, c.types, c.methods, c.ids(), c.members)
		total.consts += c.consts
		total.vars += c.vars
		total.funcs += c.funcs
		total.types += c.types
		total.methods += c.methods
		total.members += c.members
	}
	fmt.Printf("%-34s %6d %5d %5d %5d %7d %5d %7d\n", fmt.Sprintf("TOTAL (%d packages)", pkgs), total.consts, total.vars, total.funcs, total.types, total.methods, total.ids(), total.members)
}

func countDir(dir string) (count, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return count{}, false, err
	}
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return count{}, false, err
		}
		pkgs[f.Name.Name] = append(pkgs[f.Name.Name], f)
	}
	var c count
	found := false
	for name, p := range pkgs {
		if name == "main" {
			continue
		}
		var files []*ast.File
		for _, f := range p {
			if !buildable(f) {
				continue
			}
			files = append(files, f)
		}
		if len(files) == 0 {
			continue
		}
		dp, err := doc.NewFromFiles(fset, files, "x/"+name)
		if err != nil {
			return count{}, false, err
		}
		found = true
		values := func(vs []*doc.Value) (n int) {
			for _, v := range vs {
				for _, id := range v.Names {
					if ast.IsExported(id) {
						n++
					}
				}
			}
			return n
		}
		c.consts += values(dp.Consts)
		c.vars += values(dp.Vars)
		c.funcs += len(dp.Funcs)
		for _, t := range dp.Types {
			c.types++
			c.consts += values(t.Consts)
			c.vars += values(t.Vars)
			c.funcs += len(t.Funcs)
			c.methods += len(t.Methods)
			c.members += members(t.Decl)
		}
	}
	return c, found, nil
}

// buildable drops files that are excluded on every platform we ship for
// (a "//go:build ignore" tool, for example); platform-specific files count.
func buildable(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, cm := range cg.List {
			if strings.TrimSpace(cm.Text) == "//go:build ignore" {
				return false
			}
		}
	}
	return true
}

// members counts the exported fields of a struct type and the exported
// methods of an interface type (embedded exported types count once).
func members(decl *ast.GenDecl) (n int) {
	for _, spec := range decl.Specs {
		ts, ok := spec.(*ast.TypeSpec)
		if !ok || !ast.IsExported(ts.Name.Name) {
			continue
		}
		var list *ast.FieldList
		switch t := ts.Type.(type) {
		case *ast.StructType:
			list = t.Fields
		case *ast.InterfaceType:
			list = t.Methods
		}
		if list == nil {
			continue
		}
		for _, f := range list.List {
			if len(f.Names) == 0 {
				if id := embeddedName(f.Type); id != "" && ast.IsExported(id) {
					n++
				}
				continue
			}
			for _, id := range f.Names {
				if id.IsExported() {
					n++
				}
			}
		}
	}
	return n
}

func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(t.X)
	}
	return ""
}
