package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/clitest"
)

// readmeSection returns the README's "At organization scale" section.
func readmeSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## At organization scale\n")
	if i < 0 {
		t.Fatal("README has no section At organization scale")
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+4]
	}
	return s
}

// jsonBlocks returns the section's ```json blocks.
func jsonBlocks(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "```json\n")
		if i < 0 {
			return out
		}
		s = s[i+len("```json\n"):]
		j := strings.Index(s, "```")
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+3:]
	}
}

// The README's state machine is valid JSON, a Distributed Map invoking
// the function with bounded concurrency, and its ItemSelector fills
// exactly the event's fields; its event and policies parse too.
func TestReadmeStateMachine(t *testing.T) {
	var machine, event string
	var policies []string
	for _, b := range jsonBlocks(readmeSection(t)) {
		switch {
		case strings.Contains(b, `"StartAt"`):
			machine = b
		case strings.Contains(b, `"Statement"`):
			policies = append(policies, b)
		case strings.Contains(b, `"security_hub"`) && event == "":
			event = b
		}
	}
	if machine == "" || event == "" || len(policies) < 2 {
		t.Fatalf("section lacks the state machine, the event or the policies (%d)", len(policies))
	}
	type state struct {
		Type          string
		Resource      string
		Parameters    map[string]any
		ItemReader    *struct{ Resource string }
		ItemSelector  map[string]any
		ItemProcessor *struct {
			ProcessorConfig struct{ Mode string }
			StartAt         string
			States          map[string]state
		}
		MaxConcurrency int
		End            bool
	}
	var sm struct {
		StartAt string
		States  map[string]state
	}
	dec := json.NewDecoder(strings.NewReader(machine))
	if err := dec.Decode(&sm); err != nil {
		t.Fatalf("state machine: %v", err)
	}
	m, ok := sm.States[sm.StartAt]
	if !ok || m.Type != "Map" || m.ItemReader == nil || m.ItemProcessor == nil || m.ItemProcessor.ProcessorConfig.Mode != "DISTRIBUTED" ||
		m.MaxConcurrency < 1 || !m.End {
		t.Fatalf("start state %q: %+v", sm.StartAt, m)
	}
	task, ok := m.ItemProcessor.States[m.ItemProcessor.StartAt]
	if !ok || task.Type != "Task" || task.Resource != "arn:aws:states:::lambda:invoke" || task.Parameters["Payload.$"] != "$" ||
		!strings.Contains(task.Parameters["FunctionName"].(string), ":function:") {
		t.Errorf("processor task: %+v", task)
	}
	// The selector, its JSONPath keys given a value, must decode into an
	// Event and name its required fields.
	sel := map[string]any{}
	for k, v := range m.ItemSelector {
		if name, ok := strings.CutSuffix(k, ".$"); ok {
			k, v = name, "111122223333"
		}
		sel[k] = v
	}
	b, _ := json.Marshal(sel)
	var ev Event
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&ev); err != nil {
		t.Fatalf("ItemSelector is not an Event: %v (%s)", err, b)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("ItemSelector's event: %v", err)
	}
	d = json.NewDecoder(strings.NewReader(event))
	d.DisallowUnknownFields()
	if err := d.Decode(&ev); err != nil || ev.Validate() != nil {
		t.Errorf("the README's event: %v, %v", err, ev.Validate())
	}
	for _, p := range policies {
		doc, err := awsguard.ParsePolicyDocument(p)
		if err == nil && !strings.Contains(p, `"Principal"`) { // Validate is for identity policies
			err = doc.Validate()
		}
		if err != nil {
			t.Errorf("policy %v:\n%s", err, p)
		}
	}
	// The execution role's policy is the one -print-policy prints, scoped.
	var acts []string
	for _, p := range policies {
		doc, _ := awsguard.ParsePolicyDocument(p)
		for _, st := range doc.Statement.List {
			if st.Principal == nil {
				acts = append(acts, st.Action.Values...)
			}
		}
	}
	slices.Sort(acts)
	if want := clitest.Actions(clitest.PrintPolicy(t, "audit-lambda", run)); !slices.Equal(acts, want) {
		t.Errorf("README's execution role actions %v, -print-policy's %v", acts, want)
	}
}
