// Command mfa-enroll enrols a virtual MFA device for an IAM user, in two
// invocations:
//
//	mfa-enroll -user alice -qr alice.png       # create the device, write its QR code (mode 0600)
//	mfa-enroll -user alice -code1 123456 -code2 654321   # activate it with two consecutive codes
//
// The first invocation needs somewhere to put the seed: -qr FILE (scan it
// with an authenticator app) and/or -show-seed (print the Base32 seed, for
// typing it in by hand; it then sits in your terminal's scrollback). The
// seed is never printed otherwise, and never in JSON output without
// -show-seed. Running the first invocation again replaces a device that
// was never activated (its seed cannot be read back); on an active device
// it changes nothing.
//
// Flags: -dry-run shows the plan and changes nothing; -format json prints
// a JSON object instead of text; -device-name names the device (default:
// the user, which is what the self-service policy lets users manage).
//
// Credentials and region come from the standard AWS configuration chain.
// On failure it prints one line to stderr and exits non-zero.
package main

import (
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("mfa-enroll", run) }
