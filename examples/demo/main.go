// Command demo shows awsguard's main job end to end.
//
// With no flags it starts a local moto_server (the AWS emulator), seeds a
// deliberately weak account, runs the audits, applies the fixes, audits
// again and prints the findings, each fix in words, the findings the fixes
// changed and those still failing. Nothing outside this machine is
// touched, and the emulator stops when the demo ends.
//
// With -aws it runs the read-only audits against the account of the AWS
// configuration chain (AWS_PROFILE, AWS_REGION, ..., or -profile, -region,
// -endpoint-url) and changes nothing unless -fix is given; -fix -dry-run
// prints the plans of the fixes without applying them. -print-policy
// (with -aws) prints the IAM policy that needs.
//
//	go run ./examples/demo
//	go run ./examples/demo -aws
//	go run ./examples/demo -aws -fix -dry-run
//	go run ./examples/demo -aws -fix -print-policy
//
// -format json prints {"mode", "before", "changes", "after"}: the reports
// in the findings contract (every finding) and the changes in words. The
// table leaves out NOT_APPLICABLE findings unless -status asks for them,
// and fits 120 columns. A step line goes to stderr while it runs when
// stderr is a terminal. Exit codes: 0 done, 1 failed (or an audit could
// read only part of the account: the output is still printed), 2 a bad
// command line.
package main

import (
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("demo", run) }
