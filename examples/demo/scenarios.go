package main

// scenarios lists the demo's concerns in the order they run. Each package
// adds its own as it lands.
var scenarios = []scenario{iamScenario, groupsScenario, rotateScenario}
