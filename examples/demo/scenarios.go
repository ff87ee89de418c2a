package main

import (
	"github.com/awsguard/awsguard"
)

// scenarios lists the demo's concerns in the order they run. Each package
// adds its own as it lands.
var scenarios = []scenario{iamScenario, groupsScenario, rotateScenario, leakScenario, wafScenario, httpsScenario, networkScenario,
	inspectorScenario, alertsScenario, recoverScenario, instanceConnectScenario}

// describe says in words what plan p did, one line per action done (or,
// in a dry run, would do: "would ..."), or, when it had nothing to do,
// what: "what: already compliant".
func describe(what string, p *awsguard.Plan) []string {
	if p.NothingToDo() {
		return []string{what + ": " + string(p.Reason)}
	}
	lines := p.Describe()
	if p.DryRun {
		for i, l := range lines {
			lines[i] = "would " + l
		}
	}
	return lines
}
