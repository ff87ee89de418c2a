package keyrotate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// rootUserNames are the names GetAccessKeyLastUsed gives a root user's key.
var rootUserNames = map[string]bool{"": true, "root": true, "<root_account>": true}

// readContain finds the key's user and reads the containment state,
// filling in c's findings as it goes.
func readContain(ctx context.Context, api ContainReadAPI, keyID string, login func(context.Context, string) (bool, error), c *Containment) (*containLive, error) {
	lu, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	switch {
	case awserr.HasCode(err, "NoSuchEntity"):
		c.Reason = awsguard.ReasonRefused
		return nil, fmt.Errorf("%w: %s: if it belongs to another account (sts:GetAccessKeyInfo names it), contain it with that account's credentials", ErrKeyNotFound, keyID)
	case err != nil:
		return nil, fmt.Errorf("keyrotate: get last use of %s: %w", keyID, err)
	}
	user := aws.ToString(lu.UserName)
	if rootUserNames[user] {
		c.Reason = awsguard.ReasonRefused
		return nil, fmt.Errorf("%w: %s: sign in as the root user, delete the key (Security credentials), then change the root password and MFA", ErrRootKey, keyID)
	}
	c.User = user
	if u := lu.AccessKeyLastUsed; u != nil && u.LastUsedDate != nil {
		c.LastUsed = &LastUse{Date: aws.ToTime(u.LastUsedDate), Service: aws.ToString(u.ServiceName), Region: aws.ToString(u.Region)}
	}
	l, err := readContainUser(ctx, api, user, keyID, false, c)
	if err != nil {
		return nil, err
	}
	if l.login, err = login(ctx, user); err != nil {
		return nil, err
	}
	return l, nil
}

// readContainUser reads the containment state of keyID on user. With
// byUser (the caller named the user, the key may be gone), a key the
// user's records name but IAM no longer lists is a deleted key (status
// ""); otherwise a key the user does not list is ErrKeyNotConfirmed.
func readContainUser(ctx context.Context, api ContainReadAPI, user, keyID string, byUser bool, c *Containment) (*containLive, error) {
	u, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("keyrotate: get user %s: %w", user, err)
	}
	c.User = user
	l := &containLive{keyID: keyID, user: user, arn: aws.ToString(u.User.Arn), attached: map[string]bool{}, keys: map[string]types.StatusType{}}
	c.UserARN = l.arn
	if l.rec, err = readContainRecord(ctx, api, user); err != nil {
		return nil, err
	}
	if err := l.readKeys(ctx, api, c, byUser && l.rec.KeyID == keyID); err != nil {
		return nil, err
	}
	c.KeyStatus = string(l.status)
	if err := l.readPolicies(ctx, api); err != nil {
		return nil, err
	}
	return l, nil
}

// readKeys finds the leaked key among the user's keys: the confirmation
// that the user GetAccessKeyLastUsed names holds it. With mayBeGone a
// missing key is a deleted one.
func (l *containLive) readKeys(ctx context.Context, api ContainReadAPI, c *Containment, mayBeGone bool) error {
	found := false
	var ids []string
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(l.user)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("keyrotate: list access keys of %s: %w", l.user, err)
		}
		for _, k := range page.AccessKeyMetadata {
			id := aws.ToString(k.AccessKeyId)
			ids = append(ids, id+" ("+string(k.Status)+")")
			l.keys[id] = k.Status
			if id == l.keyID {
				l.status, found = k.Status, true
				continue
			}
			c.OtherKeys = append(c.OtherKeys, id)
		}
	}
	if !found && !mayBeGone {
		c.Reason = awsguard.ReasonRefused
		return fmt.Errorf("%w: %s lists %v, not %s; nothing was changed", ErrKeyNotConfirmed, l.user, ids, l.keyID)
	}
	return nil
}

func (l *containLive) readPolicies(ctx context.Context, api ContainReadAPI) error {
	ap := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(l.user)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("keyrotate: list attached policies of %s: %w", l.user, err)
		}
		for _, p := range page.AttachedPolicies {
			l.attached[aws.ToString(p.PolicyArn)] = true
		}
	}
	ip := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: aws.String(l.user)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("keyrotate: list inline policies of %s: %w", l.user, err)
		}
		for _, n := range page.PolicyNames {
			l.inline = l.inline || n == SessionsPolicyName
		}
	}
	return nil
}

func readContainRecord(ctx context.Context, api ContainReadAPI, user string) (containRecord, error) {
	var rec containRecord
	tp := iam.NewListUserTagsPaginator(api, &iam.ListUserTagsInput{UserName: aws.String(user)})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return rec, fmt.Errorf("keyrotate: list tags of %s: %w", user, err)
		}
		for _, t := range page.Tags {
			rec.addTag(aws.ToString(t.Key), aws.ToString(t.Value))
		}
	}
	return rec, nil
}

// sessionsPolicy denies every action to sessions issued before t.
func sessionsPolicy(t time.Time) (string, error) {
	doc := awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Sid: "DenySessionsIssuedBeforeContainment", Effect: "Deny",
		Action: awsguard.StringValue("*"), Resource: awsguard.StringValue("*"),
		Condition: map[string]map[string]awsguard.Strings{"DateLessThan": {"aws:TokenIssueTime": awsguard.StringValue(t.UTC().Format(time.RFC3339))}},
	}}}}
	b, err := json.Marshal(doc)
	return string(b), err
}

// containRun carries out a containment plan.
type containRun struct {
	api ContainAPI
	l   *containLive
	w   containWant
}

func (r *containRun) tag(ctx context.Context, k, v string) error {
	_, err := r.api.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(r.l.user), Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}})
	if err != nil {
		return fmt.Errorf("keyrotate: tag %s with %s: %w", r.l.user, k, err)
	}
	return nil
}

func (r *containRun) do(ctx context.Context, a *awsguard.Action) error {
	user, at := aws.String(r.l.user), " at="+r.w.now.UTC().Format(time.RFC3339)
	var err error
	switch a.Kind {
	case ActionContainDeactivate:
		_, err = r.api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: user, AccessKeyId: aws.String(r.l.keyID), Status: types.StatusTypeInactive})
	case ActionContainRecordKey:
		return r.tag(ctx, TagContainKey, r.l.keyRecord(r.w.now))
	case ActionContainQuarantine:
		if err = r.tag(ctx, TagContainPolicy, r.w.policyARN); err == nil {
			_, err = r.api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: aws.String(r.w.policyARN)})
		}
	case ActionContainSessions:
		var doc string
		if doc, err = sessionsPolicy(r.w.now); err == nil {
			if err = r.tag(ctx, TagContainSessions, SessionsPolicyName+at); err == nil {
				_, err = r.api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String(SessionsPolicyName), PolicyDocument: aws.String(doc)})
			}
		}
	case ActionContainLogin:
		if err = r.tag(ctx, TagContainLogin, "deleted"+at); err == nil {
			_, err = r.api.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user})
		}
	default:
		return fmt.Errorf("keyrotate: unknown containment action %q", a.Kind)
	}
	if err != nil {
		return fmt.Errorf("keyrotate: %s: %w", a.String(), err)
	}
	return nil
}

// ReleaseContainment undoes exactly what ContainLeakedKey recorded on the
// key's user (for a false alarm): it detaches the quarantine policy and
// deletes the sessions policy if containment added them, reactivates the
// key only if containment deactivated it (weakening: refused unless
// ReleaseOptions.AllowWeaken), and removes the records. A key that was
// Inactive before containment stays Inactive. A console password that
// containment deleted cannot be restored: the plan's Warnings say so, and
// the user needs a new one. A second call finds nothing to remove. After
// ReplaceLeakedKey the leaked key is never reactivated; with
// ReleaseOptions.User the release works from the user's records even
// when the leaked key was deleted.
//
// Permissions: iam:GetAccessKeyLastUsed, iam:GetUser, iam:ListAccessKeys,
// iam:ListUserTags, iam:ListAttachedUserPolicies, iam:ListUserPolicies,
// iam:UpdateAccessKey, iam:DetachUserPolicy, iam:DeleteUserPolicy,
// iam:UntagUser.
func ReleaseContainment(ctx context.Context, api ReleaseAPI, accessKeyID string, optFns ...func(*ReleaseOptions)) (*Containment, error) {
	const op = "keyrotate.ReleaseContainment"
	var o ReleaseOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := validateKeyID(op, accessKeyID); err != nil {
		return nil, err
	}
	c := &Containment{Plan: awsguard.Plan{Operation: op, Resource: accessKeyID, DryRun: o.DryRun, Actions: []awsguard.Action{}}, KeyID: accessKeyID}
	var l *containLive
	var err error
	if o.User != "" {
		if err := validateUser(op, "ReleaseOptions.User", o.User); err != nil {
			return nil, err
		}
		l, err = readContainUser(ctx, api, o.User, accessKeyID, true, c)
	} else {
		noLogin := func(context.Context, string) (bool, error) { return false, nil }
		l, err = readContain(ctx, api, accessKeyID, noLogin, c)
	}
	if err != nil {
		return c, err
	}
	c.State = classifyContain(l, containWant{policyARN: l.rec.PolicyARN, revokeSessions: l.rec.Sessions})
	if c.State == ContainOtherKey {
		c.Reason = awsguard.ReasonRefused
		return c, fmt.Errorf("%w: %s names %s, not %s", ErrContainedOtherKey, l.user, l.rec.KeyID, accessKeyID)
	}
	p := planRelease(l)
	c.Actions, c.Reason = append(c.Actions, p.Actions...), p.Reason
	if l.rec.Login {
		c.Warnings = append(c.Warnings, "containment deleted the console password of "+l.user+"; it cannot be restored: create a new one (iam:CreateLoginProfile) if the user needs the console")
	}
	r := &releaseRun{api: api, l: l}
	err = c.Apply(ctx, r.do, awsguard.ApplyOptions{AllowWeaken: o.AllowWeaken, Logger: o.Logger, Progress: o.Progress,
		ToDo: "run ReleaseContainment again: it undoes only what is left"})
	c.Summary = containSummary(c, "released")
	return c, err
}

type releaseRun struct {
	api ReleaseAPI
	l   *containLive
}

func (r *releaseRun) do(ctx context.Context, a *awsguard.Action) error {
	user := aws.String(r.l.user)
	var err error
	switch a.Kind {
	case ActionReleaseQuarantine:
		_, err = r.api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: aws.String(r.l.rec.PolicyARN)})
	case ActionReleaseSessions:
		_, err = r.api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(SessionsPolicyName)})
	case ActionReleaseReactivate:
		_, err = r.api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: user, AccessKeyId: aws.String(r.l.keyID), Status: types.StatusTypeActive})
	case ActionReleaseClear:
		_, err = r.api.UntagUser(ctx, &iam.UntagUserInput{UserName: user, TagKeys: r.l.rec.tagKeys})
	default:
		return fmt.Errorf("keyrotate: unknown release action %q", a.Kind)
	}
	if awserr.HasCode(err, "NoSuchEntity") && a.Kind != ActionReleaseReactivate {
		return nil // already gone
	}
	if err != nil {
		return fmt.Errorf("keyrotate: %s: %w", a.String(), err)
	}
	return nil
}
