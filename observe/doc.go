// Package observe watches an account: someone is told when something bad
// happens, logs reach CloudWatch, findings reach Security Hub, and
// everything it set up can be removed again cleanly.
//
//	topic, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), observe.Topic{
//		Name:          "awsguard-alerts",
//		Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "secops@example.com"}},
//	})
//	rule, _ := observe.PresetRule(observe.PresetRootSignIn, topic.TopicARN)
//	_, err = observe.EnsureEventRule(ctx, eventbridge.NewFromConfig(cfg), rule)
//	...
//	_, err = observe.Teardown(ctx, observe.TeardownClients{SNS: snsClient, Events: ebClient})
//
// # Workflow
//
//  1. EnsureAlertTopic keeps an SNS topic (KMS-encrypted on request) whose
//     policy lets the account's EventBridge rules and CloudWatch alarms
//     publish (conditioned on aws:SourceAccount and aws:SourceArn), with
//     the wanted subscriptions. An e-mail subscription stays "pending
//     confirmation" until a person confirms it: a normal state, reported
//     as SubscriptionPending, and never subscribed twice.
//  2. EnsureEventRule sends matching events to the topic with a readable
//     message (an input transformer). PresetRule makes the rule of a
//     preset: Inspector2 findings of HIGH or CRITICAL severity, root
//     console sign-in, console sign-in without MFA, IAM policy changes,
//     access key creation, security group changes, network ACL changes,
//     WAF web ACL changes, EC2 instance state changes. Event patterns are
//     typed values (EventPattern); CloudTrail delivers the events of IAM
//     and of console sign-in to us-east-1 only.
//  3. EnsureCISAlarms puts the CIS v3.0 section 4 metric filters and their
//     alarms on the CloudTrail log group; EnsureInstanceAlarms an
//     instance's CPU and status check alarms; EnsureLogGroups keeps log
//     groups with a retention (and KMS key on request). EnsureTrailLogs
//     gives those filters their log group: when no logging trail delivers
//     to a log group of the account and region yet, it keeps observe's
//     own (the group, a delivery role that CloudTrail alone assumes for
//     that trail, the S3 bucket the caller names with the policy CloudTrail
//     needs, a multi-region trail with log file validation, logging);
//     otherwise it returns the trail that does and its group.
//  4. Audit reports the checks below as an awsguard.Report; ToASFF and
//     WriteASFF turn any report into AWS Security Finding Format without
//     calling AWS, and PublishFindings sends it to Security Hub.
//  5. BuildAgentConfig builds the unified CloudWatch agent's JSON
//     configuration (not the deprecated awslogs agent) for web server
//     access and error logs (httpd on Amazon Linux and Debian, nginx,
//     custom files), streams named after the instance ID, memory and disk;
//     ValidateAgentConfig checks one against the fields the agent
//     documents. EnsureAgentRole gives an instance the role and instance
//     profile the agent needs; ApplyAgentConfig stores the configuration in
//     Parameter Store and applies it through SSM Run Command.
//  6. Teardown removes exactly what observe created, in dependency order.
//
// # States
//
// Each Ensure reads the live state, names it, and derives its plan from
// that name with a pure function, as a reconciler does:
//
//	| operation        | state       | plan                                                               |
//	|------------------|-------------|--------------------------------------------------------------------|
//	| EnsureAlertTopic | absent      | create the topic, set its policy, subscribe every endpoint         |
//	| EnsureAlertTopic | not-managed | nothing: ErrNotManaged                                             |
//	| EnsureAlertTopic | drifted     | set the KMS key, the policy, record or subscribe what is missing   |
//	| EnsureAlertTopic | compliant   | nothing                                                            |
//	| EnsureEventRule  | absent      | put the rule (tagged), put its target                              |
//	| EnsureEventRule  | not-managed | nothing: ErrNotManaged                                             |
//	| EnsureEventRule  | drifted     | put the rule and/or its target back as wanted                      |
//	| EnsureEventRule  | compliant   | nothing                                                            |
//	| EnsureTrailLogs  | absent      | log group, role and policy, bucket (if none), trail, start logging |
//	| EnsureTrailLogs  | other-trail | nothing: another logging trail delivers; its log group is returned |
//	| EnsureTrailLogs  | not-managed | nothing: ErrNotManaged                                             |
//	| EnsureTrailLogs  | drifted     | put back what differs: group, role, bucket policy, trail, logging  |
//	| EnsureTrailLogs  | compliant   | nothing                                                            |
//
// # Checks
//
// Check IDs are stable and never renamed. observe.cis.metric_filters gives
// one finding per CIS control (its controls name it, such as CIS:4.1);
// observe.logs.retention one per log group; observe.alerts.topic one per
// region.
//
//	| check ID                   | severity | passes when                                                       | ISMS-P | CIS                  | remediation              |
//	|----------------------------|----------|-------------------------------------------------------------------|--------|----------------------|--------------------------|
//	| observe.alerts.topic       | MEDIUM   | an SNS topic has a confirmed subscription                         | 2.11.3 |                      | observe.EnsureAlertTopic |
//	| observe.cis.metric_filters | MEDIUM   | each CIS 4.x metric filter exists with an alarm that notifies     | 2.11.3 | 4.1-4.5, 4.10-4.13   | observe.EnsureCISAlarms  |
//	| observe.logs.retention     | LOW      | every log group has a retention of at least MinRetentionDays (365) | 2.9.4  |                      | observe.EnsureLogGroups  |
//
// A log group that keeps events forever fails observe.logs.retention: the
// check asks for a retention that was decided, not for infinity. A CIS
// filter is recognised by observe's name or by the benchmark's pattern
// (spacing and quotes aside); its alarm must watch the filter's metric
// and notify somewhere with actions enabled.
//
// # Tags and records
//
// Everything observe creates is tagged awsguard:managed=true and
// awsguard:package=observe. What cannot be tagged is recorded on what can:
// each subscription observe made is a tag awsguard:sub:HASH on its topic;
// each CIS metric filter is recorded by tags on its alarm. Teardown removes
// only what carries those records: the targets of observe's rules, then the
// rules; each metric filter, then its alarm; observe's subscriptions, then
// the topic; first of all, observe's trail is stopped and deleted, then
// its bucket if empty (or, with DeleteTrailBucket, emptied and deleted;
// a bucket of log files is otherwise kept and listed in Changed); with
// DeleteLogGroups, its log groups (the trail's too); the agent's instance
// profile off the instance, the role out of the profile, the profile, the
// role's policies, then the role; the agent's configuration parameter.
// Roles and instance profiles live under the path RolePath. A resource changed by hand (a target or
// subscription added to it) is kept and reported in Changed, unless
// RemoveChanged.
//
// # Dry run and idempotency
//
// Every mutating operation returns an awsguard.Plan (embedded in its
// result). With DryRun the plan is returned and nothing is changed. Run
// again, an Ensure finds nothing to do (Reason "already compliant") and
// makes no mutating call; a second Teardown finds nothing to remove. A run
// interrupted at any call returns an *awsguard.StepError; running it again
// finishes the job without duplicating a topic, subscription, rule, alarm,
// role or trail. A shorter log retention deletes events: it is a weakening
// action, refused unless Options.AllowWeaken; setting the retention of a
// group observe created, whose creation was interrupted before its
// retention was set, is not.
//
// # IAM permissions
//
// Each operation takes the narrowest interface of the calls it makes, and
// the interface's documentation lists its permissions. Some permissions
// are named by no call: tagging on creation (events:TagResource,
// cloudwatch:TagResource, logs:TagResource, iam:TagRole,
// iam:TagInstanceProfile, ssm:AddTagsToResource, cloudtrail:AddTags) and
// iam:PassRole for the instance profile's association and for the
// trail's delivery role. The table lists them all:
//
//	EnsureAlertTopic      TopicAPI          sns:ListTopics, sns:ListTagsForResource, sns:GetTopicAttributes,
//	                                        sns:ListSubscriptionsByTopic, sns:CreateTopic, sns:TagResource,
//	                                        sns:SetTopicAttributes, sns:Subscribe
//	EnsureEventRule       RuleAPI           events:DescribeRule, events:ListTagsForResource, events:ListTargetsByRule,
//	                                        events:PutRule, events:PutTargets, events:TagResource
//	EnsureCISAlarms       AlarmsAPI         cloudwatch:DescribeAlarms, cloudwatch:ListTagsForResource,
//	                      MetricFiltersAPI  cloudwatch:PutMetricAlarm, cloudwatch:TagResource,
//	                                        logs:DescribeMetricFilters, logs:PutMetricFilter
//	EnsureInstanceAlarms  AlarmsAPI         as above, without logs
//	EnsureLogGroups       LogGroupsAPI      logs:DescribeLogGroups, logs:ListTagsForResource, logs:CreateLogGroup,
//	                                        logs:TagResource, logs:PutRetentionPolicy, logs:AssociateKmsKey
//	EnsureTrailLogs       TrailLogsClients  cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus, cloudtrail:ListTags,
//	                                        cloudtrail:CreateTrail, cloudtrail:AddTags, cloudtrail:UpdateTrail,
//	                                        cloudtrail:StartLogging, iam:GetRole, iam:GetRolePolicy, iam:CreateRole,
//	                                        iam:TagRole, iam:UpdateAssumeRolePolicy, iam:PutRolePolicy, iam:PassRole,
//	                                        logs:DescribeLogGroups, logs:ListTagsForResource, logs:CreateLogGroup,
//	                                        logs:TagResource, logs:PutRetentionPolicy, logs:AssociateKmsKey,
//	                                        s3:GetBucketTagging, s3:GetBucketPolicy, s3:ListBucket, s3:CreateBucket,
//	                                        s3:PutBucketTagging, s3:PutPublicAccessBlock, s3:PutBucketPolicy
//	Audit                 AuditClients      sns:ListSubscriptions, logs:DescribeLogGroups, logs:DescribeMetricFilters,
//	                                        cloudwatch:DescribeAlarms
//	EnsureAgentRole       AgentRoleClients  iam:GetRole, iam:ListAttachedRolePolicies, iam:GetInstanceProfile, iam:CreateRole,
//	                                        iam:TagRole, iam:UpdateAssumeRolePolicy, iam:AttachRolePolicy,
//	                                        iam:CreateInstanceProfile, iam:TagInstanceProfile,
//	                                        iam:AddRoleToInstanceProfile, iam:PassRole,
//	                                        ec2:DescribeIamInstanceProfileAssociations,
//	                                        ec2:AssociateIamInstanceProfile, ec2:ReplaceIamInstanceProfileAssociation
//	ApplyAgentConfig      AgentSSMAPI       ssm:GetParameter, ssm:ListTagsForResource, ssm:PutParameter,
//	                                        ssm:AddTagsToResource, ssm:SendCommand
//	PublishFindings       SecurityHubAPI    securityhub:BatchImportFindings
//	Teardown              TeardownClients   the List/Describe calls above, events:RemoveTargets, events:DeleteRule,
//	                                        logs:DeleteMetricFilter, cloudwatch:DeleteAlarms, sns:Unsubscribe,
//	                                        sns:DeleteTopic, logs:DeleteLogGroup, ec2:DisassociateIamInstanceProfile,
//	                                        iam:RemoveRoleFromInstanceProfile, iam:DeleteInstanceProfile,
//	                                        iam:DetachRolePolicy, iam:DeleteRolePolicy, iam:DeleteRole,
//	                                        ssm:DescribeParameters, ssm:DeleteParameter, cloudtrail:DescribeTrails,
//	                                        cloudtrail:ListTags, cloudtrail:StopLogging, cloudtrail:DeleteTrail,
//	                                        s3:ListAllMyBuckets, s3:GetBucketTagging, s3:ListBucket,
//	                                        s3:DeleteObject, s3:DeleteBucket
//
// BuildAgentConfig, ValidateAgentConfig, PresetRule, ToASFF and WriteASFF
// make no call.
//
// The library prints nothing; it logs through the optional *slog.Logger of
// its options.
package observe
