package iamguard

import "regexp"

// The IAM names that the MFA, group, enforcement and self-service
// operations check before their first call.
var (
	userNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	groupNameRE  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	pathRE       = regexp.MustCompile(`^(/|/[\x21-\x7E]{1,510}/)$`)
)

// checkName returns an *awsguard.InputError naming field unless re matches
// value.
func checkName(re *regexp.Regexp, operation, field, value, allowed string) error {
	if !re.MatchString(value) {
		return inputError(operation, field, value, allowed)
	}
	return nil
}

func checkUser(operation, field, v string) error {
	return checkName(userNameRE, operation, field, v, `an IAM user name: 1 to 64 of letters, digits and +=,.@_-`)
}

func checkGroup(operation, field, v string) error {
	return checkName(groupNameRE, operation, field, v, `an IAM group name: 1 to 128 of letters, digits and +=,.@_-`)
}

func checkPolicyName(operation, field, v string) error {
	return checkName(policyNameRE, operation, field, v, `an IAM policy name: 1 to 128 of letters, digits and +=,.@_-`)
}

func checkPath(operation, field, v string) error {
	return checkName(pathRE, operation, field, v, `an IAM path: "/" or "/name/.../" of printable ASCII, at most 512 characters`)
}
