package iamguard_test

import (
	"fmt"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// A VirtualMFA's seed and QR code are awsguard.Secret values: they show
// as [REDACTED] in every format.
func ExampleVirtualMFA() {
	seed := awsguard.NewSecret("JBSWY3DPEHPK3PXP")
	fmt.Printf("%v %s %+v\n", seed, seed, iamguard.VirtualMFA{User: "alice", Seed: seed})
	// Output:
	// [REDACTED] [REDACTED] {User:alice SerialNumber: Seed:[REDACTED] QRCode:[REDACTED] QRRendered:false Active:false Plan:<nil>}
}
