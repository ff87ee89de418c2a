package waf

import "errors"

// Sentinel errors. Match them with errors.Is. Input errors are
// *awsguard.InputError (errors.Is awsguard.ErrInvalidInput); a failed step
// is an *awsguard.StepError that wraps the cause.
var (
	// ErrALBNotFound: the load balancer does not exist. Nothing was changed.
	ErrALBNotFound = errors.New("waf: the load balancer does not exist")
	// ErrNotALB: the load balancer is not an application load balancer
	// (WAF protects only ALBs among load balancers). Nothing was changed.
	ErrNotALB = errors.New("waf: the load balancer is not an application load balancer")
	// ErrALBNotActive: the ALB did not become active within the wait.
	ErrALBNotActive = errors.New("waf: the load balancer is not active")
	// ErrOtherACL: the ALB is protected by another web ACL and the caller
	// did not set Options.ReplaceExisting. Nothing was changed; the plan
	// says which ACL it is.
	ErrOtherACL = errors.New("waf: the load balancer already has another web ACL")
	// ErrNotManaged: a web ACL of the wanted name exists without the
	// awsguard:managed=true tag: it is someone else's, and AttachSQLiACL
	// does not change it. Nothing was changed.
	ErrNotManaged = errors.New("waf: the web ACL was not created by awsguard")
	// ErrCapacity: CheckCapacity says the rules need more WCUs than
	// Options.MaxCapacity. Nothing was changed.
	ErrCapacity = errors.New("waf: the rules need more capacity than allowed")
	// ErrLockConflict: the web ACL kept changing under UpdateWebACL or
	// DeleteWebACL (WAFOptimisticLockException) beyond Options.LockRetries.
	ErrLockConflict = errors.New("waf: the web ACL kept changing during the update")
	// ErrUnavailable: AssociateWebACL kept answering
	// WAFUnavailableEntityException (a new ACL or ALB not yet visible to
	// WAF) for longer than Options.AssociateWait.
	ErrUnavailable = errors.New("waf: the web ACL or load balancer stayed unavailable to WAF")
	// ErrACLInUse: RemoveSQLiACL would delete a web ACL still associated
	// with other resources, and RemoveOptions.Force is not set. The ALB was
	// disassociated; the ACL was kept.
	ErrACLInUse = errors.New("waf: the web ACL is still associated with other resources")
	// ErrAssociationsUnknown: RemoveSQLiACL could not list the resources
	// associated with the web ACL (ListResourcesForWebACL failed or is not
	// offered), so it does not know whether deleting it would strip other
	// resources of their protection. The ALB was disassociated; the ACL was
	// kept. Set RemoveOptions.Force to delete it anyway.
	ErrAssociationsUnknown = errors.New("waf: cannot tell which resources use the web ACL")
)
