package waf_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/waf"
)

// On moto, ListResourcesForWebACL is not implemented: the ALB is
// disassociated, the ACL kept and the error says why; Force deletes it;
// the re-run has nothing to remove.
func TestRemoveMoto(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")
	if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named); err != nil {
		t.Fatal(err)
	}
	named := func(o *waf.RemoveOptions) { o.Name = w.name }

	c := apicalls.New()
	dry, err := waf.RemoveSQLiACL(ctx, w.wafWith(c, nil), alb, named, func(o *waf.RemoveOptions) { o.DryRun = true })
	if !errors.Is(err, waf.ErrAssociationsUnknown) || mutatingCalls(c) != 0 || dry.Plan.Reason != awsguard.ReasonDryRun {
		t.Fatalf("dry run: err = %v, %s, plan %+v", err, c, dry.Plan)
	}

	rem, err := waf.RemoveSQLiACL(ctx, w.waf, alb, named)
	if !errors.Is(err, waf.ErrAssociationsUnknown) || rem.AssociationsKnown || !rem.Plan.Applied {
		t.Fatalf("err = %v, result %+v", err, rem)
	}
	if w.associated(alb) != "" {
		t.Error("the ALB is still associated")
	}
	if _, ok := w.acls()[w.name]; !ok {
		t.Error("the ACL was deleted although its other uses are unknown")
	}
	t.Logf("kept: %v; warnings %v", err, rem.Plan.Warnings)

	rem, err = waf.RemoveSQLiACL(ctx, w.waf, alb, named, func(o *waf.RemoveOptions) { o.Force = true })
	if err != nil || !rem.Plan.Applied {
		t.Fatalf("forced: err = %v, result %+v", err, rem)
	}
	if len(w.acls()) != 0 {
		t.Errorf("ACLs left: %v", keys(w.acls()))
	}
	c.Reset()
	rem, err = waf.RemoveSQLiACL(ctx, w.wafWith(c, nil), alb, named)
	if err != nil || rem.Plan.Reason != awsguard.ReasonNothingToRemove || mutatingCalls(c) != 0 {
		t.Errorf("re-run: err = %v, plan %+v, %s", err, rem.Plan, c)
	}
}

// An ACL without the managed tag is only disassociated, never deleted,
// even with Force.
func TestRemoveUnmanagedMoto(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")
	acl, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.waf.UntagResource(ctx, &wafv2.UntagResourceInput{ResourceARN: aws.String(acl.ARN), TagKeys: []string{waf.TagManaged}}); err != nil {
		t.Fatal(err)
	}
	rem, err := waf.RemoveSQLiACL(ctx, w.waf, alb, func(o *waf.RemoveOptions) { o.Name, o.Force = w.name, true })
	if err != nil || rem.Managed || len(rem.Plan.Actions) != 1 || rem.Plan.Actions[0].Kind != waf.ActionDisassociateACL {
		t.Fatalf("err = %v, result %+v", err, rem)
	}
	if w.associated(alb) != "" {
		t.Error("still associated")
	}
	if _, ok := w.acls()[w.name]; !ok {
		t.Error("an ACL awsguard did not create was deleted")
	}
}

// With the associations known (a fake), an ACL used elsewhere is kept
// unless forced; forced, the others are disassociated first.
func TestRemoveInUse(t *testing.T) {
	ctx := context.Background()
	other := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/fedcba9876543210"
	f := &fakeWAF{}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast); err != nil {
		t.Fatal(err)
	}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, other, fakeFast); err != nil {
		t.Fatal(err)
	}
	rem, err := waf.RemoveSQLiACL(ctx, f, fakeALB)
	if !errors.Is(err, waf.ErrACLInUse) || len(f.acls) != 1 || len(rem.OtherResources) != 1 || rem.OtherResources[0] != other {
		t.Fatalf("err = %v, acls %d, result %+v", err, len(f.acls), rem)
	}
	if _, ok := f.assoc[fakeALB]; ok {
		t.Error("the ALB is still associated")
	}
	rem, err = waf.RemoveSQLiACL(ctx, f, fakeALB, func(o *waf.RemoveOptions) { o.Force = true })
	if err != nil || len(f.acls) != 0 || len(f.assoc) != 0 {
		t.Fatalf("forced: err = %v, acls %d, assoc %v, plan %v", err, len(f.acls), f.assoc, rem.Plan.Describe())
	}
	// Nothing left.
	rem, err = waf.RemoveSQLiACL(ctx, f, fakeALB)
	if err != nil || rem.Plan.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("re-run: %v %+v", err, rem.Plan)
	}
	if _, err := waf.RemoveSQLiACL(ctx, f, "arn:bad"); !errors.Is(err, awsguard.ErrInvalidInput) {
		t.Errorf("bad ARN: %v", err)
	}
}

// The delete meets a lock conflict and re-reads the token.
func TestRemoveLockConflict(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast); err != nil {
		t.Fatal(err)
	}
	racer := &racingDelete{fakeWAF: f}
	if _, err := waf.RemoveSQLiACL(ctx, racer, fakeALB); err != nil {
		t.Fatal(err)
	}
	if len(f.acls) != 0 || f.count("DeleteWebACL") != 2 {
		t.Errorf("acls %d, deletes %d", len(f.acls), f.count("DeleteWebACL"))
	}
}

type racingDelete struct {
	*fakeWAF
	raced bool
}

func (r *racingDelete) DeleteWebACL(ctx context.Context, in *wafv2.DeleteWebACLInput, o ...func(*wafv2.Options)) (*wafv2.DeleteWebACLOutput, error) {
	if !r.raced {
		r.raced = true
		r.mu.Lock()
		for _, a := range r.acls {
			a.token = r.nextToken()
		}
		r.mu.Unlock()
	}
	return r.fakeWAF.DeleteWebACL(ctx, in, o...)
}
