package iamguard_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/iamguard"
)

// permissionInterfaces are the operation interfaces of api.go, by name.
var permissionInterfaces = map[string]reflect.Type{
	"FetchCredentialReportAPI":   reflect.TypeFor[iamguard.FetchCredentialReportAPI](),
	"AuditAPI":                   reflect.TypeFor[iamguard.AuditAPI](),
	"VerifyUserAPI":              reflect.TypeFor[iamguard.VerifyUserAPI](),
	"EnablePasswordPolicyAPI":    reflect.TypeFor[iamguard.EnablePasswordPolicyAPI](),
	"RestorePasswordPolicyAPI":   reflect.TypeFor[iamguard.RestorePasswordPolicyAPI](),
	"CreateVirtualMFAAPI":        reflect.TypeFor[iamguard.CreateVirtualMFAAPI](),
	"ActivateVirtualMFAAPI":      reflect.TypeFor[iamguard.ActivateVirtualMFAAPI](),
	"DeleteVirtualMFAAPI":        reflect.TypeFor[iamguard.DeleteVirtualMFAAPI](),
	"EnforceMFAAPI":              reflect.TypeFor[iamguard.EnforceMFAAPI](),
	"RemoveEnforceMFAAPI":        reflect.TypeFor[iamguard.RemoveEnforceMFAAPI](),
	"EnsureGroupAPI":             reflect.TypeFor[iamguard.EnsureGroupAPI](),
	"RemoveGroupAPI":             reflect.TypeFor[iamguard.RemoveGroupAPI](),
	"MoveUserAPI":                reflect.TypeFor[iamguard.MoveUserAPI](),
	"MoveUserPoliciesToGroupAPI": reflect.TypeFor[iamguard.MoveUserPoliciesToGroupAPI](),
	"EnsureSelfServicePolicyAPI": reflect.TypeFor[iamguard.EnsureSelfServicePolicyAPI](),
	"RemoveSelfServicePolicyAPI": reflect.TypeFor[iamguard.RemoveSelfServicePolicyAPI](),
}

var permissionsSentence = regexp.MustCompile(`IAM permissions:([^.]*)\.`)

// Each operation's documented IAM permissions are exactly the methods of
// the interface it takes (named after it), so that the interfaces can
// serve as least-privilege policies and the docs never drift from them.
func TestPermissionsMatchInterfaces(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	declared := map[string]bool{}
	covered := map[string]bool{}
	ops := 0
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() {
						if _, ok := ts.Type.(*ast.InterfaceType); ok {
							declared[ts.Name.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				var params []ast.Expr
				for _, p := range d.Type.Params.List {
					for range max(1, len(p.Names)) {
						params = append(params, p.Type)
					}
				}
				if d.Recv != nil || !d.Name.IsExported() || len(params) < 2 {
					continue
				}
				id, ok := params[1].(*ast.Ident)
				if !ok || !strings.HasSuffix(id.Name, "API") {
					continue
				}
				ops++
				name := d.Name.Name
				t.Run(name, func(t *testing.T) {
					if id.Name != name+"API" {
						t.Errorf("%s takes %s, want an interface named %sAPI", name, id.Name, name)
					}
					typ, ok := permissionInterfaces[id.Name]
					if !ok {
						t.Fatalf("interface %s is not in permissionInterfaces", id.Name)
					}
					covered[id.Name] = true
					m := permissionsSentence.FindStringSubmatch(d.Doc.Text())
					if m == nil {
						t.Fatalf("%s's doc has no \"IAM permissions: ...\" sentence", name)
					}
					documented := regexp.MustCompile(`iam:[A-Za-z]+`).FindAllString(m[1], -1)
					slices.Sort(documented)
					var methods []string
					for i := range typ.NumMethod() {
						methods = append(methods, "iam:"+typ.Method(i).Name)
					}
					slices.Sort(methods)
					if d := cmp.Diff(methods, documented); d != "" {
						t.Errorf("%s: documented permissions differ from %s's methods (-methods +doc):\n%s", name, id.Name, d)
					}
				})
			}
		}
	}
	if ops == 0 {
		t.Fatal("found no operation: the source was not read")
	}
	for name := range permissionInterfaces {
		if !declared[name] {
			t.Errorf("%s is not declared in the package", name)
		}
		if !covered[name] {
			t.Errorf("no operation takes %s", name)
		}
	}
	for name := range declared {
		if _, ok := permissionInterfaces[name]; !ok && strings.HasSuffix(name, "API") {
			t.Errorf("interface %s is not in permissionInterfaces", name)
		}
	}
}
