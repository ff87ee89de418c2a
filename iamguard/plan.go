package iamguard

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// planner builds an awsguard.Plan and keeps, beside each action, the
// function that carries it out. Every mutating operation of the package
// plans with it and runs the plan through awsguard.Plan.Apply.
type planner struct {
	plan *awsguard.Plan
	do   []func(context.Context, *awsguard.Action) error
}

// newPlanner starts the plan of operation (such as "EnforceMFA": the
// package name is added) on resource.
func newPlanner(operation, resource string, dryRun bool) *planner {
	return &planner{plan: &awsguard.Plan{Operation: "iamguard." + operation, Resource: resource, DryRun: dryRun, Actions: []awsguard.Action{}}}
}

// add appends an action and the function that carries it out.
func (p *planner) add(a awsguard.Action, do func(context.Context) error) {
	p.addAction(a, func(ctx context.Context, _ *awsguard.Action) error { return do(ctx) })
}

// addAction is add for a function that may mark its action (skipped).
func (p *planner) addAction(a awsguard.Action, do func(context.Context, *awsguard.Action) error) {
	p.plan.Add(a)
	p.do = append(p.do, do)
}

// apply carries out the plan with awsguard.Plan.Apply. Every operation of
// this package is idempotent, so a failed step is not rolled back: the
// error says what was done and that a re-run carries out what is left.
func (p *planner) apply(ctx context.Context, log *slog.Logger, allowWeaken bool) (*awsguard.Plan, error) {
	err := p.plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		for i := range p.plan.Actions {
			if &p.plan.Actions[i] == a {
				return p.do[i](ctx, a)
			}
		}
		return errors.New("iamguard: action not in its plan") // unreachable: Apply passes the plan's own actions
	}, awsguard.ApplyOptions{
		AllowWeaken: allowWeaken,
		Logger:      log,
		ToDo:        "run " + p.plan.Operation + " again: it carries out only what is left",
	})
	return p.plan, err
}

// discardNil returns l, or a logger that discards when l is nil.
func discardNil(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// isNoSuchEntity matches IAM's NoSuchEntity, by type or by error code.
func isNoSuchEntity(err error) bool {
	var nse *types.NoSuchEntityException
	return errors.As(err, &nse) || awserr.HasCode(err, "NoSuchEntity")
}

// isAlreadyExists matches IAM's EntityAlreadyExists, by type or by code.
func isAlreadyExists(err error) bool {
	var ee *types.EntityAlreadyExistsException
	return errors.As(err, &ee) || awserr.HasCode(err, "EntityAlreadyExists")
}

// inputError is the *awsguard.InputError of operation (such as
// "EnforceMFA") for a refused field.
func inputError(operation, field, value, allowed string) error {
	return &awsguard.InputError{Operation: "iamguard." + operation, Field: field, Value: value, Allowed: allowed}
}
