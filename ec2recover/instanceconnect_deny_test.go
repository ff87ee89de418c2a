package ec2recover_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/ec2recover"
)

const (
	allowSend   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2-instance-connect:SendSSHPublicKey","Resource":"*"}]}`
	allowAll    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	denyConnect = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2-instance-connect:*","Resource":"*"}]}`
)

func TestSendEffect(t *testing.T) {
	for _, tc := range []struct {
		name, doc   string
		allow, deny bool
	}{
		{"allow", allowSend, true, false},
		{"allow all", allowAll, true, false},
		{"allow by NotAction", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, true, false},
		{"NotAction excludes it", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"ec2-instance-connect:*","Resource":"*"}]}`, false, false},
		{"other action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`, false, false},
		{"deny", denyConnect, false, true},
		{"deny the action exactly", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2-instance-connect:sendsshpublickey","Resource":"*"}]}`, false, true},
		{"allow and deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2-instance-connect:SendSSHPublicKey","Resource":"*"}]}`, true, true},
		{"deny on some resources only", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2-instance-connect:*","Resource":"arn:aws:ec2:*:*:instance/i-0123456789abcdef0"}]}`, false, false},
		{"deny under a condition", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2-instance-connect:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`, false, false},
		{"deny by NotResource", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2-instance-connect:*","NotResource":"arn:aws:ec2:*:*:instance/i-0123456789abcdef0"}]}`, false, false},
		{"deny of another action", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}`, false, false},
		{"not a document", `{`, false, false},
	} {
		allow, deny := ec2recover.SendEffect(tc.doc)
		if allow != tc.allow || deny != tc.deny {
			t.Errorf("%s: allow %v deny %v, want %v %v", tc.name, allow, deny, tc.allow, tc.deny)
		}
	}
}

type fakeAuthz struct {
	out iam.GetAccountAuthorizationDetailsOutput
}

func (f *fakeAuthz) GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	return &f.out, nil
}

func TestInstanceConnectGranteesDeny(t *testing.T) {
	const acct = "arn:aws:iam::123456789012:"
	inline := func(doc string) []iamtypes.PolicyDetail {
		return []iamtypes.PolicyDetail{{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}}
	}
	attached := func(arns ...string) []iamtypes.AttachedPolicy {
		var out []iamtypes.AttachedPolicy
		for _, a := range arns {
			out = append(out, iamtypes.AttachedPolicy{PolicyArn: aws.String(a)})
		}
		return out
	}
	managed := func(arn, doc string) iamtypes.ManagedPolicyDetail {
		return iamtypes.ManagedPolicyDetail{Arn: aws.String(arn), PolicyVersionList: []iamtypes.PolicyVersion{
			{IsDefaultVersion: false, Document: aws.String(allowSend)}, // an old version does not count
			{IsDefaultVersion: true, Document: aws.String(doc)}}}
	}
	admin, deny := "arn:aws:iam::aws:policy/AdministratorAccess", acct+"policy/awsguard/"+ec2recover.DenyPolicyName
	pols := []iamtypes.ManagedPolicyDetail{managed(admin, allowAll), managed(deny, denyConnect)}
	for _, tc := range []struct {
		name string
		out  iam.GetAccountAuthorizationDetailsOutput
		want []string
	}{
		{"nobody", iam.GetAccountAuthorizationDetailsOutput{Policies: pols}, nil},
		{"granted user, role and group", iam.GetAccountAuthorizationDetailsOutput{Policies: pols,
			UserDetailList:  []iamtypes.UserDetail{{Arn: aws.String(acct + "user/alice"), UserPolicyList: inline(allowSend)}},
			RoleDetailList:  []iamtypes.RoleDetail{{Arn: aws.String(acct + "role/ops"), AttachedManagedPolicies: attached(admin)}},
			GroupDetailList: []iamtypes.GroupDetail{{Arn: aws.String(acct + "group/admins"), GroupName: aws.String("admins"), AttachedManagedPolicies: attached(admin)}}},
			[]string{acct + "group/admins", acct + "role/ops", acct + "user/alice"}},
		{"user denied by its own managed policy", iam.GetAccountAuthorizationDetailsOutput{Policies: pols,
			UserDetailList: []iamtypes.UserDetail{{Arn: aws.String(acct + "user/alice"), UserPolicyList: inline(allowSend), AttachedManagedPolicies: attached(deny)}}}, nil},
		{"role denied inline", iam.GetAccountAuthorizationDetailsOutput{Policies: pols,
			RoleDetailList: []iamtypes.RoleDetail{{Arn: aws.String(acct + "role/ops"), AttachedManagedPolicies: attached(admin), RolePolicyList: inline(denyConnect)}}}, nil},
		{"group and its member denied by the group's deny", iam.GetAccountAuthorizationDetailsOutput{Policies: pols,
			GroupDetailList: []iamtypes.GroupDetail{{Arn: aws.String(acct + "group/admins"), GroupName: aws.String("admins"), AttachedManagedPolicies: attached(admin, deny)}},
			UserDetailList:  []iamtypes.UserDetail{{Arn: aws.String(acct + "user/bob"), GroupList: []string{"admins"}, AttachedManagedPolicies: attached(admin)}}}, nil},
		{"member of another group keeps the grant", iam.GetAccountAuthorizationDetailsOutput{Policies: pols,
			GroupDetailList: []iamtypes.GroupDetail{{Arn: aws.String(acct + "group/denied"), GroupName: aws.String("denied"), AttachedManagedPolicies: attached(deny)}},
			UserDetailList: []iamtypes.UserDetail{
				{Arn: aws.String(acct + "user/bob"), GroupList: []string{"denied"}, AttachedManagedPolicies: attached(admin)},
				{Arn: aws.String(acct + "user/carol"), GroupList: []string{"other"}, AttachedManagedPolicies: attached(admin)}}},
			[]string{acct + "user/carol"}},
		{"a deny on some instances leaves the grant", iam.GetAccountAuthorizationDetailsOutput{Policies: pols,
			UserDetailList: []iamtypes.UserDetail{{Arn: aws.String(acct + "user/alice"), UserPolicyList: []iamtypes.PolicyDetail{
				{PolicyName: aws.String("a"), PolicyDocument: aws.String(allowSend)},
				{PolicyName: aws.String("d"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2-instance-connect:*","Resource":"arn:aws:ec2:*:*:instance/i-0123456789abcdef0"}]}`)}}}}},
			[]string{acct + "user/alice"}},
	} {
		got, err := ec2recover.InstanceConnectGrantees(context.Background(), &fakeAuthz{out: tc.out})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
