package keyrotate

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// StepRepair names RepairPending in its *awsguard.StepError.
const StepRepair Step = "repair"

// RepairOptions tune RepairPending. The zero value is ready.
type RepairOptions struct {
	// DryRun reports what would be done and changes nothing.
	DryRun bool
	// KeepKey leaves the AWSPENDING version's access key in IAM (by
	// default it is deleted: nothing reads it, and it takes a key slot).
	KeepKey bool
	Logger  *slog.Logger
}

// Repair is what RepairPending found and did (or, in a dry run, would do).
type Repair struct {
	SecretARN string
	// VersionID is the version that carried the orphaned AWSPENDING label;
	// empty when there was none.
	VersionID string `json:",omitempty"`
	// KeyID is that version's access key, if it held one.
	KeyID string `json:",omitempty"`
	// KeyDeleted and LabelRemoved say what was (or would be) done.
	KeyDeleted   bool
	LabelRemoved bool
	DryRun       bool
	// Reason explains a repair that had nothing to do.
	Reason string `json:",omitempty"`
}

// RepairPending clears an orphaned AWSPENDING label: one left on a version
// other than AWSCURRENT's by a rotation that failed for good. While it
// stays, Secrets Manager refuses to start a rotation. The access key that
// version holds is deleted first (unless KeepKey, or unless it is the key
// of AWSCURRENT or AWSPREVIOUS), then the label is removed; run again, it
// finds nothing to do. Run it only when no rotation is in progress
// (Secrets Manager has given up retrying).
//
// Permissions: secretsmanager:DescribeSecret,
// secretsmanager:GetSecretValue, secretsmanager:UpdateSecretVersionStage
// on the secret; iam:ListAccessKeys, iam:DeleteAccessKey on the user.
func RepairPending(ctx context.Context, sm RepairSecretsAPI, iamAPI RepairIAMAPI, secretID string, optFns ...func(*RepairOptions)) (*Repair, error) {
	const op = "keyrotate.RepairPending"
	var o RepairOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case sm == nil:
		return nil, inputError(op, "sm", "nil", "a Secrets Manager client")
	case iamAPI == nil:
		return nil, inputError(op, "iamAPI", "nil", "an IAM client")
	case secretID == "":
		return nil, inputError(op, "secretID", "", "a secret name or ARN")
	}
	log := o.Logger.With("operation", "keyrotate.RepairPending", "resource", secretID, "dry_run", o.DryRun)
	r := &run{sm: sm, keys: iamAPI, ev: RotationEvent{Step: StepRepair, SecretID: secretID}, log: log, res: &StepResult{}}
	out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		return nil, r.fail("describe secret", RemedyNothingChanged, err)
	}
	r.arn = aws.ToString(out.ARN)
	rep := &Repair{SecretARN: r.arn, DryRun: o.DryRun}
	for v, st := range out.VersionIdsToStages {
		if slices.Contains(st, StagePending) && !slices.Contains(st, StageCurrent) {
			rep.VersionID = v
		}
	}
	if rep.VersionID == "" {
		rep.Reason = "no orphaned AWSPENDING label"
		return rep, nil
	}
	r.ev.ClientRequestToken = rep.VersionID
	pend, _, found, err := r.value(ctx, rep.VersionID, "")
	if err != nil && !errors.Is(err, ErrSecretValue) {
		return rep, err
	}
	if found && err == nil && !o.KeepKey {
		rep.KeyID = pend.AccessKeyID
		if err := r.repairKey(ctx, pend, rep); err != nil {
			return rep, err
		}
	}
	rep.LabelRemoved = true
	if o.DryRun {
		return rep, nil
	}
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(r.arn),
		VersionStage:        aws.String(StagePending),
		RemoveFromVersionId: aws.String(rep.VersionID),
	}); err != nil {
		return rep, r.fail("remove AWSPENDING", "run RepairPending again", err)
	}
	log.Info("removed orphaned AWSPENDING label", "version", rep.VersionID)
	return rep, nil
}

// repairKey deletes the orphaned AWSPENDING version's key, unless
// AWSCURRENT or AWSPREVIOUS holds it too, or (DryRun) only says it would.
func (r *run) repairKey(ctx context.Context, pend AccessKey, rep *Repair) error {
	for _, stage := range []string{StageCurrent, StagePrevious} {
		k, _, ok, err := r.value(ctx, "", stage)
		if err != nil && !errors.Is(err, ErrSecretValue) {
			return err
		}
		if ok && err == nil && k.AccessKeyID == pend.AccessKeyID {
			return nil
		}
	}
	keys, err := r.listKeys(ctx, pend.UserName)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(keys, func(k iamtypes.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == pend.AccessKeyID }) {
		return nil
	}
	rep.KeyDeleted = true
	if rep.DryRun {
		return nil
	}
	_, err = r.keys.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(pend.UserName), AccessKeyId: aws.String(pend.AccessKeyID)})
	var nse *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &nse) {
		return r.fail("delete access key "+pend.AccessKeyID, "run RepairPending again", err)
	}
	r.log.Info("deleted AWSPENDING access key", "key_id", pend.AccessKeyID)
	return nil
}
