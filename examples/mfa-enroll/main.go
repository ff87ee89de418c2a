// Command mfa-enroll enrols a virtual MFA device for an IAM user, in two
// invocations:
//
//	mfa-enroll -user alice -qr alice.png       # create the device, write its QR code (mode 0600)
//	mfa-enroll -user alice -code1 123456 -code2 654321   # activate it with two consecutive codes
//
// The first invocation needs somewhere to put the seed: -qr FILE (scan it
// with an authenticator app) and/or -seed FILE (the Base32 seed, for
// typing it in by hand). Both files are written mode 0600, and only once
// complete; the seed and the QR code never reach stdout or stderr (the
// old -show-seed, which printed the seed, is refused: use -seed FILE).
// Running the first invocation again replaces a device that was never
// activated (its seed cannot be read back); on an active device it
// changes nothing.
//
// Flags: -dry-run shows the plan and changes nothing; -format json prints
// a JSON object instead of the table of lines; -device-name names the
// device (default: the user, which is what the self-service policy lets
// users manage); -print-policy prints the IAM policy the invocation needs;
// and the common flags of every example (-profile, -region,
// -endpoint-url, -timeout, -attempt-timeout).
//
// Exit codes: 0 done, 1 failed (one line on stderr naming the flag or the
// step), 2 a bad command line.
package main

import (
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("mfa-enroll", run) }
