package observe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/observe"
)

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func trailClients(cfg aws.Config) observe.TrailLogsClients {
	return observe.TrailLogsClients{CloudTrail: cloudtrail.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg),
		IAM: iam.NewFromConfig(cfg), S3: s3Client(cfg)}
}

func trailWant(id string) observe.TrailLogs {
	return observe.TrailLogs{AccountID: "123456789012", Region: awstest.DefaultRegion, Bucket: "trail-" + strings.ToLower(id),
		TrailName: "trail-" + id, LogGroup: "trail/" + id, RoleName: "trail-" + id, OwnTrail: true}
}

func allTeardownClients(cfg aws.Config) observe.TeardownClients {
	return observe.TeardownClients{CloudTrail: cloudtrail.NewFromConfig(cfg), S3: s3Client(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
}

// checkTrail checks the trail, its role, group and bucket as wanted.
func checkTrail(t *testing.T, cfg aws.Config, want observe.TrailLogs) {
	t.Helper()
	ctx := context.Background()
	ct := cloudtrail.NewFromConfig(cfg)
	tr, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(want.TrailName)})
	must(t, err)
	got := tr.Trail
	if !aws.ToBool(got.IsMultiRegionTrail) || !aws.ToBool(got.LogFileValidationEnabled) || aws.ToString(got.S3BucketName) != want.Bucket ||
		!strings.HasSuffix(aws.ToString(got.CloudWatchLogsLogGroupArn), ":log-group:"+want.LogGroup+":*") ||
		!strings.HasSuffix(aws.ToString(got.CloudWatchLogsRoleArn), ":role"+observe.RolePath+want.RoleName) {
		t.Errorf("trail = %+v", got)
	}
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(want.TrailName)})
	must(t, err)
	if !aws.ToBool(st.IsLogging) {
		t.Error("trail does not log")
	}
	api := iam.NewFromConfig(cfg)
	role, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(want.RoleName)})
	must(t, err)
	trust, err := awsguard.ParsePolicyDocument(aws.ToString(role.Role.AssumeRolePolicyDocument))
	must(t, err)
	if !trust.Equivalent(observe.TrailTrustPolicy(want)) {
		t.Errorf("trust policy = %s", aws.ToString(role.Role.AssumeRolePolicyDocument))
	}
	rp, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(want.RoleName), PolicyName: aws.String(observe.TrailRolePolicyName)})
	must(t, err)
	pol, err := awsguard.ParsePolicyDocument(aws.ToString(rp.PolicyDocument))
	must(t, err)
	if !pol.Equivalent(observe.TrailRolePolicy(want)) {
		t.Errorf("role policy = %s", aws.ToString(rp.PolicyDocument))
	}
	bp, err := s3Client(cfg).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(want.Bucket)})
	must(t, err)
	bd, err := awsguard.ParsePolicyDocument(aws.ToString(bp.Policy))
	must(t, err)
	if !bd.Equivalent(observe.TrailBucketPolicy(want)) {
		t.Errorf("bucket policy = %s", aws.ToString(bp.Policy))
	}
	groups, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(want.LogGroup)})
	must(t, err)
	if len(groups.LogGroups) != 1 || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 365 {
		t.Errorf("log groups = %+v", groups.LogGroups)
	}
}

// The trail, its log group, role and bucket are made once, then left
// alone; Teardown removes them (trail first) and nothing else.
func TestEnsureTrailLogsAndTeardown(t *testing.T) {
	ctx := context.Background()
	env := awstest.New(t)
	cfg := env.Config()
	// Unrelated: a bucket and a trail that does not deliver to CloudWatch Logs.
	_, err := s3Client(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("unrelated-bucket")})
	must(t, err)
	_, err = cloudtrail.NewFromConfig(cfg).CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("unrelated"), S3BucketName: aws.String("unrelated-bucket")})
	must(t, err)
	want := trailWant("main")
	want.OwnTrail = false

	dry, err := observe.EnsureTrailLogs(ctx, trailClients(cfg), want, func(o *observe.Options) { o.DryRun = true })
	must(t, err)
	var kinds []string
	for _, a := range dry.Actions {
		kinds = append(kinds, a.Kind)
	}
	wantKinds := []string{observe.ActionCreateLogGroup, observe.ActionSetRetention, observe.ActionCreateTrailRole, observe.ActionTrailRolePolicy,
		observe.ActionCreateBucket, observe.ActionTagBucket, observe.ActionBucketPolicy, observe.ActionCreateTrail, observe.ActionStartLogging}
	if d := cmpDiff(wantKinds, kinds); d != "" || dry.State != observe.TrailAbsent || dry.Applied {
		t.Errorf("dry run: state %v, applied %v, kinds (-want +got):\n%s", dry.State, dry.Applied, d)
	}
	if _, err := cloudtrail.NewFromConfig(cfg).GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(want.TrailName)}); err == nil {
		t.Fatal("the dry run made the trail")
	}

	res, err := observe.EnsureTrailLogs(ctx, trailClients(cfg), want)
	must(t, err)
	if res.LogGroupName != want.LogGroup || !res.Applied {
		t.Errorf("result = %+v", res)
	}
	checkTrail(t, cfg, want)

	ccfg, calls := counted(env)
	again, err := observe.EnsureTrailLogs(ctx, trailClients(ccfg), want)
	must(t, err)
	if m := mutating(calls); len(m) != 0 || again.State != observe.TrailCompliant || again.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("second run: state %v, reason %q, mutating calls %v", again.State, again.Reason, m)
	}

	// Another caller's view: observe's trail now delivers, so a request
	// for another name finds it and does nothing.
	other := trailWant("other")
	other.OwnTrail = false
	ccfg, calls = counted(env)
	found, err := observe.EnsureTrailLogs(ctx, trailClients(ccfg), other)
	must(t, err)
	if m := mutating(calls); len(m) != 0 || found.State != observe.TrailOther || found.LogGroupName != want.LogGroup || !strings.HasSuffix(found.TrailARN, ":trail/"+want.TrailName) {
		t.Errorf("with a delivering trail: %+v, mutating %v", found, m)
	}

	tdry, err := observe.Teardown(ctx, allTeardownClients(cfg), func(o *observe.TeardownOptions) { o.DryRun = true; o.DeleteLogGroups = true })
	must(t, err)
	var order []string
	for _, a := range tdry.Actions {
		order = append(order, a.Kind)
	}
	wantOrder := []string{observe.ActionStopLogging, observe.ActionDeleteTrail, observe.ActionDeleteBucket, observe.ActionDeleteLogs,
		observe.ActionDeleteInline, observe.ActionDeleteRole}
	if d := cmpDiff(wantOrder, order); d != "" {
		t.Errorf("teardown order (-want +got):\n%s", d)
	}
	// A bucket holding log files is kept unless DeleteTrailBucket.
	_, err = s3Client(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(want.Bucket), Key: aws.String("AWSLogs/123456789012/x.json.gz"), Body: strings.NewReader("x")})
	must(t, err)
	kept, err := observe.Teardown(ctx, allTeardownClients(cfg), func(o *observe.TeardownOptions) { o.DeleteLogGroups = true })
	must(t, err)
	if len(kept.Changed) != 1 || !kept.Changed[0].Kept || kept.Changed[0].Resource != "arn:aws:s3:::"+want.Bucket {
		t.Errorf("changed = %+v", kept.Changed)
	}
	_, err = observe.Teardown(ctx, allTeardownClients(cfg), func(o *observe.TeardownOptions) { o.DeleteLogGroups = true; o.DeleteTrailBucket = true })
	must(t, err)
	trails, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	must(t, err)
	if len(trails.TrailList) != 1 || aws.ToString(trails.TrailList[0].Name) != "unrelated" {
		t.Errorf("trails left: %+v", trails.TrailList)
	}
	buckets, err := s3Client(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
	must(t, err)
	if len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "unrelated-bucket" {
		t.Errorf("buckets left: %+v", buckets.Buckets)
	}
	if _, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(want.RoleName)}); err == nil {
		t.Error("the role is left")
	}
	ccfg, calls = counted(env)
	second, err := observe.Teardown(ctx, allTeardownClients(ccfg), func(o *observe.TeardownOptions) { o.DeleteLogGroups = true })
	must(t, err)
	if m := mutating(calls); len(m) != 0 || second.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("second teardown: reason %q, mutating %v", second.Reason, m)
	}
}

// Input is refused before any call, naming the field.
func TestEnsureTrailLogsInput(t *testing.T) {
	for field, w := range map[string]observe.TrailLogs{
		"TrailLogs.AccountID":     {Region: "us-east-1", Bucket: "b-b-b"},
		"TrailLogs.Bucket":        {AccountID: "123456789012", Region: "us-east-1", Bucket: "Bad_Bucket"},
		"TrailLogs.RetentionDays": {AccountID: "123456789012", Region: "us-east-1", Bucket: "bbb", RetentionDays: 2},
		"TrailLogs.LogGroup":      {AccountID: "123456789012", Region: "us-east-1", Bucket: "bbb", LogGroup: "aws/x"},
	} {
		_, err := observe.EnsureTrailLogs(context.Background(), observe.TrailLogsClients{CloudTrail: &cloudtrail.Client{}, Logs: &cloudwatchlogs.Client{}, IAM: &iam.Client{}, S3: &s3.Client{}}, w)
		var ie *awsguard.InputError
		if !errorsAs(err, &ie) || ie.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}

func TestEnsureTrailLogsFaultSweep(t *testing.T) {
	ctx := context.Background()
	sweep(t, "EnsureTrailLogs", noSeed, func(cfg aws.Config, id string) error {
		_, err := observe.EnsureTrailLogs(ctx, trailClients(cfg), trailWant(id), func(o *observe.Options) { o.MinDelay = 10e6 })
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		checkTrail(t, cfg, trailWant(id))
	})
}

// Teardown of EnsureTrailLogs's trail, log group, delivery role and
// bucket after a fault at any call, run again, leaves none of them, and
// leaves the unrelated trail, bucket, role and log group (and a third
// Teardown makes no mutating call: sweep).
func TestTeardownTrailFaultSweep(t *testing.T) {
	ctx := context.Background()
	opts := func(o *observe.TeardownOptions) { o.DeleteLogGroups = true }
	want := func(id string) observe.TrailLogs {
		w := trailWant("td-" + id) // bucket names are global
		w.AccountID = sweepAccounts["Teardown (trail)"]
		return w
	}
	sweep(t, "Teardown (trail)", func(t *testing.T, cfg aws.Config, id string) {
		if id == "probe" {
			_, err := s3Client(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("td-unrelated-bucket")})
			must(t, err)
			_, err = cloudtrail.NewFromConfig(cfg).CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("unrelated"), S3BucketName: aws.String("td-unrelated-bucket")})
			must(t, err)
			_, err = iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("unrelated"), Path: aws.String(observe.RolePath),
				AssumeRolePolicyDocument: aws.String(observe.AgentTrustPolicyJSON())})
			must(t, err)
			_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("unrelated")})
			must(t, err)
		}
		_, err := observe.EnsureTrailLogs(ctx, trailClients(cfg), want(id), func(o *observe.Options) { o.MinDelay = 10e6 })
		must(t, err)
	}, func(cfg aws.Config, id string) error {
		_, err := observe.Teardown(ctx, allTeardownClients(cfg), opts)
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		trails, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		must(t, err)
		if len(trails.TrailList) != 1 || aws.ToString(trails.TrailList[0].Name) != "unrelated" {
			t.Errorf("trails left: %+v", trails.TrailList)
		}
		buckets, err := s3Client(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
		must(t, err)
		if len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "td-unrelated-bucket" {
			t.Errorf("buckets left: %+v", buckets.Buckets)
		}
		api := iam.NewFromConfig(cfg)
		roles, err := api.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String(observe.RolePath)})
		must(t, err)
		if len(roles.Roles) != 1 || aws.ToString(roles.Roles[0].RoleName) != "unrelated" {
			t.Errorf("roles left: %+v", roles.Roles)
		}
		groups, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		must(t, err)
		if len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].LogGroupName) != "unrelated" {
			t.Errorf("log groups left: %+v", groups.LogGroups)
		}
	})
}
