package observe

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// TeardownTrailAPI is the part of *cloudtrail.Client that Teardown calls
// for observe's trail: cloudtrail:DescribeTrails, cloudtrail:ListTags, and
// to remove: cloudtrail:StopLogging and cloudtrail:DeleteTrail.
type TeardownTrailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	ListTags(ctx context.Context, in *cloudtrail.ListTagsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error)
	StopLogging(ctx context.Context, in *cloudtrail.StopLoggingInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StopLoggingOutput, error)
	DeleteTrail(ctx context.Context, in *cloudtrail.DeleteTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DeleteTrailOutput, error)
}

// TeardownBucketAPI is the part of *s3.Client that Teardown calls for the
// trail's bucket: s3:ListAllMyBuckets (ListBuckets), s3:GetBucketTagging,
// s3:ListBucket (ListObjectsV2), and to remove: s3:DeleteObject
// (DeleteObjects, only with DeleteTrailBucket) and s3:DeleteBucket.
type TeardownBucketAPI interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, optFns ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, optFns ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
}

var (
	_ TeardownTrailAPI  = (*cloudtrail.Client)(nil)
	_ TeardownBucketAPI = (*s3.Client)(nil)
)

// The action kinds of Teardown for the trail, carried out first.
const (
	ActionStopLogging  = "stop-logging"
	ActionDeleteTrail  = "delete-trail"
	ActionEmptyBucket  = "empty-trail-bucket"
	ActionDeleteBucket = "delete-trail-bucket"
)

func planTrailTeardown(ctx context.Context, api TeardownTrailAPI) ([]teardownStep, error) {
	out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
	if err != nil {
		return nil, fmt.Errorf("observe: describe trails: %w", err)
	}
	var steps []teardownStep
	for _, t := range out.TrailList {
		arn, name := aws.ToString(t.TrailARN), aws.ToString(t.Name)
		tags, err := api.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
		if err != nil {
			return nil, fmt.Errorf("observe: list tags of trail %s: %w", name, err)
		}
		managed := false
		for _, r := range tags.ResourceTagList {
			managed = managed || isManaged(ctTagMap(r.TagsList))
		}
		if !managed {
			continue
		}
		steps = append(steps, teardownStep{
			action: awsguard.Action{Kind: ActionStopLogging, Call: "cloudtrail:StopLogging", Resource: arn, Detail: "stop logging of trail " + name},
			do: func(ctx context.Context) error {
				_, err := api.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(name)})
				if err != nil && !trailNotFound(err) {
					return fmt.Errorf("stop logging of trail %s: %w", name, err)
				}
				return nil
			},
		}, teardownStep{
			action: awsguard.Action{Kind: ActionDeleteTrail, Call: "cloudtrail:DeleteTrail", Resource: arn, Detail: "delete trail " + name},
			do: func(ctx context.Context) error {
				_, err := api.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(name)})
				if err != nil && !trailNotFound(err) {
					return fmt.Errorf("delete trail %s: %w", name, err)
				}
				return nil
			},
		})
	}
	return steps, nil
}

// planBucketTeardown deletes the buckets observe created: empty ones, and
// with DeleteTrailBucket those holding log files too (after emptying
// them). A bucket of log files is otherwise kept and listed in Changed.
func planBucketTeardown(ctx context.Context, api TeardownBucketAPI, o TeardownOptions, res *TeardownResult) ([]teardownStep, error) {
	var steps []teardownStep
	p := s3.NewListBucketsPaginator(api, &s3.ListBucketsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: list buckets: %w", err)
		}
		for _, b := range out.Buckets {
			name := aws.ToString(b.Name)
			_, managed, err := bucketState(ctx, api, name)
			if err != nil {
				return nil, err
			}
			if !managed {
				continue
			}
			objs, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name), MaxKeys: aws.Int32(1)})
			if err != nil {
				return nil, fmt.Errorf("observe: list objects of bucket %s: %w", name, err)
			}
			if len(objs.Contents) > 0 {
				if !o.DeleteTrailBucket {
					res.Changed = append(res.Changed, ChangedResource{Resource: "arn:aws:s3:::" + name, Change: "holds log files", Kept: true})
					res.Warnings = append(res.Warnings, "bucket "+name+" kept: it holds log files (set DeleteTrailBucket to delete them with it)")
					continue
				}
				steps = append(steps, teardownStep{
					action: awsguard.Action{Kind: ActionEmptyBucket, Call: "s3:ListBucket, s3:DeleteObject", Resource: name, Detail: "delete every object of bucket " + name},
					do:     func(ctx context.Context) error { return emptyBucket(ctx, api, name) },
				})
			}
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDeleteBucket, Call: "s3:DeleteBucket", Resource: name, Detail: "delete bucket " + name},
				do: func(ctx context.Context) error {
					_, err := api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
					if err != nil && !awserr.HasCode(err, "NoSuchBucket") {
						return fmt.Errorf("delete bucket %s: %w", name, err)
					}
					return nil
				},
			})
		}
	}
	return steps, nil
}

func emptyBucket(ctx context.Context, api TeardownBucketAPI, name string) error {
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if awserr.HasCode(err, "NoSuchBucket") {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list objects of bucket %s: %w", name, err)
		}
		if len(out.Contents) == 0 {
			continue
		}
		var ids []s3types.ObjectIdentifier
		for _, obj := range out.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: obj.Key})
		}
		del, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects of bucket %s: %w", name, err)
		}
		if len(del.Errors) > 0 {
			return fmt.Errorf("%w: delete objects of bucket %s: %s %s", ErrPartialFailure, name, aws.ToString(del.Errors[0].Key), aws.ToString(del.Errors[0].Code))
		}
	}
	return nil
}
