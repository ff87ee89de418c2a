package observe_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/awsguard/awsguard/observe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it):\n got: %s\nwant: %s", path, t.Name(), got, want)
	}
}

// Each preset's rule (pattern, message, description) is the golden one.
func TestPresetRulesGolden(t *testing.T) {
	for _, p := range observe.Presets() {
		t.Run(string(p), func(t *testing.T) {
			r, err := observe.PresetRule(p, "arn:aws:sns:us-east-1:123456789012:awsguard-alerts")
			must(t, err)
			pattern, err := r.Pattern.JSON()
			must(t, err)
			var buf bytes.Buffer
			must(t, json.Indent(&buf, []byte(pattern), "", "  "))
			buf.WriteByte('\n')
			golden(t, "patterns/"+string(p)+".json", buf.Bytes())
			b, err := json.MarshalIndent(struct {
				Name, Description string
				Transformer       *observe.InputTransformer
			}{r.Name, r.Description, r.Transformer}, "", "  ")
			must(t, err)
			golden(t, "rules/"+string(p)+".json", append(b, '\n'))
			// Every name the template uses is in the paths map.
			for _, name := range templateNames(r.Transformer.Template) {
				if _, ok := r.Transformer.PathsMap[name]; !ok {
					t.Errorf("template uses <%s>, not in the paths map", name)
				}
			}
		})
	}
	if _, err := observe.ParsePreset("nope"); err == nil {
		t.Error("ParsePreset accepted an unknown preset")
	}
}

func templateNames(s string) []string {
	var out []string
	for {
		i := bytes.IndexByte([]byte(s), '<')
		if i < 0 {
			return out
		}
		j := bytes.IndexByte([]byte(s[i:]), '>')
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
}
