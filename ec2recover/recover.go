package ec2recover

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/awsguard/awsguard"
)

// Tags the recovery puts on what it creates and on the instance while it
// works, so that leftovers can be found without the journal.
const (
	// TagRecovery carries the recovery's ID.
	TagRecovery = "awsguard:recovery"
	// TagRecoveryRole says what a resource is to the recovery: "target",
	// "snapshot", "helper", "helper-group".
	TagRecoveryRole = "awsguard:recovery-role"
)

// The kinds of the actions of a recovery's plan.
const (
	ActionStoreKey            = "store-key"
	ActionMarkInstance        = "mark-instance"
	ActionSnapshotRoot        = "snapshot-root"
	ActionCreateHelperProfile = "create-helper-profile"
	ActionCreateHelperGroup   = "create-helper-group"
	ActionLaunchHelper        = "launch-helper"
	ActionStopInstance        = "stop-instance"
	ActionDetachRoot          = "detach-root"
	ActionAttachToHelper      = "attach-to-helper"
	ActionInjectKey           = "inject-key"
	ActionDetachFromHelper    = "detach-from-helper"
	ActionReattachRoot        = "reattach-root"
	ActionStartInstance       = "start-instance"
	ActionTerminateHelper     = "terminate-helper"
	ActionDeleteHelperGroup   = "delete-helper-group"
	ActionDeleteHelperProfile = "delete-helper-profile"
	ActionDeleteSnapshot      = "delete-snapshot"
	ActionUnmarkInstance      = "unmark-instance"
)

// HelperDevice is the device name the root volume is attached under on
// the helper.
const HelperDevice = "/dev/sdf"

// Options tune a recovery. The zero value means: Auto strategy, a new
// ed25519 key, login user found on the instance, snapshot deleted after a
// success, roll back on failure, waits of AWS-sized delays.
type Options struct {
	Strategy Strategy
	// KeyType of the generated key; default KeyEd25519.
	KeyType KeyType
	// PublicKey, if set, is an authorized_keys line to inject instead of
	// a generated key; Recovery.Key then has no private key.
	PublicKey string
	// KeyComment ends the generated public key line; default
	// "ec2recover-<instance ID>".
	KeyComment string
	// KeyFile, if set, is where the private key is written (mode 0600,
	// created exclusively) before anything in AWS changes.
	KeyFile string
	// OverwriteKeyFile allows replacing an existing KeyFile.
	OverwriteKeyFile bool
	// ParameterName, if set, stores the private key in SSM Parameter Store
	// as a SecureString (Clients.ParameterStore), with ParameterKMSKeyID
	// (default aws/ssm); OverwriteParameter allows replacing one.
	ParameterName      string
	ParameterKMSKeyID  string
	OverwriteParameter bool
	// LoginUser is the user whose authorized_keys gets the key; default
	// the first of LoginUsers on the instance.
	LoginUser string
	// ReplaceKeys replaces the user's authorized_keys instead of
	// appending the key to it.
	ReplaceKeys bool
	// AllowAutoScaling goes on with an instance in an Auto Scaling group
	// (put it in Standby first).
	AllowAutoScaling bool
	// KeepSnapshot keeps the snapshot of the root volume after the
	// recovery (and after a rollback).
	KeepSnapshot bool
	// The relaunch: Reboot lets CreateImage reboot the instance (a
	// consistent file system; default no reboot), TerminateOld terminates
	// the old instance once the copy runs (default: left stopped), and
	// KeepImage keeps the image and its snapshots.
	Reboot       bool
	TerminateOld bool
	KeepImage    bool
	// The helper of the root-volume repair: image (default: the AMI named
	// by HelperImageParameter, default DefaultHelperImageParameter),
	// subnet (default the instance's own), instance type (default
	// t3.micro) and instance profile (default a temporary one).
	HelperImageID         string
	HelperImageParameter  string
	HelperSubnetID        string
	HelperInstanceType    string
	HelperInstanceProfile string
	// Journal receives the record after every step; default a
	// MemoryJournal (enough for the run to roll itself back).
	Journal Journal
	// KeepOnFailure leaves a failed run as it stopped, for Resume or
	// Rollback, instead of rolling it back at once.
	KeepOnFailure bool
	// DryRun returns the plan and changes nothing: only read calls, and
	// the mutating EC2 calls with DryRun set (see Recovery.Permissions).
	DryRun bool
	// Wait bounds the waits for instances, volumes, snapshots, the
	// helper's agent and commands.
	Wait WaitOptions
	// RollbackTimeout bounds a rollback after a failure; the rollback
	// runs even when the run's context was cancelled. Default 30 minutes.
	RollbackTimeout time.Duration
	Logger          *slog.Logger
	Progress        func(awsguard.Progress)
	// Now is the clock of the journal's times; default time.Now.
	Now func() time.Time
}

// WaitOptions bound the waits. Zero values mean the defaults in
// brackets.
type WaitOptions struct {
	// MinDelay and MaxDelay bound the delay between polls (5 s, 30 s).
	MinDelay, MaxDelay time.Duration
	// MaxWait bounds each wait (15 minutes).
	MaxWait time.Duration
}

func (w WaitOptions) withDefaults() WaitOptions {
	if w.MinDelay <= 0 {
		w.MinDelay = 5 * time.Second
	}
	if w.MaxDelay < w.MinDelay {
		w.MaxDelay = max(30*time.Second, w.MinDelay)
	}
	if w.MaxWait <= 0 {
		w.MaxWait = 15 * time.Minute
	}
	return w
}

func (o *Options) defaults() {
	if o.Strategy == "" {
		o.Strategy = StrategyAuto
	}
	if o.KeyType == "" {
		o.KeyType = KeyEd25519
	}
	if o.HelperInstanceType == "" {
		o.HelperInstanceType = "t3.micro"
	}
	if o.Journal == nil {
		o.Journal = &MemoryJournal{}
	}
	if o.RollbackTimeout <= 0 {
		o.RollbackTimeout = 30 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Wait = o.Wait.withDefaults()
}

// Recovery is the result of RecoverLostKeyPair, Resume and Rollback: the
// plan (what was or would be done) and what the user must know.
type Recovery struct {
	awsguard.Plan
	// ID names the recovery in its tags and journal.
	ID         string   `json:"id"`
	InstanceID string   `json:"instance_id"`
	State      string   `json:"state,omitempty"`
	Strategy   Strategy `json:"strategy"`
	// Considered lists every strategy weighed, with why those not chosen
	// were not possible.
	Considered []Consideration `json:"considered,omitempty"`
	// Downtime says what the strategy costs the instance's users.
	Downtime string `json:"downtime"`
	// NewPublicIP is true when the instance comes back with another
	// public IP (it stops and starts and has no Elastic IP).
	NewPublicIP bool `json:"new_public_ip"`
	// Facts are what the preflight read.
	Facts *Facts `json:"facts,omitempty"`
	// Key is the key pair put on the instance; its PrivateKey redacts.
	Key *KeyPair `json:"key,omitempty"`
	// LoginUser is the user that got the key, when known.
	LoginUser string `json:"login_user,omitempty"`
	// SnapshotID is the root volume's snapshot, kept when asked.
	SnapshotID string `json:"snapshot_id,omitempty"`
	// CopyInstanceID is the relaunch's new instance.
	CopyInstanceID string `json:"copy_instance_id,omitempty"`
	// Permissions are what a dry run learnt of the plan's mutating calls
	// (EC2's own DryRun checks); empty outside a dry run.
	Permissions []PermissionCheck `json:"permissions,omitempty"`
	Resumed     bool              `json:"resumed,omitempty"`
	RolledBack  bool              `json:"rolled_back,omitempty"`
}

var instanceIDRE = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

const opRecover = "ec2recover.RecoverLostKeyPair"

func validate(c Clients, id string, o *Options) error {
	bad := func(field, value, allowed string) error {
		return &awsguard.InputError{Operation: opRecover, Field: field, Value: value, Allowed: allowed}
	}
	switch {
	case !instanceIDRE.MatchString(id):
		return bad("instanceID", id, "an EC2 instance ID: i- and 8 or 17 hex digits")
	case c.EC2 == nil:
		return bad("Clients.EC2", "nil", "an EC2 client")
	case c.SSM == nil:
		return bad("Clients.SSM", "nil", "an SSM client")
	case !o.Strategy.valid():
		return bad("Options.Strategy", string(o.Strategy), "auto, ssm, userdata, repair or relaunch")
	case o.KeyType != KeyEd25519 && o.KeyType != KeyRSA:
		return bad("Options.KeyType", string(o.KeyType), "ed25519 or rsa")
	case o.LoginUser != "" && !loginUserRE.MatchString(o.LoginUser):
		return bad("Options.LoginUser", o.LoginUser, "a Linux user name: a lower-case letter or _, then up to 31 of a-z 0-9 _ -")
	case o.ParameterName != "" && c.ParameterStore == nil:
		return bad("Clients.ParameterStore", "nil", "an SSM client, to store the key in Options.ParameterName")
	case o.ParameterName != "" && !validParameterName(o.ParameterName):
		return bad("Options.ParameterName", o.ParameterName, "an SSM parameter name: 1 to 1011 of letters, digits and _.-/, starting with /")
	case o.ParameterName != "" && o.PublicKey != "":
		return bad("Options.ParameterName", o.ParameterName, "empty when Options.PublicKey is given (there is no private key to store)")
	case o.KeyFile != "" && o.PublicKey != "":
		return bad("Options.KeyFile", o.KeyFile, "empty when Options.PublicKey is given (there is no private key to write)")
	case o.HelperImageID != "" && !strings.HasPrefix(o.HelperImageID, "ami-"):
		return bad("Options.HelperImageID", o.HelperImageID, "an AMI ID (ami-...)")
	case o.HelperSubnetID != "" && !strings.HasPrefix(o.HelperSubnetID, "subnet-"):
		return bad("Options.HelperSubnetID", o.HelperSubnetID, "a subnet ID (subnet-...)")
	case o.Wait.MaxDelay > 0 && o.Wait.MinDelay > o.Wait.MaxDelay:
		return bad("Options.Wait.MinDelay", o.Wait.MinDelay.String(), "at most Options.Wait.MaxDelay")
	}
	if o.PublicKey != "" {
		if _, err := ParsePublicKey(o.PublicKey); err != nil {
			return err
		}
	}
	return nil
}

// RecoverLostKeyPair gives a new key pair access to a Linux instance whose
// private key is lost, by the least disruptive strategy possible (see the
// package documentation). It reads the instance first (the preflight) and
// refuses, changing nothing, when no strategy is possible (ErrRefused).
// With Options.DryRun it returns the plan and makes only read calls, and
// the plan's mutating EC2 calls with DryRun set (EC2's permission check,
// which changes nothing): a denied one fails the dry run with
// ErrPermissionMissing, the plan and Recovery.Permissions still returned.
func RecoverLostKeyPair(ctx context.Context, c Clients, instanceID string, optFns ...func(*Options)) (*Recovery, error) {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.defaults()
	if err := validate(c, instanceID, &o); err != nil {
		return nil, err
	}
	needHelper := o.Strategy == StrategyAuto || o.Strategy == StrategyRepair
	f, err := readFacts(ctx, c, instanceID, &o, needHelper)
	if err != nil {
		return nil, err
	}
	rec := &Recovery{InstanceID: instanceID, Facts: &f}
	rec.Plan = awsguard.Plan{Operation: opRecover, Resource: instanceID, DryRun: o.DryRun}
	st := Classify(f, o.AllowAutoScaling)
	rec.State = st.String()
	if st != StateReady {
		rec.Reason = awsguard.ReasonRefused
		return rec, stateRefusal(st, f)
	}
	rec.Considered = Assess(f)
	strategy, err := Choose(o.Strategy, rec.Considered)
	if err != nil {
		rec.Reason = awsguard.ReasonRefused
		return rec, fmt.Errorf("%s: %w", instanceID, err)
	}
	rec.Strategy = strategy
	rec.Downtime = strategy.Downtime()
	rec.NewPublicIP = strategy != StrategySSM && f.ElasticIP == "" && f.PublicIP != ""
	if strategy == StrategyRelaunch {
		rec.Warnings = append(rec.Warnings, "the copy has a new instance ID and private IP: update what points at "+instanceID)
	}
	rec.ID = newRecoveryID()

	if o.PublicKey != "" {
		rec.Key, _ = ParsePublicKey(o.PublicKey)
	} else if !o.DryRun {
		comment := o.KeyComment
		if comment == "" {
			comment = "ec2recover-" + instanceID
		}
		if rec.Key, err = GenerateKey(o.KeyType, comment); err != nil {
			return rec, err
		}
	}
	r := planRecovery(rec, &f, &o, strategy)
	if o.DryRun {
		if err := rec.Apply(ctx, nil, awsguard.ApplyOptions{Logger: o.Logger}); err != nil {
			return rec, err
		}
		return rec, checkPermissions(ctx, c.EC2, rec, r, &f)
	}
	// The key is safe on disk before anything in AWS changes.
	if o.KeyFile != "" {
		if err := rec.Key.WriteFile(o.KeyFile, o.OverwriteKeyFile); err != nil {
			return rec, err
		}
	}
	if err := saveRecord(ctx, o.Journal, r, o.Now); err != nil {
		return rec, err
	}
	x := &executor{c: c, o: &o, r: r, rec: rec}
	err = x.apply(ctx)
	return rec, err
}

// planRecovery makes the recovery's journal record and adds the plan of
// the chosen strategy to rec.
func planRecovery(rec *Recovery, f *Facts, o *Options, strategy Strategy) *Record {
	instanceID := rec.InstanceID
	r := &Record{
		Version: 1, ID: rec.ID, InstanceID: instanceID, Strategy: strategy, Phase: PhaseInProgress,
		PriorState: f.InstanceState, AvailabilityZone: f.AvailabilityZone,
		RootVolumeID: f.RootVolumeID, RootDeviceName: f.RootDeviceName,
		LoginUser: o.LoginUser, ReplaceKeys: o.ReplaceKeys, KeepSnapshot: o.KeepSnapshot,
		HelperImageID: f.HelperImageID, HelperSubnetID: f.HelperSubnetID, HelperVPCID: f.HelperVPCID,
		HelperInstanceType: o.HelperInstanceType, HelperProfile: o.HelperInstanceProfile,
	}
	if rec.Key != nil {
		r.PublicKey = rec.Key.PublicKey
	}
	if strategy == StrategyRepair && o.HelperInstanceProfile == "" {
		r.HelperProfile, r.HelperProfileOwned = "awsguard-recovery-"+rec.ID, true
	}
	if o.ParameterName != "" {
		rec.Add(awsguard.Action{Kind: ActionStoreKey, Call: "ssm:PutParameter", Resource: o.ParameterName,
			Detail: "store the private key in SSM parameter " + o.ParameterName + " (SecureString)", Why: "Options.ParameterName"})
	}
	switch strategy {
	case StrategySSM:
		planSSM(rec, r)
	case StrategyUserData:
		r.LoginUser = f.LoginUser
		planUserData(rec, r)
	case StrategyRepair:
		planRepair(rec, r)
	case StrategyRelaunch:
		r.KeyPairName = "ec2recover-" + rec.ID
		r.SubnetID, r.ElasticIP, r.ElasticIPAllocationID = f.SubnetID, f.ElasticIP, f.ElasticIPAllocationID
		r.Reboot, r.TerminateOld, r.KeepImage = o.Reboot, o.TerminateOld, o.KeepImage
		planRelaunch(rec, r)
	}
	return r
}

func newRecoveryID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "rk-" + hex.EncodeToString(b[:])
}

func saveRecord(ctx context.Context, j Journal, r *Record, now func() time.Time) error {
	r.Updated = now().UTC()
	if err := j.Save(ctx, r); err != nil {
		return fmt.Errorf("ec2recover: save journal record: %w", err)
	}
	return nil
}

// executor carries out a recovery's plan with its record.
type executor struct {
	c   Clients
	o   *Options
	r   *Record
	rec *Recovery
}

func (x *executor) apply(ctx context.Context) error {
	err := x.rec.Apply(ctx, x.do, awsguard.ApplyOptions{
		Logger:   x.o.Logger,
		Progress: x.o.Progress,
		Rollback: x.rollbackHook,
		ToDo:     "run ec2recover.Resume or ec2recover.Rollback with the journal of recovery " + x.r.ID,
	})
	if err != nil {
		return err
	}
	x.r.Phase = PhaseDone
	if err := saveRecord(ctx, x.o.Journal, x.r, x.o.Now); err != nil {
		x.rec.Warnings = append(x.rec.Warnings, err.Error())
	}
	x.rec.SnapshotID = x.r.SnapshotID // empty once deleted
	return nil
}

func (x *executor) do(ctx context.Context, a *awsguard.Action) error {
	if x.r.done(a.Kind) {
		a.Outcome = awsguard.OutcomeSkipped
		return nil
	}
	var err error
	skipped := false
	switch a.Kind {
	case ActionStoreKey:
		err = StoreKey(ctx, x.c.ParameterStore, x.o.ParameterName, x.o.ParameterKMSKeyID, x.rec.Key, x.o.OverwriteParameter)
	case ActionInjectKey:
		if x.r.Strategy == StrategySSM {
			err = x.injectLive(ctx)
		} else {
			err = x.injectOnHelper(ctx)
		}
	default:
		switch x.r.Strategy {
		case StrategyUserData:
			skipped, err = x.userDataStep(ctx, a.Kind)
		case StrategyRelaunch:
			skipped, err = x.relaunchStep(ctx, a.Kind)
		default:
			skipped, err = x.repairStep(ctx, a.Kind)
		}
	}
	if err != nil {
		return err
	}
	if skipped {
		a.Outcome = awsguard.OutcomeSkipped
	}
	x.r.Done = append(x.r.Done, a.Kind)
	return saveRecord(ctx, x.o.Journal, x.r, x.o.Now)
}

// rollbackHook undoes a failed run unless Options.KeepOnFailure.
func (x *executor) rollbackHook(ctx context.Context, failed awsguard.Action, cause error) ([]string, string) {
	resume := "run ec2recover.Resume with the journal of recovery " + x.r.ID + " to finish, or ec2recover.Rollback to undo"
	if x.o.KeepOnFailure {
		return nil, resume
	}
	if x.r.Strategy == StrategySSM {
		// Nothing to undo: Run Command changed at most authorized_keys.
		return nil, "run again; the key is appended only once"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.o.RollbackTimeout)
	defer cancel()
	undone, err := x.rollbackAny(ctx)
	if err != nil {
		return undone, fmt.Sprintf("the rollback stopped: %v; run ec2recover.Rollback with the journal of recovery %s (or find its resources by the tag %s=%s)", err, x.r.ID, TagRecovery, x.r.ID)
	}
	for i := range x.rec.Actions {
		if x.rec.Actions[i].Outcome == awsguard.OutcomeDone {
			x.rec.Actions[i].Outcome = awsguard.OutcomeRolledBack
		}
	}
	x.rec.RolledBack = true
	return undone, ""
}

// errState is an ErrUnexpectedState error saying what was found.
func errState(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnexpectedState, fmt.Sprintf(format, a...))
}

func (x *executor) rollbackAny(ctx context.Context) ([]string, error) {
	switch x.r.Strategy {
	case StrategyUserData:
		return x.rollbackUserData(ctx)
	case StrategyRelaunch:
		return x.rollbackRelaunch(ctx)
	}
	return x.rollback(ctx)
}
