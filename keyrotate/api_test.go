package keyrotate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// operationAPIs maps each exported operation to the interfaces of the
// clients it takes: their methods are the permissions it needs.
var operationAPIs = map[string][]reflect.Type{
	"RotateAccessKey":    {reflect.TypeFor[RotateAPI](), reflect.TypeFor[CallerIdentityAPI]()},
	"RotateAccessKeys":   {reflect.TypeFor[RotateAPI](), reflect.TypeFor[CallerIdentityAPI]()},
	"FinishRotation":     {reflect.TypeFor[FinishAPI]()},
	"WaitForKey":         {reflect.TypeFor[CallerIdentityAPI]()},
	"NewHandler":         {reflect.TypeFor[HandlerSecretsAPI](), reflect.TypeFor[HandlerIAMAPI](), reflect.TypeFor[CallerIdentityAPI]()},
	"RepairPending":      {reflect.TypeFor[RepairSecretsAPI](), reflect.TypeFor[RepairIAMAPI]()},
	"PlanSetup":          {reflect.TypeFor[PlanSetupSecretsAPI](), reflect.TypeFor[PlanSetupIAMAPI](), reflect.TypeFor[PlanSetupLambdaAPI]()},
	"SetupRotation":      {reflect.TypeFor[SetupSecretsAPI](), reflect.TypeFor[SetupIAMAPI](), reflect.TypeFor[SetupLambdaAPI]()},
	"MeasureKeyActivity": {reflect.TypeFor[LookupEventsAPI]()},
	"ContainLeakedKey":   {reflect.TypeFor[ContainAPI]()},
	"ReleaseContainment": {reflect.TypeFor[ReleaseAPI]()},
	"ReplaceLeakedKey":   {reflect.TypeFor[ReplaceAPI](), reflect.TypeFor[CallerIdentityAPI]()},
	"DeleteLeakedKey":    {reflect.TypeFor[DeleteLeakedAPI]()},
	"TeardownRotation":   {reflect.TypeFor[TeardownSecretsAPI](), reflect.TypeFor[TeardownIAMAPI](), reflect.TypeFor[TeardownLambdaAPI]()},
}

// permissions returns "service:Method" for every method of the
// interfaces, the service named by the package of the method's input.
func permissions(types []reflect.Type) []string {
	var out []string
	for _, t := range types {
		for m := range t.Methods() {
			svc := path.Base(m.Type.In(1).Elem().PkgPath())
			if p := svc + ":" + m.Name; !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

var permRE = regexp.MustCompile(`\b(iam|sts|secretsmanager|lambda|cloudtrail):[A-Z][A-Za-z]+`)

// documented returns, for each function of the package's source, the
// permissions its doc comment's "Permissions" paragraph lists (kms: ones
// aside: they depend on the customer's key, not on a client).
func documented(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil || fn.Recv != nil {
				continue
			}
			for _, para := range strings.Split(fn.Doc.Text(), "\n\n") {
				if !strings.HasPrefix(para, "Permissions") {
					continue
				}
				var ps []string
				for _, p := range permRE.FindAllString(para, -1) {
					if !slices.Contains(ps, p) {
						ps = append(ps, p)
					}
				}
				slices.Sort(ps)
				out[fn.Name.Name] = ps
			}
		}
	}
	return out
}

// Each operation's documented permissions are exactly the methods of the
// interfaces it takes.
func TestDocumentedPermissionsMatchInterfaces(t *testing.T) {
	docs := documented(t)
	for name, types := range operationAPIs {
		got, ok := docs[name]
		if !ok {
			t.Errorf("%s: no Permissions paragraph in its documentation", name)
			continue
		}
		if diff := cmp.Diff(permissions(types), got); diff != "" {
			t.Errorf("%s: documented permissions (-interfaces +doc):\n%s", name, diff)
		}
	}
	for name := range docs {
		if _, ok := operationAPIs[name]; !ok {
			t.Errorf("%s documents permissions but the test does not know its interfaces", name)
		}
	}
}

// The rotation function's policy grants what the handler's interfaces
// call, no more.
func TestRotationPolicyMatchesHandler(t *testing.T) {
	want := permissions([]reflect.Type{reflect.TypeFor[HandlerSecretsAPI](), reflect.TypeFor[HandlerIAMAPI]()})
	got := slices.Sorted(slices.Values(append(slices.Clone(rotationSecretActions), rotationIAMActions...)))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RotationPolicy actions (-interfaces +policy):\n%s", diff)
	}
}

// No library function in the package is longer than 80 lines.
func TestFunctionLength(t *testing.T) {
	fset := token.NewFileSet()
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			name := "func literal"
			switch x := n.(type) {
			case *ast.FuncDecl:
				body, name = x.Body, x.Name.Name
			case *ast.FuncLit:
				body = x.Body
			}
			if body != nil {
				if lines := fset.Position(body.Rbrace).Line - fset.Position(body.Lbrace).Line + 1; lines > 80 {
					t.Errorf("%s: %s is %d lines long, more than 80", fset.Position(body.Lbrace), name, lines)
				}
			}
			return true
		})
	}
}
