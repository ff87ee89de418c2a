package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/awsguard/awsguard"
)

// DelegatedAdminAPI is the part of *inspector2.Client (in the
// organization's management account) that EnsureDelegatedAdmin calls:
// inspector2:ListDelegatedAdminAccounts and
// inspector2:EnableDelegatedAdminAccount (with the Organizations
// permissions AWS requires for it: organizations:EnableAWSServiceAccess,
// organizations:RegisterDelegatedAdministrator).
type DelegatedAdminAPI interface {
	ListDelegatedAdminAccounts(ctx context.Context, in *inspector2.ListDelegatedAdminAccountsInput, optFns ...func(*inspector2.Options)) (*inspector2.ListDelegatedAdminAccountsOutput, error)
	EnableDelegatedAdminAccount(ctx context.Context, in *inspector2.EnableDelegatedAdminAccountInput, optFns ...func(*inspector2.Options)) (*inspector2.EnableDelegatedAdminAccountOutput, error)
}

// OrganizationAPI is the part of *inspector2.Client (in the delegated
// administrator account) that EnableOrganization calls:
// inspector2:DescribeOrganizationConfiguration,
// inspector2:UpdateOrganizationConfiguration, inspector2:ListMembers,
// inspector2:AssociateMember, inspector2:BatchGetAccountStatus and
// inspector2:Enable.
type OrganizationAPI interface {
	DescribeOrganizationConfiguration(ctx context.Context, in *inspector2.DescribeOrganizationConfigurationInput, optFns ...func(*inspector2.Options)) (*inspector2.DescribeOrganizationConfigurationOutput, error)
	UpdateOrganizationConfiguration(ctx context.Context, in *inspector2.UpdateOrganizationConfigurationInput, optFns ...func(*inspector2.Options)) (*inspector2.UpdateOrganizationConfigurationOutput, error)
	ListMembers(ctx context.Context, in *inspector2.ListMembersInput, optFns ...func(*inspector2.Options)) (*inspector2.ListMembersOutput, error)
	AssociateMember(ctx context.Context, in *inspector2.AssociateMemberInput, optFns ...func(*inspector2.Options)) (*inspector2.AssociateMemberOutput, error)
	BatchGetAccountStatus(ctx context.Context, in *inspector2.BatchGetAccountStatusInput, optFns ...func(*inspector2.Options)) (*inspector2.BatchGetAccountStatusOutput, error)
	Enable(ctx context.Context, in *inspector2.EnableInput, optFns ...func(*inspector2.Options)) (*inspector2.EnableOutput, error)
}

var (
	_ DelegatedAdminAPI = (*inspector2.Client)(nil)
	_ OrganizationAPI   = (*inspector2.Client)(nil)
)

// The kinds of the actions of organization plans.
const (
	ActionDelegateAdmin   = "delegate-admin"   // inspector2:EnableDelegatedAdminAccount
	ActionAutoEnable      = "auto-enable"      // inspector2:UpdateOrganizationConfiguration
	ActionAssociateMember = "associate-member" // inspector2:AssociateMember
	ActionEnableMember    = "enable-member"    // inspector2:Enable for one member account
)

// EnsureDelegatedAdmin makes account Inspector's delegated administrator
// in the client's region, from the management account. Already so: no
// call, Reason "already compliant". Another account already delegated:
// refused with an *awsguard.InputError naming it (Reason "refused"): an
// organization has one Inspector administrator, and replacing it is the
// caller's decision.
func EnsureDelegatedAdmin(ctx context.Context, api DelegatedAdminAPI, account string, optFns ...func(*InspectorOptions)) (*awsguard.Plan, error) {
	const op = "inspect.EnsureDelegatedAdmin"
	o, err := inspectorOptions(op, api, optFns)
	if err == nil {
		err = needClient(op, api)
	}
	if err != nil {
		return nil, err
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return nil, &awsguard.InputError{Operation: op, Field: "account", Value: account, Allowed: "a 12-digit account ID"}
	}
	plan := &awsguard.Plan{Operation: op, Resource: "inspector2/" + o.Region, DryRun: o.DryRun}
	var current []i2types.DelegatedAdminAccount
	err = paginate(ctx, "ListDelegatedAdminAccounts", 0, func(ctx context.Context, tok *string) (*string, error) {
		out, err := api.ListDelegatedAdminAccounts(ctx, &inspector2.ListDelegatedAdminAccountsInput{NextToken: tok})
		if err != nil {
			return nil, err
		}
		current = append(current, out.DelegatedAdminAccounts...)
		return out.NextToken, nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect: list Inspector delegated administrators in %s: %w", o.Region, err)
	}
	for _, a := range current {
		if a.Status != i2types.DelegatedAdminStatusEnabled && a.Status != i2types.DelegatedAdminStatusDisableInProgress {
			continue
		}
		if aws.ToString(a.AccountId) == account {
			plan.Reason = awsguard.ReasonAlreadyCompliant
			return plan, nil
		}
		plan.Reason = awsguard.ReasonRefused
		return plan, &awsguard.InputError{Operation: op, Field: "account", Value: account,
			Allowed: "the current delegated administrator " + aws.ToString(a.AccountId) + " (remove it first to change it)"}
	}
	plan.Add(awsguard.Action{Kind: ActionDelegateAdmin, Call: "inspector2:EnableDelegatedAdminAccount", Resource: account,
		Detail: fmt.Sprintf("make %s Inspector's delegated administrator in %s", account, o.Region), Why: "no delegated administrator"})
	err = plan.Apply(ctx, func(ctx context.Context, _ *awsguard.Action) error {
		_, err := api.EnableDelegatedAdminAccount(ctx, &inspector2.EnableDelegatedAdminAccountInput{DelegatedAdminAccountId: aws.String(account)})
		return err
	}, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress, ToDo: "run EnsureDelegatedAdmin again"})
	return plan, err
}

// EnableOrganization, run in the delegated administrator account, turns
// on auto-enable of the resource types for new member accounts, then
// associates every ACTIVE account of the organization (read with
// Organizations ListAccounts) as a member and enables the resource types
// for it. SUSPENDED accounts are skipped and named in the plan's
// Warnings; the administrator's own account is enabled like the others
// but not associated. Each step reads the live state first and is left
// out when done: a member already associated gets no AssociateMember, an
// account whose types are ENABLED gets no Enable. The plan's actions name
// the account they are about, so the outcome is reported per account.
func EnableOrganization(ctx context.Context, api OrganizationAPI, org awsguard.ListAccountsAPI, admin string, optFns ...func(*InspectorOptions)) (*awsguard.Plan, error) {
	const op = "inspect.EnableOrganization"
	o, err := inspectorOptions(op, api, optFns)
	if err == nil {
		err = needClient(op, api)
	}
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, &awsguard.InputError{Operation: op, Field: "org", Value: "nil", Allowed: "an Organizations client"}
	}
	if len(admin) != 12 || strings.Trim(admin, "0123456789") != "" {
		return nil, &awsguard.InputError{Operation: op, Field: "admin", Value: admin, Allowed: "a 12-digit account ID"}
	}
	plan := &awsguard.Plan{Operation: op, Resource: "inspector2/" + o.Region, DryRun: o.DryRun}

	// Accounts of the organization.
	var active []string
	p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("inspect: list organization accounts: %w", err)
		}
		for _, a := range page.Accounts {
			id := aws.ToString(a.Id)
			if a.State == orgtypes.AccountStateActive || (a.State == "" && a.Status == orgtypes.AccountStatusActive) {
				active = append(active, id)
				continue
			}
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("account %s is %s%s: skipped", id, a.State, a.Status))
		}
	}
	slices.Sort(active)

	// Auto-enable.
	cfg, err := api.DescribeOrganizationConfiguration(ctx, &inspector2.DescribeOrganizationConfigurationInput{})
	if err != nil {
		return nil, fmt.Errorf("inspect: Inspector organization configuration in %s: %w", o.Region, err)
	}
	want := autoEnable(cfg.AutoEnable, o.ResourceTypes)
	if !sameAutoEnable(cfg.AutoEnable, want) {
		plan.Add(awsguard.Action{Kind: ActionAutoEnable, Call: "inspector2:UpdateOrganizationConfiguration", Resource: plan.Resource,
			Detail: fmt.Sprintf("auto-enable %s for new member accounts in %s", typeList(o.ResourceTypes), o.Region), Why: "new accounts would not be scanned"})
	}

	// Members and their status.
	members := map[string]i2types.RelationshipStatus{}
	err = paginate(ctx, "ListMembers", 0, func(ctx context.Context, tok *string) (*string, error) {
		out, err := api.ListMembers(ctx, &inspector2.ListMembersInput{NextToken: tok, OnlyAssociated: aws.Bool(false)})
		if err != nil {
			return nil, err
		}
		for _, m := range out.Members {
			members[aws.ToString(m.AccountId)] = m.RelationshipStatus
		}
		return out.NextToken, nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspect: list Inspector members in %s: %w", o.Region, err)
	}
	for _, acct := range active {
		if acct != admin && members[acct] != i2types.RelationshipStatusEnabled {
			plan.Add(awsguard.Action{Kind: ActionAssociateMember, Call: "inspector2:AssociateMember", Resource: acct,
				Detail: "associate " + acct + " as an Inspector member", Why: "not associated (" + string(members[acct]) + ")"})
		}
		o2 := o
		o2.Account = acct
		st, err := readStatus(ctx, api, o2)
		if err != nil {
			return nil, err
		}
		if off := st.With(o.ResourceTypes, i2types.StatusDisabled, i2types.StatusDisabling, i2types.StatusSuspended, i2types.StatusSuspending, ""); len(off) > 0 {
			plan.Add(awsguard.Action{Kind: ActionEnableMember, Call: "inspector2:Enable", Resource: acct,
				Detail: fmt.Sprintf("enable %s for %s", typeList(off), acct), Why: "not enabled"})
		}
	}
	if plan.NothingToDo() {
		plan.Reason = awsguard.ReasonAlreadyCompliant
	}
	err = plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionAutoEnable:
			_, err := api.UpdateOrganizationConfiguration(ctx, &inspector2.UpdateOrganizationConfigurationInput{AutoEnable: want})
			return err
		case ActionAssociateMember:
			_, err := api.AssociateMember(ctx, &inspector2.AssociateMemberInput{AccountId: aws.String(a.Resource)})
			return err
		case ActionEnableMember:
			out, err := api.Enable(ctx, &inspector2.EnableInput{AccountIds: []string{a.Resource}, ResourceTypes: o.ResourceTypes})
			if err != nil {
				return err
			}
			return failedAccounts(out.FailedAccounts)
		}
		return fmt.Errorf("inspect: unknown action %s", a.Kind)
	}, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress, ToDo: "run EnableOrganization again: it carries out only what is left"})
	return plan, err
}

// autoEnable returns cur with the types turned on (never turning any off).
func autoEnable(cur *i2types.AutoEnable, types []i2types.ResourceScanType) *i2types.AutoEnable {
	w := &i2types.AutoEnable{Ec2: aws.Bool(false), Ecr: aws.Bool(false)}
	if cur != nil {
		w.Ec2, w.Ecr = aws.Bool(aws.ToBool(cur.Ec2)), aws.Bool(aws.ToBool(cur.Ecr))
		w.Lambda, w.LambdaCode, w.CodeRepository = cur.Lambda, cur.LambdaCode, cur.CodeRepository
	}
	for _, t := range types {
		switch t {
		case i2types.ResourceScanTypeEc2:
			w.Ec2 = aws.Bool(true)
		case i2types.ResourceScanTypeEcr:
			w.Ecr = aws.Bool(true)
		case i2types.ResourceScanTypeLambda:
			w.Lambda = aws.Bool(true)
		case i2types.ResourceScanTypeLambdaCode:
			w.LambdaCode = aws.Bool(true)
		}
	}
	return w
}

func sameAutoEnable(a, b *i2types.AutoEnable) bool {
	if a == nil {
		return false
	}
	return aws.ToBool(a.Ec2) == aws.ToBool(b.Ec2) && aws.ToBool(a.Ecr) == aws.ToBool(b.Ecr) &&
		aws.ToBool(a.Lambda) == aws.ToBool(b.Lambda) && aws.ToBool(a.LambdaCode) == aws.ToBool(b.LambdaCode)
}
