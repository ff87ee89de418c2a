// Package ec2recover gives a new SSH key access to a Linux EC2 instance
// whose key pair's private key is lost, by the least disruptive way that
// works, and makes the job safe to interrupt, resume and undo.
//
//	cfg, _ := config.LoadDefaultConfig(ctx)
//	rec, err := ec2recover.RecoverLostKeyPair(ctx, ec2recover.ClientsFromConfig(cfg), "i-0123456789abcdef0",
//		func(o *ec2recover.Options) {
//			o.KeyFile = "recovered.pem" // written 0600 before anything in AWS changes
//			o.Journal = ec2recover.FileJournal{Path: "recovery.json"}
//		})
//	if err != nil {
//		// errors.Is(err, ec2recover.ErrRefused): nothing changed, err says why.
//		// *awsguard.StepError: the step that failed, what was rolled back.
//	}
//	logger.Info("recovered", "strategy", rec.Strategy, "downtime", rec.Downtime, "new_public_ip", rec.NewPublicIP, "fingerprint", rec.Key.Fingerprint)
//
// The key pair is generated on this machine (ed25519 by default, RSA 4096
// with Options.KeyType; OpenSSH format through golang.org/x/crypto/ssh),
// so the private key never passes through AWS. It comes back in
// Recovery.Key.PrivateKey, an awsguard.Secret that shows [REDACTED] in
// every format; [KeyPair.WriteFile] writes it 0600 with O_EXCL (never over
// an existing file unless asked) and Options.ParameterName stores it in
// SSM Parameter Store as a SecureString. [GenerateKey], [ReadKeyFile] and
// [StoreKey] do the same on their own.
//
// # Workflow
//
// RecoverLostKeyPair validates its input (an *awsguard.InputError names
// the field), then reads the instance (the preflight, read calls only):
// the instance, its root volume and device name, its image, its Auto
// Scaling membership (autoscaling:DescribeAutoScalingInstances, or the
// aws:autoscaling:groupName tag), its SSM managed state
// (ssm:DescribeInstanceInformation; an error there counts as "unknown",
// that is, not managed), its Elastic IP, the KMS key of an encrypted root
// (kms:DescribeKey), and the repair's helper image and subnet. The pure
// function [Classify] names the instance's state; [Assess] weighs each
// strategy and [Choose] picks one. Nothing stops before all of that is
// known.
//
// States ([State]); only ready goes on:
//
//	| state          | meaning                                                        |
//	|----------------|----------------------------------------------------------------|
//	| ready          | EBS-backed Linux, running or stopped: strategies are weighed   |
//	| transitional   | pending, stopping or shutting down: run again later            |
//	| gone           | terminated                                                     |
//	| windows        | Windows: reset the Administrator password instead (EC2Launch)  |
//	| instance-store | instance store root: lost on stop, cannot be moved             |
//	| auto-scaled    | in an Auto Scaling group: refused unless AllowAutoScaling      |
//	| in-progress    | tagged by an unfinished recovery: Resume or Rollback it        |
//
// Strategies, in the order Auto prefers them ([Strategies]):
//
//	| strategy | downtime             | possible when                                         |
//	|----------|----------------------|-------------------------------------------------------|
//	| ssm      | none                 | running, SSM agent online                             |
//	| userdata | two stops and starts | cloud-init image, login user known (or given)         |
//	| repair   | one stop and start   | no marketplace codes, usable KMS key, helper found    |
//	| relaunch | new instance ID      | no marketplace codes, usable KMS key                  |
//
// The plan ([Recovery], which embeds awsguard.Plan) says the strategy,
// why each less disruptive one was not possible ([Recovery].Considered),
// the downtime, and whether the instance comes back with a new public IP
// (it stops and has no Elastic IP).
//
// # Root-volume repair
//
// The actions, each an awsguard.Action of the plan (kinds ActionMarkInstance ...):
// tag the instance with [TagRecovery]; snapshot the root volume (before
// the first detach); create a temporary role and instance profile with
// AmazonSSMManagedInstanceCore (unless Options.HelperInstanceProfile);
// create a security group without inbound rules; launch the helper in the
// instance's subnet (or Options.HelperSubnetID, same AZ) from the current
// Amazon Linux 2023 AMI (the SSM public parameter, or
// Options.HelperImageID); stop the instance; detach the root volume;
// attach it to the helper as /dev/sdf; run the injection [Script] through
// SSM Run Command (AWS-RunShellScript; SendCommand is retried while the
// new helper's agent answers InvalidInstanceId, bounded by Options.Wait);
// detach it; reattach it under the instance's own RootDeviceName (read,
// never guessed); start the instance if it was running; terminate the
// helper; delete the group, the profile and role, and the snapshot unless
// Options.KeepSnapshot; remove the tag. Everything created carries
// TagRecovery = the recovery's ID and [TagRecoveryRole], so leftovers can
// be found without the journal. Waits use the SDK's EC2 waiters with
// Options.Wait's MinDelay and MaxDelay.
//
// The injection script finds the volume by its NVMe serial (the volume ID
// without its dash) or, on Xen, as /dev/xvdf or /dev/sdf; detects the
// filesystem with blkid; mounts XFS with -o nouuid (a twin of the
// helper's own root would not mount otherwise) and ext4 without it; picks
// the login user (Options.LoginUser, or the first of [LoginUsers] in the
// mounted /etc/passwd); appends the key to ~/.ssh/authorized_keys unless
// it is there (Options.ReplaceKeys replaces the file), with the owner's
// uid and gid from the mounted /etc/passwd, .ssh 0700 and the file 0600,
// refusing symbolic links; restores the SELinux context where chcon
// exists; unmounts; and prints one report line ([ParseScriptOutput]).
//
// # SSM online
//
// The same script, in live mode, runs on the instance itself through Run
// Command: nothing stops, nothing is created.
//
// # User data
//
// Save the instance's user data in the journal; stop; replace it with a
// one-boot cloud-init document (cloud_final_modules [users-groups,
// always], adding the key for the login user, and a boot script that
// prints a confirmation line on the console); start and wait for the
// status checks; read the confirmation from GetConsoleOutput; stop;
// restore the original user data and read it back byte for byte; start
// if it was running. The journal holds the original user data (which may
// hold secrets): keep it private.
//
// # Relaunch
//
// Import the public key as key pair ec2recover-<ID>; CreateImage (no
// reboot unless Options.Reboot); launch a copy from it with the key pair
// and the old instance's subnet, security groups, instance profile,
// type, tags, EBS optimization, monitoring, metadata options and user
// data (its private IP is new: the old one stays with the stopped
// instance); move the Elastic IP; stop the old instance (terminate it
// with Options.TerminateOld); deregister the image and delete its
// snapshots unless Options.KeepImage. Recovery.CopyInstanceID names the
// copy; what pointed at the old instance ID must be updated.
//
// # Failures, Resume and Rollback
//
// The record ([Record]: the volume and device, the prior state, what was
// created, the steps done) goes to Options.Journal ([FileJournal], or a
// [MemoryJournal] by default) before the first change and after every
// step. A failed step returns an *awsguard.StepError. By default the run
// then rolls itself back (even when its context was cancelled, bounded by
// Options.RollbackTimeout): the root volume goes back to the instance
// under its original device name, the original user data is restored,
// the relaunch's copy is terminated and the Elastic IP moved back, the
// instance returns to its prior state, and everything tagged by the
// recovery is removed. With
// Options.KeepOnFailure the run stops where it failed, and [Resume]
// finishes it or [Rollback] undoes it, from the journal, in this process
// or another. Every step reads the live state first, so a step whose
// response was lost, or a Resume or Rollback that itself failed, can run
// again.
//
// # Dry run and idempotency
//
// With Options.DryRun, RecoverLostKeyPair returns the plan and makes read
// calls only (no key is generated and no file is written), plus EC2's own
// permission checks: each mutating EC2 call of the plan whose resource
// exists before the run (the instance, its root volume, subnet, image,
// Elastic IP) is made with DryRun set, which changes nothing, and EC2's
// answer is recorded in Recovery.Permissions: DryRunOperation is
// PermissionAllowed, UnauthorizedOperation PermissionDenied. The calls on
// what exists only during the run (the helper, the snapshot, the image)
// and those of IAM and SSM, which have no dry run, are PermissionNotChecked.
// A denied check fails the dry run with ErrPermissionMissing, naming each
// action and its step, the plan still returned: a run would stop there. A finished
// recovery leaves nothing behind but the key in authorized_keys (and the
// snapshot when kept): running it again makes a new key and a new
// recovery, appending the new key beside the first. Resume and Rollback
// of a finished or rolled-back recovery report nothing to do.
//
// # Permissions
//
// The methods of [RecoverEC2], [RecoverSSM], [RecoverIAM],
// [RecoverAutoScaling] and [RecoverKMS] are the permissions: ec2:Describe*
// of instances, volumes, images, subnets, addresses, snapshots and
// security groups; ec2:CreateTags, DeleteTags, CreateSnapshot,
// DeleteSnapshot, CreateSecurityGroup, DeleteSecurityGroup, RunInstances,
// TerminateInstances, StopInstances, StartInstances, AttachVolume,
// DetachVolume; for the user-data strategy ec2:DescribeInstanceAttribute,
// ModifyInstanceAttribute, DescribeInstanceStatus, GetConsoleOutput; for
// the relaunch ec2:ImportKeyPair, DeleteKeyPair, CreateImage,
// DeregisterImage, AssociateAddress and iam:PassRole on the instance's
// role; iam:PassRole on the helper's role, and iam:CreateRole,
// AttachRolePolicy, CreateInstanceProfile, AddRoleToInstanceProfile,
// GetInstanceProfile, RemoveRoleFromInstanceProfile,
// DeleteInstanceProfile, DetachRolePolicy, DeleteRole on
// role/awsguard-recovery-* and instance-profile/awsguard-recovery-*;
// ssm:DescribeInstanceInformation, GetParameter, SendCommand,
// GetCommandInvocation (and PutParameter with Options.ParameterName);
// autoscaling:DescribeAutoScalingInstances; kms:DescribeKey, plus
// kms:CreateGrant through EC2 on an encrypted root's key.
package ec2recover
