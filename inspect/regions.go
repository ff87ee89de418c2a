package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"

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
		return AuditNetwork(ctx, ec2.NewFromConfig(t.Config), append(slices.Clone(optFns), func(o *NetworkOptions) { o.Region = t.Region })...)
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

func inspectorFanout[T any](ctx context.Context, cfg aws.Config, regions []string, concurrency int, fn func(context.Context, *inspector2.Client, func(*InspectorOptions)) (T, error)) ([]awsguard.Result[T], error) {
	return awsguard.ForEachRegion(ctx, cfg, regions, func(ctx context.Context, t awsguard.Target) (T, error) {
		return fn(ctx, inspector2.NewFromConfig(t.Config), func(o *InspectorOptions) { o.Region = t.Region })
	}, func(o *awsguard.FanoutOptions) { o.Concurrency = concurrency })
}

// EnableRegions runs Enable in each region (awsguard.ForEachRegion, at
// most concurrency at once) and returns each region's plan or error.
func EnableRegions(ctx context.Context, cfg aws.Config, regions []string, concurrency int, optFns ...func(*InspectorOptions)) ([]awsguard.Result[*awsguard.Plan], error) {
	if _, err := inspectorOptions("inspect.Enable", nil, optFns); err != nil {
		return nil, err
	}
	return inspectorFanout(ctx, cfg, regions, concurrency, func(ctx context.Context, c *inspector2.Client, region func(*InspectorOptions)) (*awsguard.Plan, error) {
		return Enable(ctx, c, append(slices.Clone(optFns), region)...)
	})
}

// DisableRegions runs Disable in each region.
func DisableRegions(ctx context.Context, cfg aws.Config, regions []string, concurrency int, optFns ...func(*InspectorOptions)) ([]awsguard.Result[*awsguard.Plan], error) {
	if _, err := inspectorOptions("inspect.Disable", nil, optFns); err != nil {
		return nil, err
	}
	return inspectorFanout(ctx, cfg, regions, concurrency, func(ctx context.Context, c *inspector2.Client, region func(*InspectorOptions)) (*awsguard.Plan, error) {
		return Disable(ctx, c, append(slices.Clone(optFns), region)...)
	})
}

// StatusRegions runs Status in each region.
func StatusRegions(ctx context.Context, cfg aws.Config, regions []string, concurrency int, optFns ...func(*InspectorOptions)) ([]awsguard.Result[*AccountStatus], error) {
	if _, err := inspectorOptions("inspect.Status", nil, optFns); err != nil {
		return nil, err
	}
	return inspectorFanout(ctx, cfg, regions, concurrency, func(ctx context.Context, c *inspector2.Client, region func(*InspectorOptions)) (*AccountStatus, error) {
		return Status(ctx, c, append(slices.Clone(optFns), region)...)
	})
}

// AuditInspectorRegions runs Audit in each region and merges the reports
// and summaries' findings. The error joins the regions' errors.
func AuditInspectorRegions(ctx context.Context, cfg aws.Config, regions []string, concurrency int, filter FindingFilter, optFns ...func(*InspectorOptions)) (*awsguard.Report, error) {
	if _, err := inspectorOptions("inspect.Audit", nil, optFns); err != nil {
		return nil, err
	}
	res, err := inspectorFanout(ctx, cfg, regions, concurrency, func(ctx context.Context, c *inspector2.Client, region func(*InspectorOptions)) (*awsguard.Report, error) {
		rep, _, err := Audit(ctx, c, filter, append(slices.Clone(optFns), region)...)
		return rep, err
	})
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
