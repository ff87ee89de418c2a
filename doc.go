// Package awsguard is the root of an SDK that turns the AWS security chores
// people still do by hand in the console into tested, importable Go
// functions: find what is weak, fix it, rotate what ages, recover what is
// lost, protect what faces the internet, watch what happens, and take it all
// down again cleanly.
//
// Each concern is one package; a caller imports only the one it needs:
//
//	| package     | what it does                                                                 |
//	|-------------|------------------------------------------------------------------------------|
//	| iamguard    | audit IAM posture (root and console MFA, access keys, direct policies,       |
//	|             | password policy against KISA or CIS); enable the password policy, enrol and  |
//	|             | enforce MFA, group-based permissions, the self-service credentials policy    |
//	| keyrotate   | rotate IAM access keys directly and as a Secrets Manager rotation Lambda;    |
//	|             | set up and tear down the rotation                                            |
//	| ec2recover  | regain access to an instance whose key pair is lost; audit and remove EC2    |
//	|             | Instance Connect                                                             |
//	| waf         | a WAFv2 web ACL with the AWS managed SQL-injection rules in front of an ALB,  |
//	|             | HTTPS with ACM and Route 53, verification, teardown                          |
//	| inspect     | Amazon Inspector (v2) enablement and findings; network exposure through      |
//	|             | security groups and network ACLs                                             |
//	| observe     | SNS, EventBridge, CloudWatch alarms and logs, the CloudWatch agent's         |
//	|             | configuration, Security Hub export, ordered teardown                         |
//
// This package holds the vocabulary every package shares and makes no AWS
// calls of its own:
//
//   - [Finding], [Status], [Severity] and [Report]: what an audit returns. A
//     report sorts deterministically, merges with others, summarises itself
//     ([Report.Summary]) and serialises to a stable JSON contract
//     ([Report.WriteJSON], [ReadReport]) and to CSV ([Report.WriteCSV]).
//   - [ForEachRegion] and [ForEachAccount]: run one function across regions or
//     across the accounts of an organization with bounded concurrency, one
//     result or error per target.
//
// and the vocabulary of changes every package speaks, so that a caller
// handles a plan, a failure or a secret from one package exactly as from
// another:
//
//   - [Plan] and [Action]: the ordered actions a mutating operation takes
//     (what each calls, on which resource, why), computed from live state. A
//     dry run returns the plan; an apply carries it out through
//     [Plan.Apply], the one execution loop, and records each action's
//     [Outcome]. "Nothing to do" is an empty plan whose [Reason] is one of
//     ReasonAlreadyCompliant, ReasonNotDue and ReasonNothingToRemove. An
//     action that would make a security setting less strict is marked
//     Weakening and refused ([WeakeningError]) unless the caller allows it.
//   - [StepError]: the step that failed, its resource, the cause (Unwrap),
//     what was done and kept, what was rolled back and what the caller must
//     still do by hand. [InputError]: the field, the value and the allowed
//     range, before any API call. Each package keeps its own sentinels.
//   - [Secret]: secret access keys, private keys and MFA seeds; redacts
//     itself in every format and reveals its value only through
//     [Secret.Reveal].
//   - [Progress]: the event long workflows send to the optional Progress
//     callback of their Options.
//   - [PolicyDocument]: the typed IAM policy document every package writes
//     its policies with.
//
// All of them carry JSON tags: the example programs print them with
// -format json, and that output is a contract like the findings'.
//
// # Conventions shared by every package
//
// Every operation takes a context first and the narrowest client interface it
// needs, declared by the package with the SDK's own method signatures, so
// that the SDK's clients satisfy it and tests inject small fakes. The
// interface doubles as the list of IAM permissions the operation needs.
//
// Every mutating operation validates its input before the first API call,
// can be planned without changing anything (a dry run returns the same typed
// plan that apply carries out), is idempotent (a second run changes nothing
// and says so), and has its removal or rollback. Errors wrap the SDK's
// errors with %w, so callers can still reach smithy.APIError and the
// service's typed exceptions. Secrets (secret access keys, private keys, MFA
// seeds) live in types that redact themselves in logs, errors and %v output.
//
// The library prints nothing: it logs through an optional *slog.Logger and
// returns typed values.
//
// # Check IDs
//
// Findings carry a stable check ID of the form service.scope.name, in lower
// case (for example iam.user.console_mfa). Each package documents its check
// IDs with the baseline controls they serve: Korea's ISMS-P (2023) items,
// written "ISMS-P:2.5.3", and the CIS AWS Foundations Benchmark v3.0,
// written "CIS:1.10". A check ID is never renamed once released.
package awsguard
