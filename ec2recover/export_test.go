package ec2recover

// Exported for the tests of package ec2recover_test.
var (
	SendEffect              = sendEffect
	InstanceConnectGrantees = instanceConnectGrantees
)
