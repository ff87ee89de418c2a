package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

// Event is one invocation's input: the account to audit and where the
// report goes. Its JSON names are the contract the state machine's
// ItemSelector fills (the README's definition is tested against it).
type Event struct {
	// Account is the 12-digit account audited.
	Account string `json:"account"`
	// Role is the role assumed in Account; empty when Account is the
	// function's own (its own credentials are then used).
	Role       string `json:"role,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	// Regions of the regional audits: names, or ["all"] for the account's
	// enabled regions; empty for the function's region.
	Regions []string `json:"regions,omitempty"`
	// Bucket and KeyPrefix say where the report is written:
	// s3://Bucket/KeyPrefixACCOUNT/TIME.json.
	Bucket    string `json:"bucket"`
	KeyPrefix string `json:"key_prefix,omitempty"`
	// SecurityHub publishes the findings to the account's Security Hub
	// (in the function's region, through Role).
	SecurityHub bool `json:"security_hub,omitempty"`
}

// Result is what an invocation returns: small, for the state machine's
// output.
type Result struct {
	Account string `json:"account"`
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Total   int    `json:"total"`
	// ByStatus counts the findings by status; FailedBySeverity the FAIL
	// findings by severity.
	ByStatus         map[awsguard.Status]int   `json:"by_status"`
	FailedBySeverity map[awsguard.Severity]int `json:"failed_by_severity"`
	// Published is the number of findings Security Hub imported.
	Published int `json:"security_hub_imported,omitempty"`
	// Errors are the parts of the account that could not be read (their
	// findings are ERROR findings in the report).
	Errors []string `json:"errors,omitempty"`
}

// PutObjectAPI is the part of *s3.Client the handler calls.
type PutObjectAPI interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Handler audits one account per invocation.
type Handler struct {
	// Config is the function's own configuration (its region and
	// execution role).
	Config aws.Config
	STS    awsguard.AssumeRoleAPI
	S3     PutObjectAPI
	// SecurityHub makes the client that publishes in the audited account;
	// default securityhub.NewFromConfig.
	SecurityHub func(aws.Config) observe.SecurityHubAPI
	Logger      *slog.Logger
	// Now stamps the report; default time.Now.
	Now func() time.Time
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	roleRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// Validate checks the event before any AWS call.
func (e Event) Validate() error {
	bad := func(field, value, allowed string) error {
		return &awsguard.InputError{Operation: "audit-lambda", Field: field, Value: value, Allowed: allowed}
	}
	switch {
	case !accountRE.MatchString(e.Account):
		return bad("account", e.Account, "a 12-digit account ID")
	case e.Role != "" && !roleRE.MatchString(e.Role):
		return bad("role", e.Role, "a role name: 1 to 64 of letters, digits and +=,.@_-")
	case e.ExternalID != "" && e.Role == "":
		return bad("external_id", "(set)", "only with role")
	case !bucketRE.MatchString(e.Bucket):
		return bad("bucket", e.Bucket, "an S3 bucket name: 3 to 63 of lower-case letters, digits, . and -")
	case strings.HasPrefix(e.KeyPrefix, "/") || len(e.KeyPrefix) > 512:
		return bad("key_prefix", e.KeyPrefix, "a key prefix of at most 512 characters, not starting with /")
	}
	for i, r := range e.Regions {
		if (r != "all" || len(e.Regions) != 1) && !regionRE.MatchString(r) {
			return bad("regions", r, `region names such as us-east-1, or ["all"] alone`)
		}
		if slices.Contains(e.Regions[:i], r) {
			return bad("regions", r, "each region once")
		}
	}
	return nil
}

// Handle is the Lambda handler: it audits the event's account, publishes
// the findings to Security Hub when asked, writes the report to S3, and
// returns the summary. A report written is not undone when publishing
// fails: the error says where it is.
func (h *Handler) Handle(ctx context.Context, ev Event) (*Result, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out, err := h.audit(ctx, ev)
	if err != nil {
		return nil, err
	}
	rep := out.report
	res := &Result{Account: ev.Account, Bucket: ev.Bucket}
	if res.Key, err = h.write(ctx, ev, rep); err != nil {
		return nil, err
	}
	s := rep.Summary()
	res.Total, res.ByStatus, res.FailedBySeverity = s.Total, s.ByStatus, s.FailedBySeverity
	for _, e := range out.errs {
		if e != nil {
			res.Errors = append(res.Errors, e.Error())
		}
	}
	if out.published != nil {
		res.Published = out.published.Imported
	}
	if out.publishErr != nil {
		return nil, fmt.Errorf("report written to s3://%s/%s; publish to Security Hub: %w", ev.Bucket, res.Key, out.publishErr)
	}
	log.Info("account audited", "operation", "audit-lambda", "account", ev.Account, "key", res.Key,
		"findings", res.Total, "failed", s.ByStatus[awsguard.StatusFail], "errors", len(res.Errors))
	return res, nil
}

// audit reaches the account (through the role, if any), runs every
// audit and, when asked, publishes the findings with the account's
// credentials. The error return is for an account that could not be
// reached or audited at all.
func (h *Handler) audit(ctx context.Context, ev Event) (accountAudit, error) {
	results, err := awsguard.ForEachAccount(ctx, h.Config, h.STS, []string{ev.Account},
		func(ctx context.Context, t awsguard.Target) (accountAudit, error) {
			regions, err := resolveRegions(ctx, t.Config, ev.Regions)
			if err != nil {
				return accountAudit{}, err
			}
			var out accountAudit
			if out.reports, out.errs, err = auditAccount(ctx, t, regions); err != nil {
				return accountAudit{}, err
			}
			out.report = awsguard.Merge(out.reports...)
			if out.report.GeneratedAt.IsZero() {
				out.report.GeneratedAt = h.now()
			}
			if ev.SecurityHub {
				out.published, out.publishErr = observe.PublishFindings(ctx, h.hub(t.Config), out.report, func(o *observe.PublishOptions) {
					o.Account, o.Region = ev.Account, t.Region
				})
			}
			return out, nil
		}, func(o *awsguard.AccountOptions) {
			o.RoleName, o.ExternalID = ev.Role, ev.ExternalID
			if ev.Role == "" {
				// The function's own account: its own credentials (the
				// role name is then never used).
				o.Self, o.RoleName = ev.Account, "unused"
			}
		})
	if err != nil {
		return accountAudit{}, err
	}
	if r := results[0]; r.Err != nil {
		return accountAudit{}, fmt.Errorf("audit account %s: %w", ev.Account, r.Err)
	}
	return results[0].Value, nil
}

func (h *Handler) hub(cfg aws.Config) observe.SecurityHubAPI {
	if h.SecurityHub != nil {
		return h.SecurityHub(cfg)
	}
	return securityhub.NewFromConfig(cfg)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// Key is where the report of account, made at t, is written.
func Key(prefix, account string, t time.Time) string {
	return prefix + account + "/" + t.UTC().Format("2006-01-02T15-04-05Z") + ".json"
}

// write puts the report in the bucket with the function's own
// credentials.
func (h *Handler) write(ctx context.Context, ev Event, rep *awsguard.Report) (string, error) {
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		return "", fmt.Errorf("encode the report: %w", err)
	}
	key := Key(ev.KeyPrefix, ev.Account, rep.GeneratedAt)
	_, err := h.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ev.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(b.Bytes()), ContentType: aws.String("application/json")})
	if err != nil {
		return "", fmt.Errorf("write the report to s3://%s/%s: %w", ev.Bucket, key, err)
	}
	return key, nil
}

// resolveRegions returns the event's regions: the function's by default,
// the account's enabled ones for ["all"].
func resolveRegions(ctx context.Context, cfg aws.Config, regions []string) ([]string, error) {
	switch {
	case len(regions) == 0:
		return []string{cfg.Region}, nil
	case regions[0] != "all":
		return regions, nil
	}
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list the enabled regions (regions [\"all\"]): %w", err)
	}
	var rs []string
	for _, r := range out.Regions {
		rs = append(rs, aws.ToString(r.RegionName))
	}
	slices.Sort(rs)
	if len(rs) == 0 {
		return nil, errors.New("list the enabled regions: none")
	}
	return rs, nil
}
