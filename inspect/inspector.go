package inspect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/poll"
)

// The resource types Inspector scans that Enable, Disable and Status work
// on by default.
var DefaultResourceTypes = []i2types.ResourceScanType{
	i2types.ResourceScanTypeEc2, i2types.ResourceScanTypeEcr, i2types.ResourceScanTypeLambda, i2types.ResourceScanTypeLambdaCode,
}

// The kinds of the actions of Enable and Disable plans.
const (
	ActionEnable      = "enable"       // inspector2:Enable
	ActionDisable     = "disable"      // inspector2:Disable (weakening)
	ActionWaitEnabled = "wait-enabled" // inspector2:BatchGetAccountStatus until every type is ENABLED
	ActionWaitDisable = "wait-disabled"
)

// InspectorOptions tune Enable, Disable and Status.
type InspectorOptions struct {
	// ResourceTypes to enable, disable or read; default
	// DefaultResourceTypes.
	ResourceTypes []i2types.ResourceScanType
	// Account is passed as accountIds to Enable, Disable and
	// BatchGetAccountStatus; default none (the caller's account). The
	// emulator needs it.
	Account string
	// Region is reported in statuses and findings; default the client's.
	Region string
	// MaxWait bounds the wait for the wanted status; default 5 minutes.
	MaxWait time.Duration
	// PollMinDelay and PollMaxDelay bound the backoff between status
	// reads; defaults 5 s and 30 s.
	PollMinDelay, PollMaxDelay time.Duration
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// AllowWeaken must be true for Disable to apply: turning scanning off
	// weakens the account's security.
	AllowWeaken bool
	Logger      *slog.Logger
	Progress    func(awsguard.Progress)
	// Now stamps Audit's report; default time.Now.
	Now func() time.Time
}

// CheckInspectorOptions validates the options as Enable, Disable, Status
// and Audit do, without a call: a command line can refuse bad flags before
// it loads a configuration.
func CheckInspectorOptions(optFns ...func(*InspectorOptions)) error {
	_, err := inspectorOptions("inspect.CheckInspectorOptions", nil, optFns)
	return err
}

// needClient refuses a nil client before any call.
func needClient(op string, api any) error {
	if api == nil {
		return &awsguard.InputError{Operation: op, Field: "api", Value: "nil", Allowed: "a client (*inspector2.Client or *ec2.Client)"}
	}
	return nil
}

func inspectorOptions(op string, api any, optFns []func(*InspectorOptions)) (InspectorOptions, error) {
	var o InspectorOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.ResourceTypes == nil {
		o.ResourceTypes = slices.Clone(DefaultResourceTypes)
	}
	if len(o.ResourceTypes) == 0 {
		return o, &awsguard.InputError{Operation: op, Field: "InspectorOptions.ResourceTypes", Value: "[]", Allowed: "at least one of EC2, ECR, LAMBDA, LAMBDA_CODE"}
	}
	for i, t := range o.ResourceTypes {
		if !slices.Contains(DefaultResourceTypes, t) || slices.Index(o.ResourceTypes, t) != i {
			return o, &awsguard.InputError{Operation: op, Field: fmt.Sprintf("InspectorOptions.ResourceTypes[%d]", i), Value: string(t),
				Allowed: "distinct values of EC2, ECR, LAMBDA, LAMBDA_CODE"}
		}
	}
	if o.Account != "" && (len(o.Account) != 12 || strings.Trim(o.Account, "0123456789") != "") {
		return o, &awsguard.InputError{Operation: op, Field: "InspectorOptions.Account", Value: o.Account, Allowed: "a 12-digit account ID"}
	}
	if o.MaxWait < 0 || o.PollMinDelay < 0 || o.PollMaxDelay < 0 {
		return o, &awsguard.InputError{Operation: op, Field: "InspectorOptions.MaxWait", Value: o.MaxWait.String(), Allowed: "durations of 0 (default) or more"}
	}
	if o.MaxWait == 0 {
		o.MaxWait = 5 * time.Minute
	}
	if o.PollMinDelay == 0 {
		o.PollMinDelay = 5 * time.Second
	}
	if o.PollMaxDelay == 0 {
		o.PollMaxDelay = max(30*time.Second, o.PollMinDelay)
	}
	if o.Region == "" {
		if c, ok := api.(interface{ Options() inspector2.Options }); ok {
			o.Region = c.Options().Region
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// AccountStatus is Inspector's status in one account and region, per
// resource type.
type AccountStatus struct {
	Account string
	Region  string
	// State is the account's overall state.
	State i2types.Status
	// Resources holds the status of each resource type read.
	Resources map[i2types.ResourceScanType]i2types.Status
}

// Enabled reports whether every one of the types is ENABLED.
func (s *AccountStatus) Enabled(types []i2types.ResourceScanType) bool {
	return !slices.ContainsFunc(types, func(t i2types.ResourceScanType) bool { return s.Resources[t] != i2types.StatusEnabled })
}

// With returns the types whose status is st.
func (s *AccountStatus) With(types []i2types.ResourceScanType, st ...i2types.Status) []i2types.ResourceScanType {
	var out []i2types.ResourceScanType
	for _, t := range types {
		if slices.Contains(st, s.Resources[t]) {
			out = append(out, t)
		}
	}
	return out
}

func stateOf(rs *i2types.ResourceState, t i2types.ResourceScanType) *i2types.State {
	if rs == nil {
		return nil
	}
	switch t {
	case i2types.ResourceScanTypeEc2:
		return rs.Ec2
	case i2types.ResourceScanTypeEcr:
		return rs.Ecr
	case i2types.ResourceScanTypeLambda:
		return rs.Lambda
	case i2types.ResourceScanTypeLambdaCode:
		return rs.LambdaCode
	case i2types.ResourceScanTypeCodeRepository:
		return rs.CodeRepository
	}
	return nil
}

// Status reads Inspector's status in the client's region
// (inspector2:BatchGetAccountStatus). An account Inspector has never been
// enabled in is DISABLED for every type.
func Status(ctx context.Context, api StatusAPI, optFns ...func(*InspectorOptions)) (*AccountStatus, error) {
	o, err := inspectorOptions("inspect.Status", api, optFns)
	if err == nil {
		err = needClient("inspect.Status", api)
	}
	if err != nil {
		return nil, err
	}
	return readStatus(ctx, api, o)
}

func readStatus(ctx context.Context, api StatusAPI, o InspectorOptions) (*AccountStatus, error) {
	in := &inspector2.BatchGetAccountStatusInput{}
	if o.Account != "" {
		in.AccountIds = []string{o.Account}
	}
	out, err := api.BatchGetAccountStatus(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("inspect: Inspector status in %s: %w", o.Region, err)
	}
	st := &AccountStatus{Account: o.Account, Region: o.Region, State: i2types.StatusDisabled, Resources: map[i2types.ResourceScanType]i2types.Status{}}
	for _, t := range o.ResourceTypes {
		st.Resources[t] = i2types.StatusDisabled
	}
	for _, f := range out.FailedAccounts {
		if o.Account == "" || aws.ToString(f.AccountId) == o.Account {
			return nil, fmt.Errorf("inspect: Inspector status of account %s in %s: %s: %s", aws.ToString(f.AccountId), o.Region, f.ErrorCode, aws.ToString(f.ErrorMessage))
		}
	}
	for _, a := range out.Accounts {
		if o.Account != "" && aws.ToString(a.AccountId) != o.Account {
			continue
		}
		st.Account = aws.ToString(a.AccountId)
		if a.State != nil {
			st.State = a.State.Status
		}
		for _, t := range o.ResourceTypes {
			if s := stateOf(a.ResourceState, t); s != nil {
				st.Resources[t] = s.Status
			}
		}
		break
	}
	return st, nil
}

func typeList(ts []i2types.ResourceScanType) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = string(t)
	}
	return strings.Join(parts, ", ")
}

// Enable turns Inspector on for the resource types in the client's region
// and waits, polling BatchGetAccountStatus with bounded backoff, until
// every type is ENABLED (ErrWaitTimeout after MaxWait). Types already
// ENABLED are left alone: when all are, it makes no Enable call and says
// so (Reason "already compliant"); types already ENABLING are only waited
// for. A dry run returns the plan.
//
// Permissions: inspector2:BatchGetAccountStatus, inspector2:Enable (and,
// the first time, iam:CreateServiceLinkedRole for Inspector).
func Enable(ctx context.Context, api EnableAPI, optFns ...func(*InspectorOptions)) (*awsguard.Plan, error) {
	o, err := inspectorOptions("inspect.Enable", api, optFns)
	if err == nil {
		err = needClient("inspect.Enable", api)
	}
	if err != nil {
		return nil, err
	}
	return toggle(ctx, api, o, true, func(ctx context.Context, types []i2types.ResourceScanType) error {
		in := &inspector2.EnableInput{ResourceTypes: types}
		if o.Account != "" {
			in.AccountIds = []string{o.Account}
		}
		out, err := api.Enable(ctx, in)
		if err != nil {
			return err
		}
		return failedAccounts(out.FailedAccounts)
	})
}

// Disable turns Inspector off for the resource types in the client's
// region and waits until each is DISABLED. Turning scanning off weakens
// the account: the plan's disable action is Weakening and is refused
// unless Options.AllowWeaken. Types already DISABLED are left alone.
//
// Permissions: inspector2:BatchGetAccountStatus, inspector2:Disable.
func Disable(ctx context.Context, api DisableAPI, optFns ...func(*InspectorOptions)) (*awsguard.Plan, error) {
	o, err := inspectorOptions("inspect.Disable", api, optFns)
	if err == nil {
		err = needClient("inspect.Disable", api)
	}
	if err != nil {
		return nil, err
	}
	return toggle(ctx, api, o, false, func(ctx context.Context, types []i2types.ResourceScanType) error {
		in := &inspector2.DisableInput{ResourceTypes: types}
		if o.Account != "" {
			in.AccountIds = []string{o.Account}
		}
		out, err := api.Disable(ctx, in)
		if err != nil {
			return err
		}
		return failedAccounts(out.FailedAccounts)
	})
}

func failedAccounts(fs []i2types.FailedAccount) error {
	var errs []error
	for _, f := range fs {
		errs = append(errs, fmt.Errorf("account %s: %s: %s", aws.ToString(f.AccountId), f.ErrorCode, aws.ToString(f.ErrorMessage)))
	}
	return errors.Join(errs...)
}

func toggle(ctx context.Context, api StatusAPI, o InspectorOptions, enable bool, call func(context.Context, []i2types.ResourceScanType) error) (*awsguard.Plan, error) {
	op, want, pending, verb := "inspect.Enable", i2types.StatusEnabled, i2types.StatusEnabling, "enable"
	kind, wait := ActionEnable, ActionWaitEnabled
	if !enable {
		op, want, pending, verb = "inspect.Disable", i2types.StatusDisabled, i2types.StatusDisabling, "disable"
		kind, wait = ActionDisable, ActionWaitDisable
	}
	st, err := readStatus(ctx, api, o)
	if err != nil {
		return nil, err
	}
	plan := &awsguard.Plan{Operation: op, Resource: "inspector2/" + o.Region, DryRun: o.DryRun}
	var todo, waiting []i2types.ResourceScanType
	for _, t := range o.ResourceTypes {
		switch st.Resources[t] {
		case want:
		case pending:
			waiting = append(waiting, t)
		default:
			todo = append(todo, t)
		}
	}
	if len(todo) > 0 {
		plan.Add(awsguard.Action{Kind: kind, Call: "inspector2:" + strings.ToUpper(verb[:1]) + verb[1:], Resource: plan.Resource,
			Detail: fmt.Sprintf("%s Inspector for %s in %s", verb, typeList(todo), o.Region), Why: "not " + strings.ToLower(string(want)),
			Weakening: !enable})
	}
	if len(todo)+len(waiting) > 0 {
		all := append(slices.Clone(todo), waiting...)
		plan.Add(awsguard.Action{Kind: wait, Call: "inspector2:BatchGetAccountStatus", Resource: plan.Resource,
			Detail: fmt.Sprintf("wait until %s are %s", typeList(all), want), Why: "the change is asynchronous"})
	}
	if plan.NothingToDo() {
		plan.Reason = awsguard.ReasonAlreadyCompliant
		if !enable {
			plan.Reason = awsguard.ReasonNothingToRemove
		}
	}
	do := func(ctx context.Context, a *awsguard.Action) error {
		if a.Kind == kind {
			return call(ctx, todo)
		}
		all := append(slices.Clone(todo), waiting...)
		_, err := poll.Until(ctx, poll.Options{MaxWait: o.MaxWait, MinDelay: o.PollMinDelay, MaxDelay: o.PollMaxDelay},
			func(ctx context.Context, _ int) (bool, error) {
				s, err := readStatus(ctx, api, o)
				if err != nil {
					return false, err
				}
				return len(s.With(all, want)) == len(all), nil
			})
		if errors.Is(err, poll.ErrTimeout) {
			return fmt.Errorf("%w: %s not %s after %s", ErrWaitTimeout, typeList(all), want, o.MaxWait)
		}
		return err
	}
	err = plan.Apply(ctx, do, awsguard.ApplyOptions{AllowWeaken: o.AllowWeaken, Logger: o.Logger, Progress: o.Progress,
		ToDo: "run " + op + " again: it calls only for the types still not " + strings.ToLower(string(want))})
	return plan, err
}

// StatusFindings turns statuses into inspector.enabled findings, one per
// region and resource type: PASS when ENABLED, FAIL otherwise.
func StatusFindings(statuses []*AccountStatus, types []i2types.ResourceScanType) []awsguard.Finding {
	if types == nil {
		types = DefaultResourceTypes
	}
	c := checkByID(CheckEnabled)
	var out []awsguard.Finding
	for _, s := range statuses {
		if s == nil {
			continue
		}
		for _, t := range types {
			st := s.Resources[t]
			f := awsguard.Finding{Check: CheckEnabled, Severity: c.Severity, Account: s.Account, Region: s.Region,
				Resource: fmt.Sprintf("inspector2/%s/%s", s.Region, t), Controls: slices.Clone(c.Controls),
				Evidence: map[string]string{"resource_type": string(t), "status": string(st), "account_status": string(s.State)}}
			if st == i2types.StatusEnabled {
				f.Status = awsguard.StatusPass
				f.Title = fmt.Sprintf("Inspector scans %s in %s", t, s.Region)
			} else {
				f.Status = awsguard.StatusFail
				f.Remediation = "inspect.Enable"
				f.Title = fmt.Sprintf("Inspector does not scan %s in %s (%s)", t, s.Region, st)
			}
			out = append(out, f)
		}
	}
	return out
}
