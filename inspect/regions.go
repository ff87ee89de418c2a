package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/awsguard/awsguard"
)

// AuditNetworkRegions runs AuditNetwork in each region through
// awsguard.ForEachRegion (at most Concurrency regions at once) with an EC2
// client made from cfg, and merges the reports. A region that fails gives
// its StatusError findings and its error; the others are still audited.
// The error joins the regions' errors (each wraps ErrAuditIncomplete), or
// is the fan-out's input error (an unknown or repeated region).
func AuditNetworkRegions(ctx context.Context, cfg aws.Config, regions []string, concurrency int, optFns ...func(*NetworkOptions)) (*awsguard.Report, error) {
	if _, err := networkOptions(optFns); err != nil {
		return nil, err
	}
	res, err := awsguard.ForEachRegion(ctx, cfg, regions, func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
		return AuditNetwork(ctx, ec2.NewFromConfig(t.Config), append(optFns, func(o *NetworkOptions) { o.Region = t.Region })...)
	}, func(o *awsguard.FanoutOptions) { o.Concurrency = concurrency })
	if err != nil {
		return nil, err
	}
	var reps []*awsguard.Report
	var errs []error
	for _, r := range res {
		reps = append(reps, r.Value)
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("region %s: %w", r.Region, r.Err))
		}
	}
	return awsguard.Merge(reps...), errors.Join(errs...)
}
