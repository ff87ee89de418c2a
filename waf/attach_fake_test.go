package waf_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/waf"
)

const fakeALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"

func fakeFast(o *waf.Options) {
	o.RetryMinDelay, o.RetryMaxDelay, o.AssociateWait = time.Millisecond, 2*time.Millisecond, 2*time.Second
}

// AssociateWebACL answers WAFUnavailableEntityException a few times, as
// it does for minutes after a new ACL: the association is retried with
// backoff and succeeds; past the bound the error is ErrUnavailable and
// the ACL is kept for a re-run.
func TestAttachRetriesUnavailable(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{}
	fails := 3
	f.associateWebACL = func(*wafv2.AssociateWebACLInput) (*wafv2.AssociateWebACLOutput, error) {
		if fails > 0 {
			fails--
			return nil, apiErr("WAFUnavailableEntityException")
		}
		return nil, nil
	}
	acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.count("AssociateWebACL"); got != 4 || !acl.Plan.Applied {
		t.Errorf("AssociateWebACL calls %d, want 4; plan %+v", got, acl.Plan)
	}

	f = &fakeWAF{}
	f.associateWebACL = func(*wafv2.AssociateWebACLInput) (*wafv2.AssociateWebACLOutput, error) {
		return nil, apiErr("WAFUnavailableEntityException")
	}
	start := time.Now()
	_, err = waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.AssociateWait = 50 * time.Millisecond })
	var se *awsguard.StepError
	if !errors.Is(err, waf.ErrUnavailable) || !errors.As(err, &se) || se.Step != waf.ActionAssociateACL || se.ToDo == "" {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the bound of 50ms took %v", d)
	}
	if len(f.acls) != 1 || f.count("AssociateWebACL") < 2 {
		t.Errorf("acls %d, associate calls %d", len(f.acls), f.count("AssociateWebACL"))
	}
	// A re-run, the service ready, associates the kept ACL.
	f.associateWebACL = nil
	acl, err = waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast)
	if err != nil || acl.State != waf.ACLComplete || f.count("CreateWebACL") != 1 {
		t.Errorf("re-run: %v, state %v, creates %d", err, acl.State, f.count("CreateWebACL"))
	}
}

// The ALB is provisioning: the association waits until it is active; a
// missing ALB or a network load balancer is refused before any change.
func TestAttachALBState(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{}
	elb := &fakeELB{states: []elbtypes.LoadBalancerStateEnum{elbtypes.LoadBalancerStateEnumProvisioning, elbtypes.LoadBalancerStateEnumProvisioning, elbtypes.LoadBalancerStateEnumActive}}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: elb}, fakeALB, fakeFast); err != nil {
		t.Fatal(err)
	}
	if elb.calls != 3 || f.count("AssociateWebACL") != 1 {
		t.Errorf("describe calls %d, associate %d", elb.calls, f.count("AssociateWebACL"))
	}

	for _, tc := range []struct {
		elb  *fakeELB
		want error
	}{
		{&fakeELB{missing: true}, waf.ErrALBNotFound},
		{&fakeELB{typ: elbtypes.LoadBalancerTypeEnumNetwork}, waf.ErrNotALB},
	} {
		f := &fakeWAF{}
		_, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: tc.elb}, fakeALB, fakeFast)
		if !errors.Is(err, tc.want) || len(f.calls) != 0 {
			t.Errorf("err = %v, want %v; WAF calls %v", err, tc.want, f.calls)
		}
	}

	f = &fakeWAF{}
	elb = &fakeELB{states: []elbtypes.LoadBalancerStateEnum{elbtypes.LoadBalancerStateEnumProvisioning}}
	_, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: elb}, fakeALB, fakeFast, func(o *waf.Options) { o.AssociateWait = 30 * time.Millisecond })
	if !errors.Is(err, waf.ErrALBNotActive) || f.count("AssociateWebACL") != 0 {
		t.Errorf("err = %v; associate calls %d", err, f.count("AssociateWebACL"))
	}
}

// CheckCapacity decides: over the bound nothing is created; a service
// without CheckCapacity (moto's 500) leaves the capacity unknown and says
// so; another error (access denied) stops before any change.
func TestAttachCapacity(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{checkCapacity: func(*wafv2.CheckCapacityInput) (*wafv2.CheckCapacityOutput, error) {
		return &wafv2.CheckCapacityOutput{Capacity: 1700}, nil
	}}
	acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.Common = true })
	if !errors.Is(err, waf.ErrCapacity) || f.count("CreateWebACL") != 0 || acl.Capacity != 1700 || acl.Plan.Reason != awsguard.ReasonRefused {
		t.Fatalf("err = %v, creates %d, result %+v", err, f.count("CreateWebACL"), acl)
	}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.MaxCapacity = 2000 }); err != nil {
		t.Fatalf("MaxCapacity 2000: %v", err)
	}

	f = &fakeWAF{checkCapacity: func(*wafv2.CheckCapacityInput) (*wafv2.CheckCapacityOutput, error) { return nil, notImplemented() }}
	acl, err = waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast)
	if err != nil || acl.CapacityKnown || len(acl.Plan.Warnings) != 1 || !strings.Contains(acl.Plan.Warnings[0], "capacity unknown") {
		t.Fatalf("not offered: err = %v, result %+v", err, acl)
	}

	f = &fakeWAF{checkCapacity: func(*wafv2.CheckCapacityInput) (*wafv2.CheckCapacityOutput, error) {
		return nil, apiErr("AccessDeniedException")
	}}
	_, err = waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast)
	if err == nil || f.count("CreateWebACL") != 0 {
		t.Fatalf("access denied: err = %v, creates %d", err, f.count("CreateWebACL"))
	}
}

// notImplemented is what moto answers for CheckCapacity: HTTP 500 with an
// HTML page and no AWS error code.
func notImplemented() error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
		Err:      errors.New("failed to decode the error response"),
	}}
}

// Lock conflicts beyond LockRetries give ErrLockConflict.
func TestAttachLockConflictsExhausted(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast); err != nil {
		t.Fatal(err)
	}
	f.updateWebACL = func(*wafv2.UpdateWebACLInput) (*wafv2.UpdateWebACLOutput, error) {
		return nil, apiErr("WAFOptimisticLockException")
	}
	_, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.Common, o.LockRetries = true, 2 })
	if !errors.Is(err, waf.ErrLockConflict) || f.count("UpdateWebACL") != 3 {
		t.Errorf("err = %v, updates %d", err, f.count("UpdateWebACL"))
	}
}

// An ACL of the name without the managed tag is not changed.
func TestAttachForeignACL(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.acls {
		a.tags = nil
	}
	acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.Common = true })
	if !errors.Is(err, waf.ErrNotManaged) || acl.State != waf.ACLForeign || f.count("UpdateWebACL") != 0 {
		t.Errorf("err = %v, state %v, updates %d", err, acl.State, f.count("UpdateWebACL"))
	}
	// Already as wanted: used as it is.
	if acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast); err != nil || acl.State != waf.ACLComplete {
		t.Errorf("complete foreign ACL: err = %v, state %v", err, acl.State)
	}
}

// The replacement's association fails: the other ACL is put back.
func TestAttachReplaceRollback(t *testing.T) {
	ctx := context.Background()
	f := &fakeWAF{}
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.Name = "theirs" }); err != nil {
		t.Fatal(err)
	}
	theirs := f.assoc[fakeALB]
	f.associateWebACL = func(in *wafv2.AssociateWebACLInput) (*wafv2.AssociateWebACLOutput, error) {
		if *in.WebACLArn != theirs {
			return nil, apiErr("WAFInvalidParameterException")
		}
		return nil, nil
	}
	acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, fakeALB, fakeFast, func(o *waf.Options) { o.ReplaceExisting = true })
	var se *awsguard.StepError
	if !errors.As(err, &se) || len(se.RolledBack) != 1 || f.assoc[fakeALB] != theirs {
		t.Fatalf("err = %v; ALB's ACL %s, want %s", err, f.assoc[fakeALB], theirs)
	}
	if acl.Plan.Actions[1].Outcome != awsguard.OutcomeRolledBack {
		t.Errorf("actions %+v", acl.Plan.Actions)
	}
}
