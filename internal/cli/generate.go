package cli

// The README's "## Permissions" table is generated from the packages'
// client interfaces; permissions_test.go fails when the two differ.
// Rewrite it with
//
//	go generate ./internal/cli
//
//go:generate go test -run ^TestREADMEPermissions$ -count=1 . -args -update-readme
