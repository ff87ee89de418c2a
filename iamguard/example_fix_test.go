package iamguard_test

import (
	"encoding/json"
	"fmt"

	"github.com/awsguard/awsguard/iamguard"
)

func ExampleParsePolicyDocument() {
	d, err := iamguard.ParsePolicyDocument(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ChangePassword","Resource":["arn:aws:iam::*:user/${aws:username}"]}}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	st := d.Statement.List[0]
	fmt.Println(st.Effect, st.Action.Values, st.Action.Single, st.Resource.Single)
	b, _ := json.Marshal(d) // the same shape back: one string stays one string
	fmt.Println(string(b))
	// Output:
	// Allow [iam:ChangePassword] true false
	// {"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ChangePassword","Resource":["arn:aws:iam::*:user/${aws:username}"]}}
}

func ExampleMFASeed() {
	seed := iamguard.NewMFASeed("JBSWY3DPEHPK3PXP")
	fmt.Printf("%v %s %+v\n", seed, seed, iamguard.VirtualMFA{User: "alice", Seed: seed})
	// Output:
	// [REDACTED] [REDACTED] {User:alice SerialNumber: Seed:[REDACTED] QRCode:[REDACTED] QRRendered:false Active:false Plan:<nil>}
}
