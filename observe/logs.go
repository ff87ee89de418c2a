package observe

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/awsguard/awsguard"
)

// LogGroup is a CloudWatch Logs group EnsureLogGroups keeps in place.
type LogGroup struct {
	// Name is 1 to 256 of letters, digits and . - _ / #.
	Name string
	// RetentionDays is how long events are kept: one of RetentionValues.
	RetentionDays int32
	// KMSKeyARN, if set, encrypts the group's new events with that KMS key
	// (its key policy must let logs.REGION.amazonaws.com use it). An
	// existing key is never removed.
	KMSKeyARN string
}

// RetentionValues are the retention periods CloudWatch Logs accepts, in
// days.
var RetentionValues = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// The action kinds of EnsureLogGroups.
const (
	ActionCreateLogGroup = "create-log-group"
	ActionSetRetention   = "set-retention"
	ActionAssociateKey   = "associate-kms-key"
)

func (g LogGroup) validate(op string, i int) error {
	f := fmt.Sprintf("groups[%d]", i)
	if !logGroupRE.MatchString(g.Name) || strings.HasPrefix(g.Name, "aws/") {
		return inputErr(op, f+".Name", g.Name, "1 to 256 of letters, digits and . - _ / #, not starting aws/")
	}
	if !slices.Contains(RetentionValues, g.RetentionDays) {
		return inputErr(op, f+".RetentionDays", fmt.Sprint(g.RetentionDays), fmt.Sprint("one of ", RetentionValues))
	}
	if g.KMSKeyARN != "" && !strings.HasPrefix(g.KMSKeyARN, "arn:") {
		return inputErr(op, f+".KMSKeyARN", g.KMSKeyARN, "a KMS key ARN")
	}
	return nil
}

// LogGroupsResult is what EnsureLogGroups did (or would do).
type LogGroupsResult struct {
	awsguard.Plan
}

func findLogGroup(ctx context.Context, api interface {
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}, name string) (*logtypes.LogGroup, error) {
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(api, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: describe log groups %s: %w", name, err)
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				return &g, nil
			}
		}
	}
	return nil, nil
}

// logGroupARN is the group's ARN without the ":*" DescribeLogGroups adds.
func logGroupARN(g *logtypes.LogGroup) string {
	if a := aws.ToString(g.LogGroupArn); a != "" {
		return a
	}
	return strings.TrimSuffix(aws.ToString(g.Arn), ":*")
}

// planLogGroup derives the actions for one group: a pure function.
func planLogGroup(live *logtypes.LogGroup, want LogGroup) []awsguard.Action {
	retention := awsguard.Action{Kind: ActionSetRetention, Call: "logs:PutRetentionPolicy", Resource: want.Name,
		Detail: fmt.Sprintf("keep the events of %s for %d days", want.Name, want.RetentionDays)}
	if live == nil {
		d := "create log group " + want.Name + " tagged " + TagManaged
		if want.KMSKeyARN != "" {
			d += ", encrypted with " + want.KMSKeyARN
		}
		retention.Why = "a new group keeps events forever"
		return []awsguard.Action{{Kind: ActionCreateLogGroup, Call: "logs:CreateLogGroup", Resource: want.Name, Detail: d, Why: "no log group of the name"}, retention}
	}
	var out []awsguard.Action
	switch have := live.RetentionInDays; {
	case have == nil:
		retention.Why = "the group keeps events forever; events older than the retention will be deleted"
		retention.Weakening = true
		out = append(out, retention)
	case *have < want.RetentionDays:
		retention.Why = fmt.Sprintf("the group keeps events %d days", *have)
		out = append(out, retention)
	case *have > want.RetentionDays:
		retention.Why = fmt.Sprintf("the group keeps events %d days; older ones will be deleted", *have)
		retention.Weakening = true
		out = append(out, retention)
	}
	if want.KMSKeyARN != "" && aws.ToString(live.KmsKeyId) != want.KMSKeyARN {
		out = append(out, awsguard.Action{Kind: ActionAssociateKey, Call: "logs:AssociateKmsKey", Resource: want.Name,
			Detail: "encrypt new events of " + want.Name + " with " + want.KMSKeyARN, Why: fmt.Sprintf("the group's key is %q", aws.ToString(live.KmsKeyId))})
	}
	return out
}

// planLiveLogGroup reads the group and derives its actions. A group
// observe created that keeps events forever is one whose creation was
// interrupted before its retention was set: setting it then deletes
// nothing anyone kept on purpose, so it is not weakening.
func planLiveLogGroup(ctx context.Context, api LogGroupsAPI, want LogGroup) ([]awsguard.Action, error) {
	live, err := findLogGroup(ctx, api, want.Name)
	if err != nil {
		return nil, err
	}
	actions := planLogGroup(live, want)
	if live == nil || live.RetentionInDays != nil {
		return actions, nil
	}
	tags, err := api.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(logGroupARN(live))})
	if err != nil {
		return nil, fmt.Errorf("observe: list tags of log group %s: %w", want.Name, err)
	}
	if isManaged(tags.Tags) {
		for i := range actions {
			if actions[i].Kind == ActionSetRetention {
				actions[i].Weakening = false
				actions[i].Why = "observe's new group keeps events forever until its retention is set"
			}
		}
	}
	return actions, nil
}

// applyLogGroup carries out one action of planLiveLogGroup on g.
func applyLogGroup(ctx context.Context, api LogGroupsAPI, g LogGroup, kind string) error {
	var err error
	switch kind {
	case ActionCreateLogGroup:
		in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g.Name), Tags: managedTags()}
		if g.KMSKeyARN != "" {
			in.KmsKeyId = aws.String(g.KMSKeyARN)
		}
		_, err = api.CreateLogGroup(ctx, in)
		var exists *logtypes.ResourceAlreadyExistsException
		if errorsAs(err, &exists) {
			err = nil // made by a call whose answer was lost
		}
	case ActionSetRetention:
		_, err = api.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g.Name), RetentionInDays: aws.Int32(g.RetentionDays)})
	case ActionAssociateKey:
		_, err = api.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: aws.String(g.Name), KmsKeyId: aws.String(g.KMSKeyARN)})
	default:
		err = fmt.Errorf("unknown action %q", kind)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, g.Name, err)
	}
	return nil
}

// EnsureLogGroups keeps the log groups in place with their retention (and
// KMS key on request). A group it creates is tagged as observe's, so that
// Teardown may delete it (only with TeardownOptions.DeleteLogGroups); an
// existing group of the name keeps its tags and is only given the
// retention and key.
//
// A retention shorter than the group has (or any retention on a group
// that keeps events forever) deletes older events: such an action is
// marked weakening and the plan is refused with an *awsguard.WeakeningError
// unless Options.AllowWeaken; but a group observe created (tagged) that
// keeps events forever, because the run that created it was interrupted
// before setting its retention, is given the retention without that
// consent. DryRun returns the plan; a second run makes
// no mutating call. Permissions: those of LogGroupsAPI.
func EnsureLogGroups(ctx context.Context, api LogGroupsAPI, groups []LogGroup, optFns ...func(*Options)) (*LogGroupsResult, error) {
	const op = "observe.EnsureLogGroups"
	if len(groups) == 0 {
		return nil, inputErr(op, "groups", "[]", "at least one log group")
	}
	seen := map[string]bool{}
	for i, g := range groups {
		if err := g.validate(op, i); err != nil {
			return nil, err
		}
		if seen[g.Name] {
			return nil, inputErr(op, fmt.Sprintf("groups[%d].Name", i), g.Name, "each name once")
		}
		seen[g.Name] = true
	}
	o := options(optFns)
	res := &LogGroupsResult{Plan: awsguard.Plan{Operation: op, Resource: "log-groups", DryRun: o.DryRun}}
	byName := map[string]LogGroup{}
	for _, g := range groups {
		actions, err := planLiveLogGroup(ctx, api, g)
		if err != nil {
			return nil, err
		}
		for _, a := range actions {
			res.Add(a)
		}
		byName[g.Name] = g
	}
	err := res.Plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		return applyLogGroup(ctx, api, byName[a.Resource], a.Kind)
	}, o.apply(op))
	return res, err
}
