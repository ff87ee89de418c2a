package observe

import (
	"encoding/json"
	"fmt"
	"slices"
)

// EventPattern is an EventBridge event pattern: each field lists the
// values an event's field may have (an event matches when each field
// present in the pattern matches). json.Marshal writes the pattern
// EventBridge takes.
type EventPattern struct {
	Source     []string     `json:"source,omitempty"`
	DetailType []string     `json:"detail-type,omitempty"`
	Detail     *EventDetail `json:"detail,omitempty"`
}

// EventDetail matches the detail of an event: the fields of a CloudTrail
// API call event ("AWS API Call via CloudTrail", "AWS Console Sign In via
// CloudTrail"), of an Inspector2 finding and of an EC2 state change that
// the presets use.
type EventDetail struct {
	EventSource         []string               `json:"eventSource,omitempty"`
	EventName           []string               `json:"eventName,omitempty"`
	UserIdentity        *UserIdentityMatch     `json:"userIdentity,omitempty"`
	AdditionalEventData *AdditionalEventMatch  `json:"additionalEventData,omitempty"`
	ResponseElements    *ResponseElementsMatch `json:"responseElements,omitempty"`
	Severity            []string               `json:"severity,omitempty"`
	State               []string               `json:"state,omitempty"`
	Status              []string               `json:"status,omitempty"`
	InstanceID          []string               `json:"instance-id,omitempty"`
}

// UserIdentityMatch matches detail.userIdentity of a CloudTrail event.
type UserIdentityMatch struct {
	Type []string `json:"type,omitempty"`
}

// AdditionalEventMatch matches detail.additionalEventData of a console
// sign-in event.
type AdditionalEventMatch struct {
	MFAUsed []string `json:"MFAUsed,omitempty"`
}

// ResponseElementsMatch matches detail.responseElements of a console
// sign-in event.
type ResponseElementsMatch struct {
	ConsoleLogin []string `json:"ConsoleLogin,omitempty"`
}

// JSON returns the pattern as EventBridge takes it.
func (p EventPattern) JSON() (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// InputTransformer turns an event into the message the topic sends:
// PathsMap names JSON paths of the event, Template uses them as <name>.
type InputTransformer struct {
	PathsMap map[string]string `json:"paths_map"`
	Template string            `json:"template"`
}

// Preset names one of the event rules observe knows.
type Preset string

// The presets. Each is a rule named "awsguard-" + the preset. CloudTrail
// delivers the events of global services (IAM, console sign-in of the root
// user) to EventBridge in us-east-1 only: put the IAM, access key and
// sign-in presets there. CloudTrail API events reach EventBridge only
// while a trail (or the account's event history) records management
// events.
const (
	// PresetInspectorFindings: Amazon Inspector (v2) findings of HIGH or
	// CRITICAL severity.
	PresetInspectorFindings Preset = "inspector-high-findings"
	// PresetRootSignIn: a console sign-in by the root user.
	PresetRootSignIn Preset = "root-sign-in"
	// PresetSignInWithoutMFA: a successful console sign-in without MFA.
	PresetSignInWithoutMFA Preset = "console-sign-in-without-mfa"
	// PresetIAMPolicyChanges: IAM policies created, changed, attached or
	// detached.
	PresetIAMPolicyChanges Preset = "iam-policy-changes"
	// PresetAccessKeyCreated: an IAM access key created.
	PresetAccessKeyCreated Preset = "access-key-created"
	// PresetSecurityGroupChanges: security groups created, changed or
	// deleted.
	PresetSecurityGroupChanges Preset = "security-group-changes"
	// PresetNACLChanges: network ACLs or their entries created, changed or
	// deleted.
	PresetNACLChanges Preset = "nacl-changes"
	// PresetWAFChanges: WAFv2 web ACLs created, changed, deleted,
	// associated or disassociated.
	PresetWAFChanges Preset = "waf-acl-changes"
	// PresetInstanceStateChanges: any EC2 instance state change.
	PresetInstanceStateChanges Preset = "ec2-instance-state-changes"
)

// Presets lists every preset in a fixed order.
func Presets() []Preset {
	return []Preset{PresetInspectorFindings, PresetRootSignIn, PresetSignInWithoutMFA, PresetIAMPolicyChanges,
		PresetAccessKeyCreated, PresetSecurityGroupChanges, PresetNACLChanges, PresetWAFChanges, PresetInstanceStateChanges}
}

// ParsePreset returns the preset of the name, or an *awsguard.InputError.
func ParsePreset(name string) (Preset, error) {
	if slices.Contains(Presets(), Preset(name)) {
		return Preset(name), nil
	}
	return "", inputErr("observe.ParsePreset", "preset", name, fmt.Sprint("one of ", Presets()))
}

const (
	apiCallDetail = "AWS API Call via CloudTrail"
	signInDetail  = "AWS Console Sign In via CloudTrail"
)

func apiCall(source, eventSource string, names ...string) EventPattern {
	return EventPattern{Source: []string{source}, DetailType: []string{apiCallDetail},
		Detail: &EventDetail{EventSource: []string{eventSource}, EventName: names}}
}

// commonPaths are the event fields every preset's message shows.
var commonPaths = map[string]string{
	"time": "$.time", "account": "$.account", "region": "$.region", "type": "$.detail-type",
}

func cloudTrailTransformer(what string) InputTransformer {
	paths := map[string]string{"event": "$.detail.eventName", "actor": "$.detail.userIdentity.arn", "ip": "$.detail.sourceIPAddress"}
	for k, v := range commonPaths {
		paths[k] = v
	}
	return InputTransformer{PathsMap: paths,
		Template: `"awsguard: ` + what + `: <event> by <actor> from <ip> in account <account> (<region>) at <time>"`}
}

// presetDefs holds each preset's pattern, message and description.
var presetDefs = map[Preset]struct {
	pattern     EventPattern
	transformer InputTransformer
	description string
}{
	PresetInspectorFindings: {
		EventPattern{Source: []string{"aws.inspector2"}, DetailType: []string{"Inspector2 Finding"},
			Detail: &EventDetail{Severity: []string{"HIGH", "CRITICAL"}, Status: []string{"ACTIVE"}}},
		InputTransformer{PathsMap: map[string]string{"time": "$.time", "account": "$.account", "region": "$.region",
			"severity": "$.detail.severity", "title": "$.detail.title", "resource": "$.detail.resources[0].id"},
			Template: `"awsguard: Inspector <severity> finding: <title> on <resource> in account <account> (<region>) at <time>"`},
		"Inspector2 findings of HIGH or CRITICAL severity",
	},
	PresetRootSignIn: {
		EventPattern{Source: []string{"aws.signin"}, DetailType: []string{signInDetail},
			Detail: &EventDetail{UserIdentity: &UserIdentityMatch{Type: []string{"Root"}}}},
		cloudTrailTransformer("root user console sign-in"),
		"console sign-in by the root user",
	},
	PresetSignInWithoutMFA: {
		EventPattern{Source: []string{"aws.signin"}, DetailType: []string{signInDetail},
			Detail: &EventDetail{AdditionalEventData: &AdditionalEventMatch{MFAUsed: []string{"No"}},
				ResponseElements: &ResponseElementsMatch{ConsoleLogin: []string{"Success"}}}},
		cloudTrailTransformer("console sign-in without MFA"),
		"successful console sign-in without MFA",
	},
	PresetIAMPolicyChanges: {
		apiCall("aws.iam", "iam.amazonaws.com",
			"CreatePolicy", "CreatePolicyVersion", "DeletePolicy", "DeletePolicyVersion", "SetDefaultPolicyVersion",
			"AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
			"AttachUserPolicy", "DetachUserPolicy", "PutUserPolicy", "DeleteUserPolicy",
			"AttachGroupPolicy", "DetachGroupPolicy", "PutGroupPolicy", "DeleteGroupPolicy"),
		cloudTrailTransformer("IAM policy change"),
		"IAM policy changes (CIS 4.4)",
	},
	PresetAccessKeyCreated: {
		apiCall("aws.iam", "iam.amazonaws.com", "CreateAccessKey"),
		cloudTrailTransformer("access key created"),
		"IAM access key created",
	},
	PresetSecurityGroupChanges: {
		apiCall("aws.ec2", "ec2.amazonaws.com",
			"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
			"RevokeSecurityGroupEgress", "ModifySecurityGroupRules", "CreateSecurityGroup", "DeleteSecurityGroup"),
		cloudTrailTransformer("security group change"),
		"security group changes (CIS 4.10)",
	},
	PresetNACLChanges: {
		apiCall("aws.ec2", "ec2.amazonaws.com",
			"CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
			"ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"),
		cloudTrailTransformer("network ACL change"),
		"network ACL changes (CIS 4.11)",
	},
	PresetWAFChanges: {
		apiCall("aws.wafv2", "wafv2.amazonaws.com",
			"CreateWebACL", "UpdateWebACL", "DeleteWebACL", "AssociateWebACL", "DisassociateWebACL"),
		cloudTrailTransformer("WAF web ACL change"),
		"WAFv2 web ACL changes",
	},
	PresetInstanceStateChanges: {
		EventPattern{Source: []string{"aws.ec2"}, DetailType: []string{"EC2 Instance State-change Notification"}},
		InputTransformer{PathsMap: map[string]string{"time": "$.time", "account": "$.account", "region": "$.region",
			"instance": "$.detail.instance-id", "state": "$.detail.state"},
			Template: `"awsguard: EC2 instance <instance> is now <state> in account <account> (<region>) at <time>"`},
		"EC2 instance state changes",
	},
}

// PresetPattern returns the preset's event pattern.
func PresetPattern(p Preset) (EventPattern, error) {
	d, ok := presetDefs[p]
	if !ok {
		return EventPattern{}, inputErr("observe.PresetPattern", "preset", string(p), fmt.Sprint("one of ", Presets()))
	}
	return clonePattern(d.pattern), nil
}

// PresetRule returns the rule of a preset that sends to the topic: named
// "awsguard-" + preset, with the preset's pattern, description and
// readable message.
func PresetRule(p Preset, topicARN string) (EventRule, error) {
	d, ok := presetDefs[p]
	if !ok {
		return EventRule{}, inputErr("observe.PresetRule", "preset", string(p), fmt.Sprint("one of ", Presets()))
	}
	t := InputTransformer{PathsMap: map[string]string{}, Template: d.transformer.Template}
	for k, v := range d.transformer.PathsMap {
		t.PathsMap[k] = v
	}
	return EventRule{
		Name:        "awsguard-" + string(p),
		Description: "awsguard: " + d.description,
		Pattern:     clonePattern(d.pattern),
		TopicARN:    topicARN,
		Transformer: &t,
	}, nil
}

func clonePattern(p EventPattern) EventPattern {
	b, _ := json.Marshal(p)
	var c EventPattern
	_ = json.Unmarshal(b, &c)
	return c
}
