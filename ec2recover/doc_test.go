package ec2recover_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/ec2recover"
)

// The state and strategy tables of the package documentation match the
// enums.
func TestDocTables(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var states, strategies []string
	inStates := true
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "//\t| ") || strings.HasPrefix(line, "//\t|-") {
			continue
		}
		cell := strings.TrimSpace(strings.Split(line, "|")[1])
		switch cell {
		case "state":
			inStates = true
			continue
		case "strategy":
			inStates = false
			continue
		}
		if inStates {
			states = append(states, cell)
		} else {
			strategies = append(strategies, cell)
		}
	}
	var wantStates, wantStrategies []string
	for s := ec2recover.StateReady; s <= ec2recover.StateInProgress; s++ {
		wantStates = append(wantStates, s.String())
	}
	for _, s := range ec2recover.Strategies {
		wantStrategies = append(wantStrategies, string(s))
	}
	if diff := cmp.Diff(wantStates, states); diff != "" {
		t.Errorf("doc.go state table (-enum +doc):\n%s", diff)
	}
	if diff := cmp.Diff(wantStrategies, strategies); diff != "" {
		t.Errorf("doc.go strategy table (-Strategies +doc):\n%s", diff)
	}
}
