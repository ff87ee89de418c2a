package keyrotate

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// ContainReadAPI is the part of *iam.Client that finds a key's user and
// reads its containment: the key's owner and last use, the user, its keys,
// tags, attached and inline policies.
type ContainReadAPI interface {
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListUserPolicies(context.Context, *iam.ListUserPoliciesInput, ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
}

// ContainAPI is the part of *iam.Client that ContainLeakedKey calls.
type ContainAPI interface {
	ContainReadAPI
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	DeleteLoginProfile(context.Context, *iam.DeleteLoginProfileInput, ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	TagUser(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error)
}

// ReleaseAPI is the part of *iam.Client that ReleaseContainment calls.
type ReleaseAPI interface {
	ContainReadAPI
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DetachUserPolicy(context.Context, *iam.DetachUserPolicyInput, ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DeleteUserPolicy(context.Context, *iam.DeleteUserPolicyInput, ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	UntagUser(context.Context, *iam.UntagUserInput, ...func(*iam.Options)) (*iam.UntagUserOutput, error)
}

var (
	_ ContainReadAPI = (*iam.Client)(nil)
	_ ContainAPI     = (*iam.Client)(nil)
	_ ReleaseAPI     = (*iam.Client)(nil)
)

// ContainOptions tune ContainLeakedKey. The zero value deactivates the
// key and attaches AWSCompromisedKeyQuarantineV3.
type ContainOptions struct {
	// DryRun plans and changes nothing.
	DryRun bool
	// QuarantinePolicyARN is the managed policy to attach; default the
	// AWS managed QuarantinePolicyName in the user's partition. At most
	// 240 characters (it is recorded in a tag).
	QuarantinePolicyARN string
	// RevokeSessions also puts an inline policy (SessionsPolicyName)
	// denying every action to sessions issued before now
	// (aws:TokenIssueTime), so that temporary credentials minted with the
	// key stop working too. It denies older sessions of the user's other
	// credentials as well.
	RevokeSessions bool
	// DisableConsole also deletes the user's console password. A release
	// cannot restore it: the user needs a new one (iam:CreateLoginProfile).
	DisableConsole bool
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Progress, if set, receives an event per action.
	Progress func(awsguard.Progress)
}

// ReleaseOptions tune ReleaseContainment.
type ReleaseOptions struct {
	DryRun bool
	// AllowWeaken lets the release reactivate the key (an action marked
	// Weakening); without it a release that would do so is refused with
	// an *awsguard.WeakeningError and changes nothing.
	AllowWeaken bool
	// User, if set, names the key's user: the containment is read from
	// the user's records, so the release works when the leaked key was
	// deleted (DeleteLeakedKey, ReplaceOptions.DeleteLeaked).
	User     string
	Logger   *slog.Logger
	Progress func(awsguard.Progress)
}

// Containment is what ContainLeakedKey and ReleaseContainment return: an
// awsguard.Plan (Resource = the key) and what they found.
type Containment struct {
	awsguard.Plan
	KeyID   string `json:"key_id"`
	User    string `json:"user,omitempty"`
	UserARN string `json:"user_arn,omitempty"`
	// State is what the run found (see ContainState).
	State ContainState `json:"state"`
	// KeyStatus is the key's status when the run began.
	KeyStatus string `json:"key_status,omitempty"`
	// LastUsed is what IAM reports of the key's last use, nil if never.
	LastUsed *LastUse `json:"last_used,omitempty"`
	// OtherKeys are the user's other keys, left untouched.
	OtherKeys []string `json:"other_keys,omitempty"`
	// NewKey is the key ReplaceLeakedKey created (its Secret redacts
	// itself); nil for the other operations and when no key was created.
	NewKey *AccessKey `json:"new_key,omitempty"`
	// Summary says in one line what the run did or why it did nothing.
	Summary string `json:"summary"`
}

var policyARNRE = regexp.MustCompile(`^arn:[a-z-]+:iam::(aws|\d{12}):policy/[\w.:/=+\-@]+$`)

var accessKeyIDRE = regexp.MustCompile(`^AKIA[A-Z0-9]{16,124}$`)

func validateKeyID(op, id string) error {
	if !accessKeyIDRE.MatchString(id) {
		return inputError(op, "accessKeyID", id, "a long-term access key ID: AKIA followed by 16 or more capital letters and digits "+
			"(temporary ASIA keys cannot be deactivated: revoke the role's sessions)")
	}
	return nil
}

// ContainLeakedKey contains a leaked access key from its ID alone: it
// finds the key's user (iam:GetAccessKeyLastUsed names it, iam:ListAccessKeys
// confirms it), then, first mutating call first, deactivates the key,
// records it on the user, and attaches the quarantine policy; on request
// it also denies sessions issued before now and deletes the console
// password. Each step is recorded on the user (TagContain*) before or
// right after it is taken, so a re-run carries out only what is left and
// ReleaseContainment undoes exactly what was done. A second run on a
// contained key changes nothing (Reason ReasonAlreadyCompliant).
//
// A key of the root user is refused (ErrRootKey), as is a key IAM does not
// know in this account (ErrKeyNotFound, also for a key of another account).
// The leaked secret is never needed.
//
// Permissions: iam:GetAccessKeyLastUsed, iam:GetUser, iam:ListAccessKeys,
// iam:ListUserTags, iam:ListAttachedUserPolicies, iam:ListUserPolicies,
// iam:GetLoginProfile, iam:UpdateAccessKey, iam:AttachUserPolicy,
// iam:PutUserPolicy, iam:DeleteLoginProfile, iam:TagUser.
func ContainLeakedKey(ctx context.Context, api ContainAPI, accessKeyID string, optFns ...func(*ContainOptions)) (*Containment, error) {
	const op = "keyrotate.ContainLeakedKey"
	var o ContainOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := validateKeyID(op, accessKeyID); err != nil {
		return nil, err
	}
	if a := o.QuarantinePolicyARN; a != "" && (len(a) > 240 || !policyARNRE.MatchString(a)) {
		return nil, inputError(op, "ContainOptions.QuarantinePolicyARN", a, "a managed policy ARN (arn:PARTITION:iam::ACCOUNT:policy/NAME) of at most 240 characters "+
			"of letters, digits and _.:/=+-@ (it is recorded in a tag)")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Containment{Plan: awsguard.Plan{Operation: op, Resource: accessKeyID, DryRun: o.DryRun, Actions: []awsguard.Action{}}, KeyID: accessKeyID}
	login := func(ctx context.Context, user string) (bool, error) {
		if !o.DisableConsole {
			return false, nil
		}
		return hasLoginProfile(ctx, api, user)
	}
	l, err := readContain(ctx, api, accessKeyID, login, c)
	if err != nil {
		return c, err
	}
	w := containWant{policyARN: o.QuarantinePolicyARN, revokeSessions: o.RevokeSessions, disableConsole: o.DisableConsole, now: o.Now()}
	if w.policyARN == "" {
		w.policyARN = "arn:" + partitionOf(l.arn) + ":iam::aws:policy/" + QuarantinePolicyName
	}
	if a := l.rec.PolicyARN; a != "" && a != w.policyARN {
		c.Warnings = append(c.Warnings, "the records name quarantine policy "+a+": the re-run keeps it rather than "+w.policyARN)
		w.policyARN = a
	}
	c.State = classifyContain(l, w)
	if c.State == ContainOtherKey {
		c.Reason = awsguard.ReasonRefused
		c.Summary = "refused: the records on " + l.user + " name " + l.rec.KeyID
		return c, fmt.Errorf("%w: %s names %s, not %s", ErrContainedOtherKey, l.user, l.rec.KeyID, accessKeyID)
	}
	p := planContain(l, w)
	c.Actions = append(c.Actions, p.Actions...)
	r := &containRun{api: api, l: l, w: w}
	err = c.Apply(ctx, r.do, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress,
		ToDo: "run ContainLeakedKey again: it carries out only what is left; the key is never reactivated"})
	c.Summary = containSummary(c, "contained")
	return c, err
}

// partitionOf returns the partition of an ARN ("aws" if unreadable).
func partitionOf(arn string) string {
	if f := strings.SplitN(arn, ":", 3); len(f) == 3 && f[1] != "" {
		return f[1]
	}
	return "aws"
}

func containSummary(c *Containment, verb string) string {
	switch {
	case c.Reason == awsguard.ReasonFailed:
		return "failed: see the error; done: " + strings.Join(doneActions(c.Actions), "; ")
	case len(c.Actions) == 0 && verb == "contained":
		return c.KeyID + " of " + c.User + " is already contained: nothing to do"
	case len(c.Actions) == 0 && verb == "released":
		return "no containment of " + c.KeyID + " to release: nothing to do"
	case len(c.Actions) == 0:
		return c.KeyID + " of " + c.User + " is already " + verb + ": nothing to do"
	case c.DryRun:
		return fmt.Sprintf("dry run: %d actions planned, none taken", len(c.Actions))
	}
	return fmt.Sprintf("%s %s of %s: %s", verb, c.KeyID, c.User, strings.Join(doneActions(c.Actions), "; "))
}

func doneActions(as []awsguard.Action) []string {
	var out []string
	for _, a := range as {
		if a.Outcome == awsguard.OutcomeDone {
			out = append(out, a.String())
		}
	}
	return out
}

func hasLoginProfile(ctx context.Context, api ContainAPI, user string) (bool, error) {
	_, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	switch {
	case awserr.HasCode(err, "NoSuchEntity"):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("keyrotate: get login profile of %s: %w", user, err)
	}
	return true, nil
}
