package keyrotate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
)

// ctFake answers the reads of a containment: the owner GetAccessKeyLastUsed
// names and the keys the user lists. Every mutating call fails the test.
type ctFake struct {
	t     *testing.T
	owner string
	keys  []string
}

func (f *ctFake) GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return &iam.GetAccessKeyLastUsedOutput{UserName: aws.String(f.owner)}, nil
}
func (f *ctFake) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return &iam.GetUserOutput{User: &types.User{UserName: in.UserName, Arn: aws.String("arn:aws:iam::123456789012:user/" + *in.UserName)}}, nil
}
func (f *ctFake) ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	out := &iam.ListAccessKeysOutput{}
	for _, k := range f.keys {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, types.AccessKeyMetadata{AccessKeyId: aws.String(k), Status: types.StatusTypeActive})
	}
	return out, nil
}
func (f *ctFake) ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error) {
	return &iam.ListUserTagsOutput{}, nil
}
func (f *ctFake) ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	return &iam.ListAttachedUserPoliciesOutput{}, nil
}
func (f *ctFake) ListUserPolicies(context.Context, *iam.ListUserPoliciesInput, ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	return &iam.ListUserPoliciesOutput{}, nil
}
func (f *ctFake) GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	return &iam.GetLoginProfileOutput{}, nil
}
func (f *ctFake) mutated(op string) error { f.t.Errorf("unexpected %s", op); return errors.New(op) }
func (f *ctFake) UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	return nil, f.mutated("UpdateAccessKey")
}
func (f *ctFake) AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error) {
	return nil, f.mutated("AttachUserPolicy")
}
func (f *ctFake) PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	return nil, f.mutated("PutUserPolicy")
}
func (f *ctFake) DeleteLoginProfile(context.Context, *iam.DeleteLoginProfileInput, ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error) {
	return nil, f.mutated("DeleteLoginProfile")
}
func (f *ctFake) TagUser(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	return nil, f.mutated("TagUser")
}

// A root key and a key the named user does not list are refused with what
// to do instead; nothing is changed.
func TestContainRefusesRootAndUnconfirmed(t *testing.T) {
	ctx := context.Background()
	for _, owner := range []string{"root", "<root_account>", ""} {
		c, err := ContainLeakedKey(ctx, &ctFake{t: t, owner: owner}, stA, func(o *ContainOptions) { o.DisableConsole = true })
		if !errors.Is(err, ErrRootKey) || c.Reason != awsguard.ReasonRefused || !strings.Contains(err.Error(), "sign in as the root user") {
			t.Errorf("owner %q: %v, %+v", owner, err, c)
		}
	}
	c, err := ContainLeakedKey(ctx, &ctFake{t: t, owner: "alice", keys: []string{stB}}, stA)
	if !errors.Is(err, ErrKeyNotConfirmed) || c.Reason != awsguard.ReasonRefused || !strings.Contains(err.Error(), stB) {
		t.Errorf("unconfirmed: %v, %+v", err, c)
	}
	// A dry run of a fresh containment plans and calls nothing that changes.
	c, err = ContainLeakedKey(ctx, &ctFake{t: t, owner: "alice", keys: []string{stA}}, stA, func(o *ContainOptions) { o.DryRun, o.DisableConsole = true, true })
	if err != nil || c.Reason != awsguard.ReasonDryRun || len(c.Actions) != 4 || c.Actions[2].Resource != "arn:aws:iam::aws:policy/"+QuarantinePolicyName {
		t.Errorf("dry run: %v, %+v", err, c)
	}
}

// QuarantinePolicyARN must be a policy ARN that fits in a tag value.
func TestContainPolicyARNInput(t *testing.T) {
	for arn, ok := range map[string]bool{
		"arn:aws:iam::aws:policy/" + QuarantinePolicyName:        true,
		"arn:aws-cn:iam::123456789012:policy/team/Quarantine@v2": true,
		"Quarantine":                                          false,
		"arn:aws:iam::123456789012:policy/a,b":                false,
		"arn:aws:iam::123456789012:role/x":                    false,
		"arn:aws:iam::aws:policy/" + strings.Repeat("a", 240): false,
	} {
		_, err := ContainLeakedKey(context.Background(), &ctFake{t: t, owner: "alice", keys: []string{stA}}, stA, func(o *ContainOptions) {
			o.QuarantinePolicyARN, o.DryRun = arn, true
		})
		if got := !errors.Is(err, ErrInvalidInput); got != ok {
			t.Errorf("%s: %v", arn, err)
		}
	}
}

// The sessions policy is a Deny of everything for tokens issued before
// the containment.
func TestSessionsPolicy(t *testing.T) {
	doc, err := sessionsPolicy(stT0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := awsguard.ParsePolicyDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Statement.List[0]
	if st.Effect != "Deny" || !st.Action.Contains("*") || !st.Resource.Contains("*") || !st.Condition["DateLessThan"]["aws:TokenIssueTime"].Contains("2026-01-02T03:04:05Z") {
		t.Errorf("policy %s", doc)
	}
}
