package ec2recover

import (
	"context"
	"errors"
	"fmt"

	"github.com/awsguard/awsguard"
)

const (
	opResume   = "ec2recover.Resume"
	opRollback = "ec2recover.Rollback"
)

// ActionRollback is the kind of every action of a Rollback's plan.
const ActionRollback = "rollback"

func loadRecord(ctx context.Context, op string, c Clients, j Journal) (*Record, error) {
	if j == nil {
		return nil, &awsguard.InputError{Operation: op, Field: "journal", Value: "nil", Allowed: "the journal of the recovery"}
	}
	if c.EC2 == nil || c.SSM == nil {
		return nil, &awsguard.InputError{Operation: op, Field: "Clients", Value: "nil EC2 or SSM", Allowed: "EC2 and SSM clients"}
	}
	r, err := j.Load(ctx)
	if err != nil {
		return nil, err
	}
	if r.Version != 1 || r.ID == "" || !instanceIDRE.MatchString(r.InstanceID) {
		return nil, fmt.Errorf("%w: the record is not one this version wrote (version %d, id %q, instance %q)", ErrJournalMismatch, r.Version, r.ID, r.InstanceID)
	}
	return r, nil
}

// Resume finishes a recovery that failed or was cut short, from its
// journal: it carries out the steps the record does not show done, each
// of which reads the live state first. A finished or rolled-back recovery
// gives an empty plan. Options.Journal is ignored (j is used); the
// options that shaped the recovery (KeepSnapshot, the login user, the
// key) come from the record. The private key is not in the journal: it
// is where the first run put it (Options.KeyFile, ParameterName).
func Resume(ctx context.Context, c Clients, j Journal, optFns ...func(*Options)) (*Recovery, error) {
	r, err := loadRecord(ctx, opResume, c, j)
	if err != nil {
		return nil, err
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.Journal = j
	o.defaults()
	rec := &Recovery{ID: r.ID, InstanceID: r.InstanceID, Strategy: r.Strategy, Downtime: r.Strategy.Downtime(), Resumed: true}
	rec.Plan = awsguard.Plan{Operation: opResume, Resource: r.InstanceID, DryRun: o.DryRun}
	if r.PublicKey != "" {
		rec.Key, _ = ParsePublicKey(r.PublicKey)
	}
	switch r.Phase {
	case PhaseDone, PhaseRolledBack:
		rec.Reason = awsguard.ReasonAlreadyCompliant
		rec.Warnings = append(rec.Warnings, "recovery "+r.ID+" is "+r.Phase)
		return rec, nil
	}
	switch r.Strategy {
	case StrategyRepair:
		planRepair(rec, r)
	case StrategySSM:
		planSSM(rec, r)
	case StrategyUserData:
		planUserData(rec, r)
	case StrategyRelaunch:
		planRelaunch(rec, r)
	default:
		return rec, fmt.Errorf("%w: strategy %q", ErrJournalMismatch, r.Strategy)
	}
	x := &executor{c: c, o: &o, r: r, rec: rec}
	if o.DryRun {
		for i := range rec.Actions {
			if r.done(rec.Actions[i].Kind) {
				rec.Actions[i].Outcome = awsguard.OutcomeSkipped
			}
		}
		rec.Reason = awsguard.ReasonDryRun
		return rec, nil
	}
	return rec, x.apply(ctx)
}

// Rollback undoes a recovery from its journal: the root volume goes back
// to the instance under its own root device name, the instance returns to
// its prior state, the helper is terminated and everything tagged by the
// recovery is removed (the snapshot is kept only if the recovery was
// asked to keep it). Each step reads the live state first, so Rollback may
// run again after a failure of its own. A rolled-back recovery gives an
// empty plan; a finished one is not undone (the key stays: remove it from
// authorized_keys if it is unwanted).
func Rollback(ctx context.Context, c Clients, j Journal, optFns ...func(*Options)) (*Recovery, error) {
	r, err := loadRecord(ctx, opRollback, c, j)
	if err != nil {
		return nil, err
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.Journal = j
	o.defaults()
	rec := &Recovery{ID: r.ID, InstanceID: r.InstanceID, Strategy: r.Strategy}
	rec.Plan = awsguard.Plan{Operation: opRollback, Resource: r.InstanceID, DryRun: o.DryRun}
	switch r.Phase {
	case PhaseRolledBack:
		rec.Reason = awsguard.ReasonNothingToRemove
		return rec, nil
	case PhaseDone:
		rec.Reason = awsguard.ReasonAlreadyCompliant
		rec.Warnings = append(rec.Warnings, "recovery "+r.ID+" finished; nothing is undone")
		return rec, nil
	}
	if o.DryRun || r.Strategy == StrategySSM {
		if r.Strategy != StrategySSM {
			rec.Add(awsguard.Action{Kind: ActionRollback, Resource: r.RootVolumeID, Detail: "reattach " + r.RootVolumeID + " to " + r.InstanceID + " as " + r.RootDeviceName + ", return the instance to " + r.PriorState + ", remove what is tagged " + TagRecovery + "=" + r.ID})
		}
		return rec, rec.Apply(ctx, nil, awsguard.ApplyOptions{Logger: o.Logger})
	}
	x := &executor{c: c, o: &o, r: r, rec: rec}
	undone, err := x.rollbackAny(ctx)
	for _, u := range undone {
		rec.Add(awsguard.Action{Kind: ActionRollback, Detail: u, Outcome: awsguard.OutcomeDone})
	}
	rec.Applied = len(undone) > 0
	rec.RolledBack = err == nil
	if err != nil {
		rec.Reason = awsguard.ReasonFailed
		se := &awsguard.StepError{Operation: opRollback, Step: ActionRollback, Resource: r.InstanceID, Err: err, RolledBack: undone,
			ToDo: "run Rollback again; each step reads the live state"}
		var us error = se
		if errors.Is(err, ErrUnexpectedState) {
			se.ToDo = "fix the state named in the error by hand, then run Rollback again"
		}
		return rec, us
	}
	rec.Reason = awsguard.ReasonApplied
	if len(undone) == 0 {
		rec.Reason = awsguard.ReasonNothingToRemove
	}
	return rec, nil
}
