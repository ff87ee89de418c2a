package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/internal/motoserver"
)

const memberRole = "OrganizationAccountAccessRole"

// roleChecking is moto's STS plus the refusal moto does not make: it
// assumes any role ARN, even one that does not exist. AssumeRole into an
// account whose role is missing is refused with AccessDenied, as AWS
// refuses it; every other call goes to moto, which maps the session to the
// member account's own state.
type roleChecking struct {
	env  *awstest.Env
	real *sts.Client
}

// orgMoto starts a moto_server of the test's own for organizations, the
// standard configuration chain pointed at it: one without AWS managed
// policies, which the shared server loads into every account's IAM on
// first use (seconds per member account, and as long again to reset).
// The IAM audit reads none of them. The server stops when the test ends.
func orgMoto(t testing.TB) *awstest.Env {
	t.Helper()
	if _, err := motoserver.Find(); err != nil {
		if os.Getenv(awstest.RequireEnv) == "1" {
			t.Fatalf("%v (%s=1 makes this a failure)", err, awstest.RequireEnv)
		}
		t.Skipf("skipping integration test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := motoserver.Start(ctx, "MOTO_IAM_LOAD_MANAGED_POLICIES=false")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	clitest.SetEnv(t, s.URL)
	return &awstest.Env{Server: s}
}

func (r roleChecking) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, o ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	arn := aws.ToString(in.RoleArn) // arn:aws:iam::ACCOUNT:role/NAME
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return nil, fmt.Errorf("role ARN %q", arn)
	}
	name, _ := strings.CutPrefix(parts[5], "role/")
	if _, err := iam.NewFromConfig(r.env.ConfigFor(parts[4])).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)}); err != nil {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform: sts:AssumeRole on resource: " + arn}
	}
	return r.real.AssumeRole(ctx, in, o...)
}

// org is an organization seeded for -org: the management account (moto's
// default) and members, each with its own IAM state.
type org struct {
	members []string
	weak    map[string]bool // weak password policy (KISA: fails)
	strong  map[string]bool // a KISA-compliant password policy
	console map[string]bool // a console user without MFA
	noRole  string          // the member without memberRole
}

// seedOrg creates an organization of n members: every third has a weak
// password policy, every third (from the second) a strong one, every third
// (from the third) a console user without MFA; the last member's role is
// deleted.
func seedOrg(t testing.TB, env *awstest.Env, n int) org {
	t.Helper()
	ctx := context.Background()
	api := organizations.NewFromConfig(env.Config())
	if _, err := api.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	o := org{weak: map[string]bool{}, strong: map[string]bool{}, console: map[string]bool{}}
	for i := range n {
		out, err := api.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%02d", i)), Email: aws.String(fmt.Sprintf("m%02d@example.com", i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		o.members = append(o.members, id)
		member := iam.NewFromConfig(env.ConfigFor(id))
		switch i % 3 {
		case 0:
			o.weak[id] = true
			_, err = member.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(6)})
		case 1:
			o.strong[id] = true
			_, err = member.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(14),
				RequireLowercaseCharacters: true, RequireUppercaseCharacters: true, RequireNumbers: true, RequireSymbols: true,
				MaxPasswordAge: aws.Int32(90), PasswordReusePrevention: aws.Int32(24), AllowUsersToChangePassword: true})
		case 2:
			o.console[id] = true
			user := fmt.Sprintf("console-%02d", i)
			if _, err = member.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err == nil {
				_, err = member.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String("Passw0rd!!")})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		// A ready report spares the audit its first poll.
		if _, err := member.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
			t.Fatal(err)
		}
	}
	o.noRole = o.members[n-1]
	if _, err := iam.NewFromConfig(env.ConfigFor(o.noRole)).DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(memberRole)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(env.Config()).GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	saved := newAssumer
	t.Cleanup(func() { newAssumer = saved })
	newAssumer = func(cfg aws.Config) awsguard.AssumeRoleAPI { return roleChecking{env, sts.NewFromConfig(cfg)} }
	return o
}

// -org audits the management account and 12 members, each in its own
// state: one merged report, every finding carrying its account; the
// member whose role is missing is one ERROR finding and exit 1, and the
// others are audited in full.
func TestOrgMoto(t *testing.T) {
	env := orgMoto(t)
	// No organization yet: exit 1 naming the step, nothing printed (an
	// empty list would pass for a clean audit).
	r := runAudit(t, "-org", "-role", memberRole, "-checks", "iam.", "-format", "json")
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "list the organization's accounts (-org): it lists no ACTIVE account") {
		t.Errorf("no organization: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	o := seedOrg(t, env, 12)
	r = runAudit(t, "-org", "-role", memberRole, "-checks", "iam.", "-format", "json", "-concurrency", "6")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 2 || !strings.Contains(r.stderr, "account "+o.noRole+" could not be audited") ||
		!strings.Contains(r.stderr, "AccessDenied") {
		t.Errorf("code %d, want 1 naming the account without the role; stderr:\n%s", r.code, r.stderr)
	}
	rep := readReport(t, r)
	byAccount := map[string]map[string][]awsguard.Finding{} // account → check → findings
	for _, x := range rep.Findings {
		if byAccount[x.Account] == nil {
			byAccount[x.Account] = map[string][]awsguard.Finding{}
		}
		byAccount[x.Account][x.Check] = append(byAccount[x.Account][x.Check], x)
		if strings.HasPrefix(x.Resource, "arn:") && !strings.Contains(x.Resource, ":"+x.Account+":") {
			t.Errorf("finding %s of account %s names another account's resource %s", x.Check, x.Account, x.Resource)
		}
	}
	all := append([]string{awstest.DefaultAccount}, o.members...)
	if len(byAccount) != len(all) {
		t.Errorf("findings for %d accounts, want %d", len(byAccount), len(all))
	}
	for _, a := range all {
		got := byAccount[a]
		access := got[CheckAccountAccess]
		if len(access) != 1 {
			t.Errorf("account %s: %d %s findings", a, len(access), CheckAccountAccess)
			continue
		}
		if a == o.noRole {
			if access[0].Status != awsguard.StatusError || !strings.Contains(access[0].Evidence["error"], "AccessDenied") || len(got) != 1 {
				t.Errorf("account without the role: %+v, and %d checks", access[0], len(got))
			}
			continue
		}
		if access[0].Status != awsguard.StatusPass {
			t.Errorf("account %s: access %s %v", a, access[0].Status, access[0].Evidence)
		}
		if a == awstest.DefaultAccount && access[0].Evidence["credentials"] != "the caller's own" {
			t.Errorf("the management account was reached through %q", access[0].Evidence["credentials"])
		}
		pp := got["iam.password_policy"]
		if len(pp) != 1 {
			t.Errorf("account %s: %d password policy findings", a, len(pp))
			continue
		}
		wantPP := awsguard.StatusFail
		if o.strong[a] {
			wantPP = awsguard.StatusPass
		}
		if pp[0].Status != wantPP {
			t.Errorf("account %s: password policy %s, want %s (%v)", a, pp[0].Status, wantPP, pp[0].Evidence)
		}
		failedMFA := slices.ContainsFunc(got["iam.user.console_mfa"], func(x awsguard.Finding) bool { return x.Status == awsguard.StatusFail })
		if failedMFA != o.console[a] {
			t.Errorf("account %s: console MFA failed %v, want %v", a, failedMFA, o.console[a])
		}
	}

	// The table holds one table per account, under its ID.
	r = runAudit(t, "-org", "-role", memberRole, "-checks", "iam.password_policy", "-fail-on", "none", "-concurrency", "1")
	for _, a := range all {
		if !strings.Contains(r.stdout, "Account "+a+"\nSTATUS") {
			t.Errorf("no table for account %s:\n%s", a, r.stdout)
		}
	}
	if r.code != 1 || strings.Count(r.stdout, "ERROR ") != 1 {
		t.Errorf("table: code %d, want 1 and one ERROR row (member %s has no role):\n%s", r.code, o.noRole, r.stdout)
	}

	// Every account reached: the exit code is -fail-on's again.
	if _, err := iam.NewFromConfig(env.ConfigFor(o.noRole)).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(memberRole),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	r = runAudit(t, "-org", "-role", memberRole, "-checks", "iam.password_policy", "-format", "json")
	if r.code != 3 || !strings.Contains(r.stderr, "-fail-on low: exit 3") {
		t.Errorf("all accounts reached, weak password policies: code %d, want 3: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, `"status": "ERROR"`); n != 0 {
		t.Errorf("%d ERROR findings with every role in place", n)
	}
}

// -print-policy -org prints the management side: the audit of its own
// account and organizations:ListAccounts, sts:AssumeRole on the role only;
// stderr says what the member role needs.
func TestOrgPrintPolicy(t *testing.T) {
	calls := offline(t)
	r := runAudit(t, "-print-policy", "-org", "-role", "Auditor", "-external-id", "ext-1", "-checks", "iam.")
	doc, err := awsguard.ParsePolicyDocument(r.stdout)
	if r.code != 0 || err != nil {
		t.Fatalf("code %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if err := doc.Validate(); err != nil || len(doc.Statement.List) != 2 {
		t.Fatalf("%v, %d statements:\n%s", err, len(doc.Statement.List), r.stdout)
	}
	own, assume := doc.Statement.List[0], doc.Statement.List[1]
	want := append(slices.Clone(printPolicy(t, "-checks", "iam.").Statement.List[0].Action.Values), "organizations:ListAccounts")
	slices.Sort(want)
	if !slices.Equal(own.Action.Values, want) || own.Resource.Values[0] != "*" {
		t.Errorf("own statement %v on %v, want %v", own.Action.Values, own.Resource.Values, want)
	}
	if !slices.Equal(assume.Action.Values, []string{"sts:AssumeRole"}) || !slices.Equal(assume.Resource.Values, []string{"arn:aws:iam::*:role/Auditor"}) {
		t.Errorf("assume statement %+v", assume)
	}
	if !strings.Contains(r.stderr, "role Auditor in each member account") || !strings.Contains(r.stderr, "sts:ExternalId") {
		t.Errorf("stderr does not say what the member role needs: %q", r.stderr)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}
