package waf

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// RemoveOptions tune RemoveSQLiACL. The zero value means the defaults.
type RemoveOptions struct {
	// Name is the web ACL's name; default DefaultName.
	Name string
	// Force deletes the ACL even when other resources use it (they are
	// disassociated first) or when the service cannot say which resources
	// use it (ListResourcesForWebACL unavailable).
	Force bool
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// LockRetries is how many times the delete re-reads the lock token
	// after a WAFOptimisticLockException; default 5.
	LockRetries int
	// Logger receives one record per action; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event per action.
	Progress func(awsguard.Progress)
}

// Removal is what RemoveSQLiACL found, planned and did.
type Removal struct {
	Name string `json:"name"`
	ALB  string `json:"alb"`
	// ARN is the named ACL's ARN, or empty when it does not exist.
	ARN string `json:"arn,omitempty"`
	// Managed is true when the ACL carries the awsguard:managed tag (only
	// then is it deleted).
	Managed bool `json:"managed"`
	// OtherResources are the resources besides the ALB that use the ACL,
	// as ListResourcesForWebACL answered; AssociationsKnown is false when
	// it could not be asked.
	OtherResources    []string      `json:"other_resources,omitempty"`
	AssociationsKnown bool          `json:"associations_known"`
	Plan              awsguard.Plan `json:"plan"`
}

// regionalResourceTypes are the resource types a REGIONAL web ACL can
// protect, as ListResourcesForWebACL asks for them one type at a time.
var regionalResourceTypes = []types.ResourceType{
	types.ResourceTypeApplicationLoadBalancer, types.ResourceTypeApiGateway, types.ResourceTypeAppsync,
	types.ResourceTypeCognitioUserPool, types.ResourceTypeAppRunnerService, types.ResourceTypeVerifiedAccessInstance,
	types.ResourceTypeAmplify,
}

// RemoveSQLiACL undoes AttachSQLiACL: it disassociates the named web ACL
// from the ALB, then deletes the ACL with its LockToken (re-reading it on
// WAFOptimisticLockException).
//
// It never deletes blindly:
//   - an ACL without the awsguard:managed=true tag is only disassociated;
//   - an ACL that ListResourcesForWebACL shows on other resources is kept
//     (ErrACLInUse) unless RemoveOptions.Force, which disassociates them
//     first;
//   - when ListResourcesForWebACL fails or is not offered (moto does not
//     implement it), the ACL is kept and the error is
//     ErrAssociationsUnknown, unless RemoveOptions.Force. The ALB is
//     disassociated in both cases: that is what was asked.
//
// An ALB protected by another ACL is left alone. A re-run after an
// interruption finds the ACL by name and finishes; with nothing left it
// returns a plan with Reason "nothing to remove".
//
// Permissions: the methods of RemoveWAF, and
// elasticloadbalancing:SetWebACL.
func RemoveSQLiACL(ctx context.Context, api RemoveWAF, albARN string, optFns ...func(*RemoveOptions)) (*Removal, error) {
	var o RemoveOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if err := validateName(OpRemove, o.Name); err != nil {
		return nil, err
	}
	if err := validateALBARN(OpRemove, "albARN", albARN); err != nil {
		return nil, err
	}
	if o.LockRetries < 0 {
		return nil, &awsguard.InputError{Operation: OpRemove, Field: "RemoveOptions.LockRetries", Value: fmt.Sprint(o.LockRetries), Allowed: ">= 0 (0 for the default, 5)"}
	}
	if o.LockRetries == 0 {
		o.LockRetries = defaultLockRetries
	}
	if api == nil {
		return nil, &awsguard.InputError{Operation: OpRemove, Field: "api", Value: "nil", Allowed: "a WAFv2 client"}
	}
	res := &Removal{Name: o.Name, ALB: albARN, Plan: awsguard.Plan{Operation: OpRemove, Resource: albARN, DryRun: o.DryRun}}

	acl, err := findACL(ctx, api, o.Name)
	if err != nil {
		return nil, err
	}
	assoc, err := aclForResource(ctx, api, albARN)
	if err != nil {
		return nil, err
	}
	p := &res.Plan
	if acl == nil {
		if assoc != "" {
			p.Warnings = append(p.Warnings, "the ALB is protected by web ACL "+assoc+", not by "+o.Name+": left alone")
		}
		p.Reason = awsguard.ReasonNothingToRemove
		return res, nil
	}
	res.ARN, res.Managed = aws.ToString(acl.ACL.ARN), acl.Managed
	if assoc == res.ARN {
		p.Add(awsguard.Action{Kind: ActionDisassociateACL, Call: "wafv2:DisassociateWebACL", Resource: albARN,
			Detail: fmt.Sprintf("disassociate web ACL %s from the ALB", o.Name), Why: "RemoveSQLiACL was asked"})
	} else if assoc != "" {
		p.Warnings = append(p.Warnings, "the ALB is protected by web ACL "+assoc+", not by "+o.Name+": left alone")
	}

	var refusal error
	if !acl.Managed {
		p.Warnings = append(p.Warnings, fmt.Sprintf("web ACL %s has no %s=true tag: awsguard did not create it, so it is not deleted", o.Name, TagManaged))
	} else {
		others, known, lerr := otherResources(ctx, api, res.ARN, albARN)
		res.OtherResources, res.AssociationsKnown = others, known
		switch {
		case !known && !o.Force:
			p.Warnings = append(p.Warnings, "web ACL "+o.Name+" is kept: the resources that use it cannot be listed ("+errText(lerr)+"); set RemoveOptions.Force to delete it anyway")
			refusal = fmt.Errorf("%w: %s: %w", ErrAssociationsUnknown, o.Name, lerr)
		case len(others) > 0 && !o.Force:
			p.Warnings = append(p.Warnings, "web ACL "+o.Name+" is kept: it still protects "+strings.Join(others, ", ")+"; set RemoveOptions.Force to delete it anyway")
			refusal = fmt.Errorf("%w: %s protects %s", ErrACLInUse, o.Name, strings.Join(others, ", "))
		default:
			if !known {
				p.Warnings = append(p.Warnings, "the resources that use web ACL "+o.Name+" cannot be listed; deleted because RemoveOptions.Force is set")
			}
			for _, other := range others {
				p.Add(awsguard.Action{Kind: ActionDisassociateACL, Call: "wafv2:DisassociateWebACL", Resource: other,
					Detail: fmt.Sprintf("disassociate web ACL %s from %s", o.Name, other), Why: "RemoveOptions.Force is set"})
			}
			p.Add(awsguard.Action{Kind: ActionDeleteACL, Call: "wafv2:GetWebACL,wafv2:DeleteWebACL", Resource: res.ARN,
				Detail: "delete web ACL " + o.Name, Why: "awsguard created it and nothing else uses it"})
		}
	}
	if len(p.Actions) == 0 && refusal == nil {
		p.Reason = awsguard.ReasonNothingToRemove
	}
	err = p.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionDisassociateACL:
			_, err := api.DisassociateWebACL(ctx, &wafv2.DisassociateWebACLInput{ResourceArn: aws.String(a.Resource)})
			if awserr.HasCode(err, "WAFNonexistentItemException") {
				a.Outcome = awsguard.OutcomeSkipped
				return nil
			}
			if err != nil {
				return fmt.Errorf("waf: disassociate %s from %s: %w", o.Name, a.Resource, err)
			}
			return nil
		case ActionDeleteACL:
			return deleteACL(ctx, api, acl, &o)
		}
		return fmt.Errorf("waf: unknown action %s", a.Kind)
	}, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress, ToDo: "run RemoveSQLiACL again: it carries out only what is left"})
	if err != nil {
		return res, err
	}
	if refusal != nil {
		if !p.Applied && !p.DryRun {
			p.Reason = awsguard.ReasonRefused
		}
		return res, refusal
	}
	return res, nil
}

// otherResources lists the resources other than alb that use the ACL, and
// whether that could be told.
func otherResources(ctx context.Context, api RemoveWAF, aclARN, alb string) ([]string, bool, error) {
	var out []string
	for _, t := range regionalResourceTypes {
		page, err := api.ListResourcesForWebACL(ctx, &wafv2.ListResourcesForWebACLInput{WebACLArn: aws.String(aclARN), ResourceType: t})
		if err != nil {
			return nil, false, err
		}
		for _, r := range page.ResourceArns {
			if r != alb && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out, true, nil
}

type aclDeleter interface {
	aclGetter
	DeleteWebACL(context.Context, *wafv2.DeleteWebACLInput, ...func(*wafv2.Options)) (*wafv2.DeleteWebACLOutput, error)
}

// deleteACL deletes the ACL with a fresh lock token, re-reading it on
// WAFOptimisticLockException. A gone ACL counts as deleted.
func deleteACL(ctx context.Context, api aclDeleter, acl *aclView, o *RemoveOptions) error {
	name, id := aws.ToString(acl.ACL.Name), aws.ToString(acl.ACL.Id)
	for attempt := 0; ; attempt++ {
		cur, err := getACL(ctx, api, name, id)
		if err != nil {
			return err
		}
		if cur == nil {
			return nil
		}
		_, err = api.DeleteWebACL(ctx, &wafv2.DeleteWebACLInput{Name: aws.String(name), Id: aws.String(id), Scope: types.ScopeRegional, LockToken: aws.String(cur.LockToken)})
		switch {
		case err == nil, awserr.HasCode(err, "WAFNonexistentItemException"):
			return nil
		case !awserr.HasCode(err, "WAFOptimisticLockException"):
			return fmt.Errorf("waf: delete web ACL %s: %w", name, err)
		case attempt >= o.LockRetries:
			return fmt.Errorf("%w: delete %s after %d attempts: %w", ErrLockConflict, name, attempt+1, err)
		}
	}
}
