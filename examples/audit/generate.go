package main

// The README's "## Checks" table is generated from what -list-checks
// prints; readme_test.go fails when the two differ. Rewrite it with
//
//	go generate ./examples/audit
//
//go:generate go test -run ^TestREADMEChecks$ -count=1 . -args -update-readme
