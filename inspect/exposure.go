package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// Target names what CloseExposure closes and RestoreExposure reopens: a
// port on an instance (every security group of its interfaces) or on one
// security group. Exactly one of InstanceID and GroupID is set.
type Target struct {
	InstanceID string
	GroupID    string
	Port       Port
}

func (t Target) String() string {
	id := t.InstanceID
	if id == "" {
		id = t.GroupID
	}
	return id + " port " + t.Port.String()
}

// RecordTagPrefix starts the key of the tag that records a revoked rule on
// its security group: "awsguard:revoked:PROTOCOL:FROM-TO:SOURCE", such as
// "awsguard:revoked:tcp:22-22:0.0.0.0/0". The value is a JSON object with
// the rule's description and the CIDR that replaced it, if any.
const RecordTagPrefix = "awsguard:revoked:"

// The kinds of the actions of CloseExposure and RestoreExposure plans.
const (
	ActionRecordRule           = "record-rule"           // ec2:CreateTags: record the rule before revoking it
	ActionAuthorizeReplacement = "authorize-replacement" // ec2:AuthorizeSecurityGroupIngress: the same ports from the replacement CIDR
	ActionRevokeRule           = "revoke-rule"           // ec2:RevokeSecurityGroupIngress: the rule open to the internet
	ActionAuthorizeRule        = "authorize-rule"        // ec2:AuthorizeSecurityGroupIngress: put a recorded rule back (weakening)
	ActionRevokeReplacement    = "revoke-replacement"    // ec2:RevokeSecurityGroupIngress: the replacement rule
	ActionDeleteRecord         = "delete-record"         // ec2:DeleteTags: the record of a restored rule
)

// CloseOptions tune CloseExposure.
type CloseOptions struct {
	// ReplaceCIDR, if set, replaces each revoked rule with the same
	// protocol and ports from this CIDR (an office range, say). It must be
	// a valid CIDR narrower than 0.0.0.0/0 and ::/0.
	ReplaceCIDR string
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per action; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event per action.
	Progress func(awsguard.Progress)
	// MaxPages bounds the prefix-list reads; default DefaultMaxPages.
	MaxPages int
}

// RestoreOptions tune RestoreExposure.
type RestoreOptions struct {
	// AllowWeaken must be true to apply a plan that reopens a rule to the
	// internet: restoring is weakening by definition. Without it the plan
	// is refused (*awsguard.WeakeningError), even in a dry run.
	AllowWeaken bool
	DryRun      bool
	Logger      *slog.Logger
	Progress    func(awsguard.Progress)
}

func validateTarget(op string, t Target) error {
	switch {
	case (t.InstanceID == "") == (t.GroupID == ""):
		return &awsguard.InputError{Operation: op, Field: "Target", Value: t.String(), Allowed: "exactly one of InstanceID and GroupID"}
	case t.InstanceID != "" && !strings.HasPrefix(t.InstanceID, "i-"):
		return &awsguard.InputError{Operation: op, Field: "Target.InstanceID", Value: t.InstanceID, Allowed: "an instance ID (i-...)"}
	case t.GroupID != "" && !strings.HasPrefix(t.GroupID, "sg-"):
		return &awsguard.InputError{Operation: op, Field: "Target.GroupID", Value: t.GroupID, Allowed: "a security group ID (sg-...)"}
	case !t.Port.valid():
		return &awsguard.InputError{Operation: op, Field: "Target.Port", Value: fmt.Sprint(int32(t.Port)), Allowed: "0-65535 or AllPorts"}
	}
	return nil
}

// liveGroups reads the target's security groups and the prefix lists
// their rules refer to.
func liveGroups(ctx context.Context, api ExposureAPI, t Target, maxPages int) ([]ec2types.SecurityGroup, *index, error) {
	ids := []string{t.GroupID}
	if t.InstanceID != "" {
		out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{t.InstanceID}})
		if awserr.HasCode(err, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed") {
			return nil, nil, fmt.Errorf("%w: instance %s: %w", ErrNotFound, t.InstanceID, err)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("inspect: describe instance %s: %w", t.InstanceID, err)
		}
		ids = nil
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				inst := convertInstance(in)
				for _, ifc := range inst.Interfaces {
					for _, g := range ifc.Groups {
						if !slices.Contains(ids, g) {
							ids = append(ids, g)
						}
					}
				}
			}
		}
		if len(ids) == 0 {
			return nil, nil, fmt.Errorf("%w: instance %s (or its security groups)", ErrNotFound, t.InstanceID)
		}
	}
	out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: ids})
	if awserr.HasCode(err, "InvalidGroup.NotFound", "InvalidGroupId.Malformed") {
		return nil, nil, fmt.Errorf("%w: security group %s: %w", ErrNotFound, strings.Join(ids, ","), err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("inspect: describe security groups %s: %w", strings.Join(ids, ","), err)
	}
	s := &Snapshot{}
	for _, g := range out.SecurityGroups {
		s.SecurityGroups = append(s.SecurityGroups, convertGroup(g))
	}
	if slices.ContainsFunc(s.SecurityGroups, func(g SecurityGroup) bool {
		return slices.ContainsFunc(g.Ingress, func(r SGRule) bool { return r.PrefixListID != "" })
	}) {
		if err := readPrefixLists(ctx, api, s, maxPages); err != nil {
			return nil, nil, fmt.Errorf("inspect: read prefix lists: %w", err)
		}
	}
	return out.SecurityGroups, newIndex(s), nil
}

// offending returns the rules of the group that let the target's port in
// from anywhere. For AllPorts, the rules that open every TCP port on
// their own (all traffic, tcp 0-65535).
func offending(ix *index, g SecurityGroup, p Port) []SGRule {
	var out []SGRule
	for _, r := range g.Ingress {
		if !ix.ruleFromAnywhere(r, IPv4) && !ix.ruleFromAnywhere(r, IPv6) {
			continue
		}
		s, ok := tcpSpan(r.Protocol, r.FromPort, r.ToPort)
		if !ok {
			continue
		}
		if p == AllPorts && (s != span{0, 65535}) {
			continue
		}
		if p != AllPorts && (portSet{s}).intersect(p.span()).empty() {
			continue
		}
		out = append(out, r)
	}
	return out
}

// recordKey is the tag key that records the rule.
func recordKey(r SGRule) string {
	if protocolNumber(r.Protocol) == "-1" {
		return fmt.Sprintf("%s%s:all:%s", RecordTagPrefix, r.Protocol, r.source())
	}
	return fmt.Sprintf("%s%s:%d-%d:%s", RecordTagPrefix, r.Protocol, r.FromPort, r.ToPort, r.source())
}

type record struct {
	Description string `json:"description,omitempty"`
	ReplacedBy  string `json:"replaced_by,omitempty"`
}

// recordValue encodes the record in at most 256 bytes (EC2's limit),
// shortening the description if it must.
func recordValue(r SGRule, replacedBy string) string {
	desc := r.Description
	for {
		b, _ := json.Marshal(record{Description: desc, ReplacedBy: replacedBy})
		if len(b) <= 256 || desc == "" {
			return string(b)
		}
		rs := []rune(desc)
		desc = string(rs[:len(rs)-1])
	}
}

// parseRecord reads a record tag back into the rule it recorded.
func parseRecord(group, key, value string) (SGRule, record, error) {
	rest := strings.TrimPrefix(key, RecordTagPrefix)
	proto, rest, ok1 := strings.Cut(rest, ":")
	ports, source, ok2 := strings.Cut(rest, ":")
	from, to, ok3 := strings.Cut(ports, "-")
	if ports == "all" && protocolNumber(proto) == "-1" {
		from, to, ok3 = "0", "0", true
	}
	f, err1 := strconv.ParseInt(from, 10, 32)
	t, err2 := strconv.ParseInt(to, 10, 32)
	var rec record
	err3 := json.Unmarshal([]byte(value), &rec)
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil || err3 != nil || proto == "" || source == "" {
		return SGRule{}, rec, fmt.Errorf("%w: tag %q on %s", ErrRecordConflict, key, group)
	}
	r := SGRule{Group: group, Protocol: proto, FromPort: int32(f), ToPort: int32(t), Description: rec.Description}
	switch {
	case strings.HasPrefix(source, "pl-"):
		r.PrefixListID = source
	default:
		if _, err := netip.ParsePrefix(source); err != nil {
			return SGRule{}, rec, fmt.Errorf("%w: tag %q on %s: source %q", ErrRecordConflict, key, group, source)
		}
		r.CIDR = source
	}
	return r, rec, nil
}

// permission is the IpPermission holding exactly the rule.
func permission(r SGRule) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(r.Protocol)}
	if protocolNumber(r.Protocol) != "-1" {
		p.FromPort, p.ToPort = aws.Int32(r.FromPort), aws.Int32(r.ToPort)
	}
	var desc *string
	if r.Description != "" {
		desc = aws.String(r.Description)
	}
	switch {
	case r.PrefixListID != "":
		p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(r.PrefixListID), Description: desc}}
	case familyOf(r.CIDR) == IPv6:
		p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.CIDR), Description: desc}}
	default:
		p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR), Description: desc}}
	}
	return p
}

// hasRule reports whether the group holds a rule of the same protocol,
// ports and source.
func hasRule(g SecurityGroup, r SGRule) bool {
	return slices.ContainsFunc(g.Ingress, func(x SGRule) bool {
		return protocolNumber(x.Protocol) == protocolNumber(r.Protocol) && x.source() == r.source() &&
			(protocolNumber(r.Protocol) == "-1" || (x.FromPort == r.FromPort && x.ToPort == r.ToPort))
	})
}

func replacementOf(r SGRule, cidr string) SGRule {
	return SGRule{Group: r.Group, Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort, CIDR: cidr,
		Description: "awsguard: replaces " + r.source()}
}

func tagsOf(g ec2types.SecurityGroup) map[string]string {
	m := map[string]string{}
	for _, t := range g.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// CloseExposure revokes the security group rules that let the target's
// port in from the internet (0.0.0.0/0, ::/0, or a prefix list holding
// either), or replaces each with the same rule from Options.ReplaceCIDR.
//
// It reads the live rules first and plans, per offending rule: record it
// in a tag on its group (RecordTagPrefix), authorize the replacement (if
// any), revoke it. The record comes first, so that no rule is ever
// revoked without a record RestoreExposure can put back; the replacement
// comes before the revocation, so that the replacement range never loses
// access. A dry run returns the plan and changes nothing. Run again, it
// finds nothing open and says so (Reason "already compliant"); a run
// interrupted at any call carries out only what is left when run again.
// For AllPorts it revokes the rules that open every TCP port on their own
// (all traffic, tcp 0-65535); close narrower rules port by port.
//
// Input is checked before any call (*awsguard.InputError); a missing
// instance or group gives ErrNotFound. A failed step gives an
// *awsguard.StepError whose Done lists what was kept.
//
// Permissions: those ExposureAPI lists but ec2:DeleteTags.
func CloseExposure(ctx context.Context, api ExposureAPI, target Target, optFns ...func(*CloseOptions)) (*awsguard.Plan, error) {
	const op = "inspect.CloseExposure"
	var o CloseOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := validateTarget(op, target); err != nil {
		return nil, err
	}
	if err := needClient(op, api); err != nil {
		return nil, err
	}
	if o.ReplaceCIDR != "" {
		p, err := netip.ParsePrefix(o.ReplaceCIDR)
		if err != nil || p.Bits() == 0 || p.Masked() != p {
			return nil, &awsguard.InputError{Operation: op, Field: "CloseOptions.ReplaceCIDR", Value: o.ReplaceCIDR,
				Allowed: "an IPv4 or IPv6 CIDR in canonical form (host bits zero), narrower than 0.0.0.0/0 and ::/0"}
		}
	}
	groups, ix, err := liveGroups(ctx, api, target, o.MaxPages)
	if err != nil {
		return nil, err
	}
	plan := &awsguard.Plan{Operation: op, Resource: target.String(), DryRun: o.DryRun}
	var ruleOf []SGRule // ruleOf[i] is the rule of plan.Actions[i]
	add := func(r SGRule, a awsguard.Action) {
		plan.Add(a)
		ruleOf = append(ruleOf, r)
	}
	planned := map[string]bool{} // replacements already planned, by group and rule
	for _, g := range groups {
		sg := ix.groups[aws.ToString(g.GroupId)]
		tags := tagsOf(g)
		for _, r := range offending(ix, *sg, target.Port) {
			key := recordKey(r)
			if _, ok := tags[key]; !ok {
				add(r, awsguard.Action{Kind: ActionRecordRule, Call: "ec2:CreateTags", Resource: r.Group,
					Detail: fmt.Sprintf("record %s in tag %s", r, key), Why: "so that RestoreExposure can put it back"})
			}
			if o.ReplaceCIDR != "" {
				rep := replacementOf(r, o.ReplaceCIDR)
				if k := r.Group + " " + recordKey(rep); !hasRule(*sg, rep) && !planned[k] {
					planned[k] = true
					add(r, awsguard.Action{Kind: ActionAuthorizeReplacement, Call: "ec2:AuthorizeSecurityGroupIngress", Resource: r.Group,
						Detail: "authorize " + rep.String(), Why: "replaces " + r.String()})
				}
			}
			add(r, awsguard.Action{Kind: ActionRevokeRule, Call: "ec2:RevokeSecurityGroupIngress", Resource: r.Group,
				Detail: "revoke " + r.String(), Why: fmt.Sprintf("lets tcp %s in from the internet", target.Port)})
		}
	}
	if plan.NothingToDo() {
		plan.Reason = awsguard.ReasonAlreadyCompliant
	}
	order := map[*awsguard.Action]SGRule{}
	for i := range plan.Actions {
		order[&plan.Actions[i]] = ruleOf[i]
	}
	do := func(ctx context.Context, a *awsguard.Action) error {
		r := order[a]
		switch a.Kind {
		case ActionRecordRule:
			_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{r.Group},
				Tags: []ec2types.Tag{{Key: aws.String(recordKey(r)), Value: aws.String(recordValue(r, o.ReplaceCIDR))}}})
			return err
		case ActionAuthorizeReplacement:
			_, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(r.Group),
				IpPermissions: []ec2types.IpPermission{permission(replacementOf(r, o.ReplaceCIDR))}})
			if awserr.HasCode(err, "InvalidPermission.Duplicate") {
				return nil // a lost response of an earlier try: it is there
			}
			return err
		case ActionRevokeRule:
			_, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(r.Group),
				IpPermissions: []ec2types.IpPermission{permission(r)}})
			if awserr.HasCode(err, "InvalidPermission.NotFound") {
				return nil
			}
			return err
		}
		return fmt.Errorf("inspect: unknown action %s", a.Kind)
	}
	err = plan.Apply(ctx, do, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress,
		ToDo: "run CloseExposure again: it carries out only what is left"})
	return plan, err
}

// RestoreExposure puts back the rules CloseExposure revoked on the
// target's groups whose ports meet the target's port (every recorded rule
// for AllPorts), as read from their record tags: authorize the rule again,
// revoke its replacement (if any), delete the record. Reopening a port to
// the internet weakens the group: the plan's authorize actions are marked
// Weakening, and Apply refuses them unless Options.AllowWeaken. Run again,
// it finds no record and says so; an interrupted run finishes when run
// again. A record it cannot read stops it with ErrRecordConflict before
// any change.
//
// Permissions: ec2:DescribeInstances, ec2:DescribeSecurityGroups,
// ec2:AuthorizeSecurityGroupIngress, ec2:RevokeSecurityGroupIngress,
// ec2:DeleteTags (and the prefix-list reads when a rule uses one).
func RestoreExposure(ctx context.Context, api ExposureAPI, target Target, optFns ...func(*RestoreOptions)) (*awsguard.Plan, error) {
	const op = "inspect.RestoreExposure"
	var o RestoreOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := validateTarget(op, target); err != nil {
		return nil, err
	}
	if err := needClient(op, api); err != nil {
		return nil, err
	}
	groups, ix, err := liveGroups(ctx, api, target, 0)
	if err != nil {
		return nil, err
	}
	plan := &awsguard.Plan{Operation: op, Resource: target.String(), DryRun: o.DryRun}
	type step struct {
		rule SGRule
		rec  record
		key  string
	}
	var stepOf []step // stepOf[i] is the step of plan.Actions[i]
	add := func(s step, a awsguard.Action) {
		plan.Add(a)
		stepOf = append(stepOf, s)
	}
	for _, g := range groups {
		id := aws.ToString(g.GroupId)
		sg := ix.groups[id]
		tags := tagsOf(g)
		keys := make([]string, 0, len(tags))
		for k := range tags {
			if strings.HasPrefix(k, RecordTagPrefix) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			r, rec, err := parseRecord(id, k, tags[k])
			if err != nil {
				return nil, err
			}
			s, ok := tcpSpan(r.Protocol, r.FromPort, r.ToPort)
			if ok && (portSet{s}).intersect(target.Port.span()).empty() {
				continue
			}
			if !ok && target.Port != AllPorts {
				continue
			}
			st := step{r, rec, k}
			if !hasRule(*sg, r) {
				add(st, awsguard.Action{Kind: ActionAuthorizeRule, Call: "ec2:AuthorizeSecurityGroupIngress", Resource: id,
					Detail: "authorize " + r.String(), Why: "recorded in tag " + k, Weakening: true})
			}
			if rec.ReplacedBy != "" && hasRule(*sg, replacementOf(r, rec.ReplacedBy)) {
				add(st, awsguard.Action{Kind: ActionRevokeReplacement, Call: "ec2:RevokeSecurityGroupIngress", Resource: id,
					Detail: "revoke " + replacementOf(r, rec.ReplacedBy).String(), Why: "it replaced the restored rule"})
			}
			add(st, awsguard.Action{Kind: ActionDeleteRecord, Call: "ec2:DeleteTags", Resource: id,
				Detail: "delete tag " + k, Why: "the rule is restored"})
		}
	}
	if plan.NothingToDo() {
		plan.Reason = awsguard.ReasonNothingToRemove
	}
	byAction := map[*awsguard.Action]step{}
	for i := range plan.Actions {
		byAction[&plan.Actions[i]] = stepOf[i]
	}
	do := func(ctx context.Context, a *awsguard.Action) error {
		s := byAction[a]
		switch a.Kind {
		case ActionAuthorizeRule:
			_, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(s.rule.Group),
				IpPermissions: []ec2types.IpPermission{permission(s.rule)}})
			if awserr.HasCode(err, "InvalidPermission.Duplicate") {
				return nil
			}
			return err
		case ActionRevokeReplacement:
			_, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(s.rule.Group),
				IpPermissions: []ec2types.IpPermission{permission(replacementOf(s.rule, s.rec.ReplacedBy))}})
			if awserr.HasCode(err, "InvalidPermission.NotFound") {
				return nil
			}
			return err
		case ActionDeleteRecord:
			_, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{s.rule.Group}, Tags: []ec2types.Tag{{Key: aws.String(s.key)}}})
			return err
		}
		return fmt.Errorf("inspect: unknown action %s", a.Kind)
	}
	err = plan.Apply(ctx, do, awsguard.ApplyOptions{AllowWeaken: o.AllowWeaken, Logger: o.Logger, Progress: o.Progress,
		ToDo: "run RestoreExposure again: it carries out only what is left"})
	return plan, err
}

// TargetsFromFinding returns the targets that close a failing
// network.instance.exposed finding (one per exposed port of the instance)
// or network.sg.open_admin_ports finding (one per open port of the group).
func TargetsFromFinding(f awsguard.Finding) ([]Target, error) {
	var id string
	var t func(Port) Target
	switch f.Check {
	case CheckInstanceExposed:
		id = f.Evidence["instance_id"]
		t = func(p Port) Target { return Target{InstanceID: id, Port: p} }
	case CheckSGOpenPorts:
		id = f.Evidence["group_id"]
		t = func(p Port) Target { return Target{GroupID: id, Port: p} }
	default:
		return nil, &awsguard.InputError{Operation: "inspect.TargetsFromFinding", Field: "finding.Check", Value: f.Check,
			Allowed: CheckInstanceExposed + " or " + CheckSGOpenPorts}
	}
	list := f.Evidence["exposed_ports"]
	if f.Check == CheckSGOpenPorts {
		list = f.Evidence["open_ports"]
	}
	if id == "" || f.Status != awsguard.StatusFail || list == "" || list == "none" {
		return nil, nil
	}
	var out []Target
	for _, s := range strings.Split(list, ",") {
		p, err := ParsePort(s)
		if err != nil {
			return nil, errors.Join(&awsguard.InputError{Operation: "inspect.TargetsFromFinding", Field: "finding.Evidence", Value: list, Allowed: "ports as NetworkFindings writes them"}, err)
		}
		out = append(out, t(p))
	}
	return out, nil
}
