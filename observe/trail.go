package observe

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// TrailAPI is the part of *cloudtrail.Client that EnsureTrailLogs calls:
// cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus,
// cloudtrail:ListTags, and to change: cloudtrail:CreateTrail (with
// cloudtrail:AddTags for its tags), cloudtrail:UpdateTrail and
// cloudtrail:StartLogging. Creating or updating a trail that delivers to
// CloudWatch Logs also needs iam:PassRole on the delivery role.
type TrailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	ListTags(ctx context.Context, in *cloudtrail.ListTagsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error)
	CreateTrail(ctx context.Context, in *cloudtrail.CreateTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error)
	UpdateTrail(ctx context.Context, in *cloudtrail.UpdateTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	StartLogging(ctx context.Context, in *cloudtrail.StartLoggingInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
}

// TrailRoleAPI is the part of *iam.Client that EnsureTrailLogs calls for
// the delivery role: iam:GetRole, iam:GetRolePolicy, and to change:
// iam:CreateRole (with iam:TagRole), iam:UpdateAssumeRolePolicy and
// iam:PutRolePolicy.
type TrailRoleAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// TrailBucketAPI is the part of *s3.Client that EnsureTrailLogs calls for
// the trail's bucket: s3:GetBucketTagging, s3:GetBucketPolicy, and to
// change: s3:CreateBucket, s3:PutBucketTagging, s3:PutPublicAccessBlock
// and s3:PutBucketPolicy; and s3:ListBucket (ListObjectsV2) for a bucket
// that is not tagged.
type TrailBucketAPI interface {
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, optFns ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, optFns ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, optFns ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// TrailLogsAPI is the part of *cloudwatchlogs.Client that EnsureTrailLogs
// calls: those of LogGroupsAPI, for the trail's log group.
type TrailLogsAPI = LogGroupsAPI

var (
	_ TrailAPI       = (*cloudtrail.Client)(nil)
	_ TrailRoleAPI   = (*iam.Client)(nil)
	_ TrailBucketAPI = (*s3.Client)(nil)
	_ TrailLogsAPI   = (*cloudwatchlogs.Client)(nil)
)

// TrailLogsClients are the clients EnsureTrailLogs uses. All four are
// required.
type TrailLogsClients struct {
	CloudTrail TrailAPI
	Logs       TrailLogsAPI
	IAM        TrailRoleAPI
	S3         TrailBucketAPI
}

// TrailLogs is the trail EnsureTrailLogs keeps when no trail of the
// account delivers to CloudWatch Logs in its region.
type TrailLogs struct {
	// AccountID and Region are the account and region of the trail and
	// its log group (the trust policy's aws:SourceAccount and
	// aws:SourceArn name them). Required.
	AccountID string
	Region    string
	// Partition is aws (default), aws-cn or aws-us-gov.
	Partition string
	// Bucket is the S3 bucket the trail writes its log files to:
	// required, because a bucket name is global and a bucket is not
	// deleted lightly. A bucket of the name that does not exist is
	// created, tagged as observe's, with public access blocked and the
	// bucket policy CloudTrail needs. An existing bucket that observe did
	// not tag is taken over (tagged, public access blocked, policy) only
	// when it is empty and has no policy: so is a bucket whose creation
	// was interrupted. Any other bucket is used as it is (its policy must
	// let CloudTrail write: TrailBucketPolicy), and the plan warns.
	Bucket string
	// TrailName is the trail's name; default "awsguard-trail".
	TrailName string
	// LogGroup is the CloudWatch Logs group the trail delivers to; default
	// "awsguard/cloudtrail".
	LogGroup string
	// RetentionDays is the log group's retention, one of RetentionValues;
	// default 365.
	RetentionDays int32
	// KMSKeyARN, if set, encrypts the log group's events with that key.
	KMSKeyARN string
	// RoleName is the delivery role's name (path RolePath); default
	// "awsguard-cloudtrail-logs".
	RoleName string
	// OwnTrail keeps observe's trail even when another trail already
	// delivers to a log group of the account and region.
	OwnTrail bool
}

// The defaults of TrailLogs, and the name of the delivery role's inline
// policy.
const (
	DefaultTrailName     = "awsguard-trail"
	DefaultTrailLogGroup = "awsguard/cloudtrail"
	DefaultTrailRole     = "awsguard-cloudtrail-logs"
	TrailRolePolicyName  = "awsguard-cloudtrail-logs"
)

// TrailState is the state of the account's trails as EnsureTrailLogs
// reads it.
type TrailState int

// The states of EnsureTrailLogs.
const (
	// TrailAbsent: no trail delivers to CloudWatch Logs and observe's
	// trail does not exist.
	TrailAbsent TrailState = iota
	// TrailOther: another trail, logging, delivers to a log group of the
	// account and region.
	TrailOther
	// TrailNotManaged: a trail of the wanted name exists and is not
	// observe's.
	TrailNotManaged
	// TrailDrifted: observe's trail or one of its parts differs from
	// what is wanted.
	TrailDrifted
	// TrailCompliant: observe's trail delivers as wanted.
	TrailCompliant
)

var trailStateNames = []string{"absent", "other-trail", "not-managed", "drifted", "compliant"}

func (s TrailState) String() string {
	if s < 0 || int(s) >= len(trailStateNames) {
		return fmt.Sprintf("TrailState(%d)", int(s))
	}
	return trailStateNames[s]
}

// The action kinds of EnsureTrailLogs (beside those of EnsureLogGroups).
const (
	ActionCreateTrailRole = "create-trail-role"
	ActionTrailTrust      = "update-trail-role-trust"
	ActionTrailRolePolicy = "put-trail-role-policy"
	ActionCreateBucket    = "create-trail-bucket"
	ActionTagBucket       = "tag-trail-bucket"
	ActionBucketPolicy    = "put-trail-bucket-policy"
	ActionCreateTrail     = "create-trail"
	ActionUpdateTrail     = "update-trail"
	ActionStartLogging    = "start-logging"
)

// TrailLogsResult is what EnsureTrailLogs did (or would do).
type TrailLogsResult struct {
	awsguard.Plan
	State TrailState `json:"state"`
	// TrailARN is the trail that delivers (observe's or another).
	TrailARN string `json:"trail_arn"`
	// LogGroupName is the group it delivers to: the one to give
	// EnsureCISAlarms.
	LogGroupName string `json:"log_group_name"`
	RoleARN      string `json:"role_arn,omitempty"`
}

var (
	bucketRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	trailNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$`)
)

func (w TrailLogs) withDefaults() TrailLogs {
	if w.Partition == "" {
		w.Partition = "aws"
	}
	if w.TrailName == "" {
		w.TrailName = DefaultTrailName
	}
	if w.LogGroup == "" {
		w.LogGroup = DefaultTrailLogGroup
	}
	if w.RetentionDays == 0 {
		w.RetentionDays = 365
	}
	if w.RoleName == "" {
		w.RoleName = DefaultTrailRole
	}
	return w
}

func (w TrailLogs) validate(op string) error {
	switch {
	case !accountRE.MatchString(w.AccountID):
		return inputErr(op, "TrailLogs.AccountID", w.AccountID, "12 digits")
	case !regionRE.MatchString(w.Region):
		return inputErr(op, "TrailLogs.Region", w.Region, "a region such as ap-northeast-2")
	case w.Partition != "aws" && w.Partition != "aws-cn" && w.Partition != "aws-us-gov":
		return inputErr(op, "TrailLogs.Partition", w.Partition, "aws, aws-cn or aws-us-gov")
	case !bucketRE.MatchString(w.Bucket) || strings.Contains(w.Bucket, ".."):
		return inputErr(op, "TrailLogs.Bucket", w.Bucket, "an S3 bucket name: 3 to 63 of lower-case letters, digits, . and -")
	case !trailNameRE.MatchString(w.TrailName):
		return inputErr(op, "TrailLogs.TrailName", w.TrailName, "3 to 128 of letters, digits and . _ -, starting with a letter or digit")
	case !roleNameRE.MatchString(w.RoleName):
		return inputErr(op, "TrailLogs.RoleName", w.RoleName, "1 to 64 of letters, digits and +=,.@_-")
	}
	g := LogGroup{Name: w.LogGroup, RetentionDays: w.RetentionDays, KMSKeyARN: w.KMSKeyARN}
	if err := g.validate(op, 0); err != nil {
		var ie *awsguard.InputError
		if errors.As(err, &ie) {
			ie.Field = "TrailLogs." + strings.TrimPrefix(ie.Field, "groups[0].")
			if ie.Field == "TrailLogs.Name" {
				ie.Field = "TrailLogs.LogGroup"
			}
		}
		return err
	}
	return nil
}

func (w TrailLogs) trailARN() string {
	return "arn:" + w.Partition + ":cloudtrail:" + w.Region + ":" + w.AccountID + ":trail/" + w.TrailName
}

func (w TrailLogs) logGroupARN() string {
	return "arn:" + w.Partition + ":logs:" + w.Region + ":" + w.AccountID + ":log-group:" + w.LogGroup
}

func (w TrailLogs) roleARN() string {
	return "arn:" + w.Partition + ":iam::" + w.AccountID + ":role" + RolePath + w.RoleName
}

// TrailTrustPolicy is the delivery role's trust policy: CloudTrail
// assumes it for the account's trail only.
func TrailTrustPolicy(w TrailLogs) *awsguard.PolicyDocument {
	w = w.withDefaults()
	return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Effect:    "Allow",
		Principal: &awsguard.Principal{IDs: map[string]awsguard.Strings{"Service": awsguard.StringValue("cloudtrail.amazonaws.com")}},
		Action:    awsguard.StringValue("sts:AssumeRole"),
		Condition: map[string]map[string]awsguard.Strings{
			"StringEquals": {"aws:SourceAccount": awsguard.StringValue(w.AccountID)},
			"ArnLike":      {"aws:SourceArn": awsguard.StringValue(w.trailARN())},
		},
	}}}}
}

// TrailRolePolicy is the delivery role's inline policy: it may create
// streams in the trail's log group and put events to them, nothing else.
func TrailRolePolicy(w TrailLogs) *awsguard.PolicyDocument {
	w = w.withDefaults()
	return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Sid:      "CloudTrailToCloudWatchLogs",
		Effect:   "Allow",
		Action:   awsguard.StringList("logs:CreateLogStream", "logs:PutLogEvents"),
		Resource: awsguard.StringValue(w.logGroupARN() + ":log-stream:*"),
	}}}}
}

// TrailBucketPolicy is the bucket policy CloudTrail needs to write the
// trail's log files: it may read the bucket's ACL and put objects under
// AWSLogs/ACCOUNT/ with the owner given full control, for that trail
// only.
func TrailBucketPolicy(w TrailLogs) *awsguard.PolicyDocument {
	w = w.withDefaults()
	ct := &awsguard.Principal{IDs: map[string]awsguard.Strings{"Service": awsguard.StringValue("cloudtrail.amazonaws.com")}}
	bucket := "arn:" + w.Partition + ":s3:::" + w.Bucket
	return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Sid: "AWSCloudTrailAclCheck", Effect: "Allow", Principal: ct,
		Action: awsguard.StringValue("s3:GetBucketAcl"), Resource: awsguard.StringValue(bucket),
		Condition: map[string]map[string]awsguard.Strings{"StringEquals": {"aws:SourceArn": awsguard.StringValue(w.trailARN())}},
	}, {
		Sid: "AWSCloudTrailWrite", Effect: "Allow", Principal: ct,
		Action: awsguard.StringValue("s3:PutObject"), Resource: awsguard.StringValue(bucket + "/AWSLogs/" + w.AccountID + "/*"),
		Condition: map[string]map[string]awsguard.Strings{"StringEquals": {
			"s3:x-amz-acl":  awsguard.StringValue("bucket-owner-full-control"),
			"aws:SourceArn": awsguard.StringValue(w.trailARN()),
		}},
	}}}}
}

// logGroupOfTrail returns the log group name of a trail's
// CloudWatchLogsLogGroupArn when the group is in account and region, or "".
func logGroupOfTrail(arn, account, region string) string {
	// arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[2] != "logs" || parts[3] != region || parts[4] != account || parts[5] != "log-group" {
		return ""
	}
	return strings.TrimSuffix(parts[6], ":*")
}

func ctTagMap(tags []cttypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func ctTags() []cttypes.Tag {
	return []cttypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}, {Key: aws.String(TagPackage), Value: aws.String(PackageName)}}
}

func s3Tags() []s3types.Tag {
	return []s3types.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}, {Key: aws.String(TagPackage), Value: aws.String(PackageName)}}
}

func trailNotFound(err error) bool {
	var nf *cttypes.TrailNotFoundException
	return errors.As(err, &nf)
}

// bucketState reads whether the bucket exists and is observe's.
func bucketState(ctx context.Context, api interface {
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
}, bucket string) (exists, managed bool, err error) {
	out, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	switch {
	case awserr.HasCode(err, "NoSuchBucket"):
		return false, false, nil
	case awserr.HasCode(err, "NoSuchTagSet"):
		return true, false, nil
	case err != nil:
		return false, false, fmt.Errorf("observe: get tags of bucket %s: %w", bucket, err)
	}
	m := map[string]string{}
	for _, t := range out.TagSet {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return true, isManaged(m), nil
}

// EnsureTrailLogs makes sure CloudTrail delivers the account's events to
// CloudWatch Logs in the region, so that EnsureCISAlarms has a log group
// to put its filters on. If a trail already does (it logs, and its log
// group is in the account and region), there is nothing to do: the
// result names that trail and its group (State TrailOther). Otherwise it
// keeps observe's own: the log group (retention, KMS key on request), the
// delivery role that CloudTrail assumes (trust conditioned on
// aws:SourceAccount and aws:SourceArn; an inline policy allowing
// logs:CreateLogStream and logs:PutLogEvents on that group only), the S3
// bucket (see TrailLogs.Bucket), a multi-region trail with log file
// validation delivering to the group through the role, and its logging
// started. Everything created is tagged as observe's; a trail or role of
// the name that is not observe's stops it before any change
// (ErrNotManaged).
//
// A new role is not usable by CloudTrail for some seconds: CreateTrail and
// UpdateTrail are retried on InvalidCloudWatchLogsRoleArn and
// InvalidCloudWatchLogsLogGroupArn for up to Options.MaxWait (default 1
// minute). DryRun returns the plan; a second run makes no mutating call.
// Permissions: those of TrailAPI, TrailRoleAPI, TrailBucketAPI and
// LogGroupsAPI, with iam:PassRole on the role.
func EnsureTrailLogs(ctx context.Context, c TrailLogsClients, want TrailLogs, optFns ...func(*Options)) (*TrailLogsResult, error) {
	const op = "observe.EnsureTrailLogs"
	want = want.withDefaults()
	switch {
	case c.CloudTrail == nil:
		return nil, inputErr(op, "TrailLogsClients.CloudTrail", "nil", "a CloudTrail client")
	case c.Logs == nil:
		return nil, inputErr(op, "TrailLogsClients.Logs", "nil", "a CloudWatch Logs client")
	case c.IAM == nil:
		return nil, inputErr(op, "TrailLogsClients.IAM", "nil", "an IAM client")
	case c.S3 == nil:
		return nil, inputErr(op, "TrailLogsClients.S3", "nil", "an S3 client")
	}
	if err := want.validate(op); err != nil {
		return nil, err
	}
	o := options(optFns)
	res := &TrailLogsResult{Plan: awsguard.Plan{Operation: op, Resource: "trail/" + want.TrailName, DryRun: o.DryRun}}

	// The trails: one that delivers already, and observe's.
	trails, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("observe: describe trails: %w", err)
	}
	var ours *cttypes.Trail
	for i, t := range trails.TrailList {
		if aws.ToString(t.TrailARN) == want.trailARN() {
			ours = &trails.TrailList[i]
			continue
		}
		group := logGroupOfTrail(aws.ToString(t.CloudWatchLogsLogGroupArn), want.AccountID, want.Region)
		if group == "" || want.OwnTrail {
			continue
		}
		st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: t.TrailARN})
		if err != nil {
			return nil, fmt.Errorf("observe: get status of trail %s: %w", aws.ToString(t.TrailARN), err)
		}
		if aws.ToBool(st.IsLogging) {
			res.State, res.TrailARN, res.LogGroupName = TrailOther, aws.ToString(t.TrailARN), group
			res.Reason = awsguard.ReasonAlreadyCompliant
			return res, nil
		}
	}
	res.TrailARN, res.LogGroupName, res.RoleARN = want.trailARN(), want.LogGroup, want.roleARN()
	logging := false
	if ours != nil {
		tags, err := c.CloudTrail.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{want.trailARN()}})
		if err != nil {
			return nil, fmt.Errorf("observe: list tags of trail %s: %w", want.TrailName, err)
		}
		var m map[string]string
		for _, r := range tags.ResourceTagList {
			m = ctTagMap(r.TagsList)
		}
		if !isManaged(m) {
			res.State, res.Reason = TrailNotManaged, awsguard.ReasonRefused
			return res, fmt.Errorf("%w: trail %s", ErrNotManaged, want.trailARN())
		}
		st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(want.trailARN())})
		if err != nil {
			return nil, fmt.Errorf("observe: get status of trail %s: %w", want.TrailName, err)
		}
		logging = aws.ToBool(st.IsLogging)
	}

	// The delivery role.
	trust, policy := TrailTrustPolicy(want), TrailRolePolicy(want)
	role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(want.RoleName)})
	if err != nil && !iamNotFound(err) {
		return nil, fmt.Errorf("observe: get role %s: %w", want.RoleName, err)
	}
	var actions []awsguard.Action
	putPolicy := awsguard.Action{Kind: ActionTrailRolePolicy, Call: "iam:PutRolePolicy", Resource: want.RoleName,
		Detail: "let role " + want.RoleName + " create log streams and put events in " + want.LogGroup + " only"}
	if err == nil {
		if !isManaged(iamTagMap(role.Role.Tags)) {
			res.State, res.Reason = TrailNotManaged, awsguard.ReasonRefused
			return res, fmt.Errorf("%w: role %s", ErrNotManaged, aws.ToString(role.Role.Arn))
		}
		res.RoleARN = aws.ToString(role.Role.Arn)
		if d, err := awsguard.ParsePolicyDocument(aws.ToString(role.Role.AssumeRolePolicyDocument)); err != nil || !d.Equivalent(trust) {
			actions = append(actions, awsguard.Action{Kind: ActionTrailTrust, Call: "iam:UpdateAssumeRolePolicy", Resource: want.RoleName,
				Detail: "let only CloudTrail, for trail " + want.TrailName + ", assume role " + want.RoleName, Why: "the trust policy differs"})
		}
		rp, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(want.RoleName), PolicyName: aws.String(TrailRolePolicyName)})
		switch {
		case iamNotFound(err):
			putPolicy.Why = "the role lacks its policy"
			actions = append(actions, putPolicy)
		case err != nil:
			return nil, fmt.Errorf("observe: get policy of role %s: %w", want.RoleName, err)
		default:
			if d, err := awsguard.ParsePolicyDocument(aws.ToString(rp.PolicyDocument)); err != nil || !d.Equivalent(policy) {
				putPolicy.Why = "the role's policy differs"
				actions = append(actions, putPolicy)
			}
		}
	} else {
		putPolicy.Why = "a new role has no policy"
		actions = append(actions, awsguard.Action{Kind: ActionCreateTrailRole, Call: "iam:CreateRole", Resource: want.RoleName,
			Detail: "create role " + RolePath + want.RoleName + " for CloudTrail, tagged " + TagManaged, Why: "no role of the name"}, putPolicy)
	}

	// The log group.
	group := LogGroup{Name: want.LogGroup, RetentionDays: want.RetentionDays, KMSKeyARN: want.KMSKeyARN}
	groupActions, err := planLiveLogGroup(ctx, c.Logs, group)
	if err != nil {
		return nil, err
	}

	// The bucket.
	exists, managed, err := bucketState(ctx, c.S3, want.Bucket)
	if err != nil {
		return nil, err
	}
	bucketPolicy := TrailBucketPolicy(want)
	putBucketPolicy := awsguard.Action{Kind: ActionBucketPolicy, Call: "s3:PutBucketPolicy", Resource: want.Bucket,
		Detail: "let CloudTrail write trail " + want.TrailName + "'s log files to " + want.Bucket}
	switch {
	case !exists:
		putBucketPolicy.Why = "a new bucket has no policy"
		actions = append(actions, awsguard.Action{Kind: ActionCreateBucket, Call: "s3:CreateBucket", Resource: want.Bucket,
			Detail: "create bucket " + want.Bucket + " in " + want.Region, Why: "no bucket of the name"},
			tagBucket(want.Bucket, "a new bucket has no tags"), putBucketPolicy)
	case !managed:
		_, perr := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(want.Bucket)})
		if perr != nil && !awserr.HasCode(perr, "NoSuchBucketPolicy") {
			return nil, fmt.Errorf("observe: get policy of bucket %s: %w", want.Bucket, perr)
		}
		empty := false
		if perr != nil {
			objs, err := c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(want.Bucket), MaxKeys: aws.Int32(1)})
			if err != nil {
				return nil, fmt.Errorf("observe: list objects of bucket %s: %w", want.Bucket, err)
			}
			empty = len(objs.Contents) == 0
		}
		if empty {
			putBucketPolicy.Why = "the bucket has no policy"
			actions = append(actions, tagBucket(want.Bucket, "the bucket is empty, untagged and has no policy (a creation interrupted?)"), putBucketPolicy)
		} else {
			res.Warnings = append(res.Warnings, "bucket "+want.Bucket+" is not observe's: it is used as it is, and its policy must let CloudTrail write (observe.TrailBucketPolicy)")
		}
	default:
		bp, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(want.Bucket)})
		switch {
		case awserr.HasCode(err, "NoSuchBucketPolicy"):
			putBucketPolicy.Why = "the bucket has no policy"
			actions = append(actions, putBucketPolicy)
		case err != nil:
			return nil, fmt.Errorf("observe: get policy of bucket %s: %w", want.Bucket, err)
		default:
			if d, err := awsguard.ParsePolicyDocument(aws.ToString(bp.Policy)); err != nil || !d.Equivalent(bucketPolicy) {
				putBucketPolicy.Why = "the bucket's policy differs"
				actions = append(actions, putBucketPolicy)
			}
		}
	}

	// The trail.
	groupARN := want.logGroupARN() + ":*"
	if ours == nil {
		actions = append(actions, awsguard.Action{Kind: ActionCreateTrail, Call: "cloudtrail:CreateTrail", Resource: want.TrailName,
			Detail: "create multi-region trail " + want.TrailName + " with log file validation, to " + want.Bucket + " and log group " + want.LogGroup + ", tagged " + TagManaged,
			Why:    "no trail delivers to CloudWatch Logs"})
	} else {
		var diff []string
		if !aws.ToBool(ours.IsMultiRegionTrail) {
			diff = append(diff, "not multi-region")
		}
		if !aws.ToBool(ours.LogFileValidationEnabled) {
			diff = append(diff, "log file validation off")
		}
		if aws.ToString(ours.CloudWatchLogsLogGroupArn) != groupARN {
			diff = append(diff, fmt.Sprintf("log group %q", aws.ToString(ours.CloudWatchLogsLogGroupArn)))
		}
		if aws.ToString(ours.CloudWatchLogsRoleArn) != res.RoleARN {
			diff = append(diff, fmt.Sprintf("role %q", aws.ToString(ours.CloudWatchLogsRoleArn)))
		}
		if aws.ToString(ours.S3BucketName) != want.Bucket {
			diff = append(diff, fmt.Sprintf("bucket %q", aws.ToString(ours.S3BucketName)))
		}
		if len(diff) > 0 {
			actions = append(actions, awsguard.Action{Kind: ActionUpdateTrail, Call: "cloudtrail:UpdateTrail", Resource: want.trailARN(),
				Detail: "make trail " + want.TrailName + " multi-region with log file validation, to " + want.Bucket + " and log group " + want.LogGroup,
				Why:    "the trail is " + strings.Join(diff, ", ")})
		}
	}
	if !logging {
		actions = append(actions, awsguard.Action{Kind: ActionStartLogging, Call: "cloudtrail:StartLogging", Resource: want.trailARN(),
			Detail: "start logging of trail " + want.TrailName, Why: "the trail does not log"})
	}

	// Order: the group and the role before the trail that names them.
	for _, a := range groupActions {
		res.Add(a)
	}
	for _, a := range actions {
		res.Add(a)
	}
	switch {
	case res.NothingToDo():
		res.State = TrailCompliant
	case ours == nil:
		res.State = TrailAbsent
	default:
		res.State = TrailDrifted
	}

	wait := o.MaxWait
	if wait <= 0 {
		wait = time.Minute
	}
	trailCall := func(ctx context.Context, call func(ctx context.Context) error) error {
		_, err := poll.Until(ctx, poll.Options{MaxWait: wait, MinDelay: o.minDelay()}, func(ctx context.Context, _ int) (bool, error) {
			err := call(ctx)
			if awserr.HasCode(err, "InvalidCloudWatchLogsRoleArnException", "InvalidCloudWatchLogsLogGroupArnException") {
				return false, nil // the new role or group has not reached CloudTrail yet
			}
			return err == nil, err
		})
		return err
	}
	err = res.Plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionCreateLogGroup, ActionSetRetention, ActionAssociateKey:
			return applyLogGroup(ctx, c.Logs, group, a.Kind)
		case ActionCreateTrailRole, ActionTrailTrust:
			doc, err := trust.JSON()
			if err != nil {
				return err
			}
			if a.Kind == ActionTrailTrust {
				_, err = c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(want.RoleName), PolicyDocument: aws.String(doc)})
				return wrapStep("update trust policy of "+want.RoleName, err)
			}
			out, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(want.RoleName), Path: aws.String(RolePath),
				AssumeRolePolicyDocument: aws.String(doc), Description: aws.String("awsguard: CloudTrail delivers to CloudWatch Logs"), Tags: iamTags()})
			if err != nil {
				return wrapStep("create role "+want.RoleName, err)
			}
			res.RoleARN = aws.ToString(out.Role.Arn)
		case ActionTrailRolePolicy:
			doc, err := policy.JSON()
			if err != nil {
				return err
			}
			_, err = c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(want.RoleName), PolicyName: aws.String(TrailRolePolicyName), PolicyDocument: aws.String(doc)})
			return wrapStep("put policy of role "+want.RoleName, err)
		case ActionCreateBucket:
			in := &s3.CreateBucketInput{Bucket: aws.String(want.Bucket)}
			if want.Region != "us-east-1" {
				in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(want.Region)}
			}
			_, err := c.S3.CreateBucket(ctx, in)
			if awserr.HasCode(err, "BucketAlreadyOwnedByYou") {
				err = nil // made by a call whose answer was lost
			}
			return wrapStep("create bucket "+want.Bucket, err)
		case ActionTagBucket:
			if _, err := c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(want.Bucket), Tagging: &s3types.Tagging{TagSet: s3Tags()}}); err != nil {
				return wrapStep("tag bucket "+want.Bucket, err)
			}
			_, err = c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(want.Bucket), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
			return wrapStep("block public access to bucket "+want.Bucket, err)
		case ActionBucketPolicy:
			doc, err := bucketPolicy.JSON()
			if err != nil {
				return err
			}
			_, err = c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(want.Bucket), Policy: aws.String(doc)})
			return wrapStep("put policy of bucket "+want.Bucket, err)
		case ActionCreateTrail:
			err := trailCall(ctx, func(ctx context.Context) error {
				_, err := c.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(want.TrailName), S3BucketName: aws.String(want.Bucket),
					IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
					CloudWatchLogsLogGroupArn: aws.String(groupARN), CloudWatchLogsRoleArn: aws.String(res.RoleARN), TagsList: ctTags()})
				return err
			})
			return wrapStep("create trail "+want.TrailName, err)
		case ActionUpdateTrail:
			err := trailCall(ctx, func(ctx context.Context) error {
				_, err := c.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(want.TrailName), S3BucketName: aws.String(want.Bucket),
					IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
					CloudWatchLogsLogGroupArn: aws.String(groupARN), CloudWatchLogsRoleArn: aws.String(res.RoleARN)})
				return err
			})
			return wrapStep("update trail "+want.TrailName, err)
		case ActionStartLogging:
			_, err := c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(want.TrailName)})
			return wrapStep("start logging of trail "+want.TrailName, err)
		default:
			return fmt.Errorf("unknown action %q", a.Kind)
		}
		return nil
	}, o.apply(op))
	return res, err
}

func tagBucket(bucket, why string) awsguard.Action {
	return awsguard.Action{Kind: ActionTagBucket, Call: "s3:PutBucketTagging, s3:PutPublicAccessBlock", Resource: bucket,
		Detail: "tag bucket " + bucket + " " + TagManaged + " and block public access to it", Why: why}
}
