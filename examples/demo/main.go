// Command demo shows awsguard's main job end to end.
//
// With no flags it starts a local moto_server (the AWS emulator), seeds a
// deliberately weak account, runs the audits, applies the fixes, audits
// again and prints the findings before and after side by side. Nothing
// outside this machine is touched, and the emulator stops when the demo
// ends.
//
// With -aws it runs the read-only audits against the account of the
// standard AWS configuration chain (AWS_PROFILE, AWS_REGION, ...) and
// changes nothing unless -fix is given; -fix -dry-run prints the plans of
// the fixes without applying them.
//
//	go run ./examples/demo
//	go run ./examples/demo -aws
//	go run ./examples/demo -aws -fix -dry-run
package main

import (
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("demo", run) }
