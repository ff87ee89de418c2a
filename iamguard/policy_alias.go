package iamguard

import "github.com/awsguard/awsguard"

// Temporary aliases while iamguard moves to the root vocabulary; to be removed.
type (
	PolicyDocument = awsguard.PolicyDocument
	Statements     = awsguard.Statements
	Statement      = awsguard.Statement
	Strings        = awsguard.Strings
	Principal      = awsguard.Principal
)

const PolicyVersion2012 = awsguard.PolicyVersion2012

var (
	ErrPolicyDocument   = awsguard.ErrPolicyDocument
	ParsePolicyDocument = awsguard.ParsePolicyDocument
	StringValue         = awsguard.StringValue
	StringList          = awsguard.StringList
)
