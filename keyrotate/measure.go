package keyrotate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	smithytime "github.com/aws/smithy-go/time"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/fanout"
)

// LookupEventsAPI is the part of *cloudtrail.Client that
// MeasureKeyActivity calls, one client per region.
type LookupEventsAPI interface {
	LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

var _ LookupEventsAPI = (*cloudtrail.Client)(nil)

// CheckLeakedActivity is the check ID of MeasureKeyActivity's findings.
const CheckLeakedActivity = "iam.key.leaked_activity"

// The flags of an event that a leaked key's attacker uses to stay or to
// gain rights.
const (
	FlagPersistence         = "persistence"
	FlagPrivilegeEscalation = "privilege-escalation"
)

// MaxLookupWindow is how far back CloudTrail event history goes.
const MaxLookupWindow = 90 * 24 * time.Hour

// MeasureOptions tune MeasureKeyActivity.
type MeasureOptions struct {
	// Regions to search. Required: CloudTrail event history is regional
	// (global services such as IAM log in us-east-1).
	Regions []string
	// Window is how far back to look: 1 hour to 90 days; default 90 days.
	Window time.Duration
	// Rate is the calls a second per region; default 2 (LookupEvents'
	// limit per account and region).
	Rate float64
	// MaxPages bounds the pages read per region; default 1000.
	MaxPages int
	// Concurrency is how many regions are read at once; default 4.
	Concurrency int
	// Now and Sleep are the clock; default time.Now and a context-aware
	// sleep. Tests inject both.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
}

// KeyEvent is one CloudTrail event of the key.
type KeyEvent struct {
	Time      time.Time `json:"time"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Region    string    `json:"region"`
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
	// Resources are the resources the event names ("TYPE NAME").
	Resources []string `json:"resources,omitempty"`
	// Flag is FlagPersistence, FlagPrivilegeEscalation or "".
	Flag    string `json:"flag,omitempty"`
	EventID string `json:"event_id"`
}

// Activity is what MeasureKeyActivity found the key did.
type Activity struct {
	KeyID string    `json:"key_id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Events, oldest first, from every region read.
	Events []KeyEvent `json:"events"`
	// EventNames, SourceIPs, UserAgents and Regions count the events by
	// each value.
	EventNames map[string]int `json:"event_names"`
	SourceIPs  map[string]int `json:"source_ips"`
	UserAgents map[string]int `json:"user_agents"`
	Regions    map[string]int `json:"regions"`
	FirstUse   time.Time      `json:"first_use,omitzero"`
	LastUse    time.Time      `json:"last_use,omitzero"`
	// Errors counts the events that failed (an error code).
	Errors int `json:"errors"`
	// Flagged are the events marked persistence or privilege escalation.
	Flagged []KeyEvent `json:"flagged"`
	// RegionErrors holds, per region, why it could not be read.
	RegionErrors map[string]string `json:"region_errors,omitempty"`
	// Pages is how many LookupEvents pages were read in all.
	Pages int `json:"pages"`
}

// flagOf returns the flag of an event name.
func flagOf(name string) string {
	switch {
	case slices.Contains([]string{"CreateUser", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile", "CreateRole",
		"RunInstances", "ImportKeyPair", "CreateKeyPair", "AuthorizeSecurityGroupIngress", "CreateVirtualMFADevice"}, name),
		strings.HasPrefix(name, "CreateFunction"):
		return FlagPersistence
	case slices.Contains([]string{"UpdateAssumeRolePolicy", "AddUserToGroup", "CreatePolicyVersion", "SetDefaultPolicyVersion", "PutBucketPolicy"}, name),
		strings.HasPrefix(name, "Attach") && strings.HasSuffix(name, "Policy"),
		strings.HasPrefix(name, "Put") && strings.HasSuffix(name, "Policy"):
		return FlagPrivilegeEscalation
	}
	return ""
}

// tokenBucket paces calls to rate a second. Its burst is one call, so
// that no second of calls ever holds more than the rate (a burst of two
// at 2/s would let three calls into one second).
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

func newTokenBucket(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *tokenBucket {
	return &tokenBucket{rate: rate, burst: 1, tokens: 1, last: now(), now: now, sleep: sleep}
}

// wait takes a token, sleeping until one is there.
func (b *tokenBucket) wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		t := b.now()
		b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
		b.last = t
		if b.tokens >= 1 {
			b.tokens--
			b.mu.Unlock()
			return nil
		}
		d := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		b.mu.Unlock()
		if err := b.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// MeasureKeyActivity reads what the key did from CloudTrail event history
// (LookupEvents filtered by AccessKeyId) over the window in each region,
// paginated and paced to Rate calls a second per region; a throttled call
// waits and is retried (at most 5 times). It returns the typed evidence;
// Activity.Report turns it into findings of CheckLeakedActivity. A region
// that cannot be read is named in RegionErrors and never stops the others.
//
// Permissions: cloudtrail:LookupEvents.
func MeasureKeyActivity(ctx context.Context, clientFor func(region string) LookupEventsAPI, accessKeyID string, optFns ...func(*MeasureOptions)) (*Activity, error) {
	const op = "keyrotate.MeasureKeyActivity"
	o := MeasureOptions{Window: MaxLookupWindow, Rate: 2, MaxPages: 1000, Concurrency: 4, Now: time.Now, Sleep: smithytime.SleepWithContext}
	for _, f := range optFns {
		f(&o)
	}
	if err := validateKeyID(op, accessKeyID); err != nil {
		return nil, err
	}
	switch {
	case len(o.Regions) == 0:
		return nil, inputError(op, "MeasureOptions.Regions", "", "one or more region names")
	case o.Window < time.Hour || o.Window > MaxLookupWindow:
		return nil, inputError(op, "MeasureOptions.Window", o.Window.String(), "1h to 2160h (90 days)")
	case o.Rate <= 0 || o.Rate > 2:
		return nil, inputError(op, "MeasureOptions.Rate", fmt.Sprint(o.Rate), "more than 0, at most 2 calls a second")
	}
	end := o.Now()
	act := &Activity{KeyID: accessKeyID, Start: end.Add(-o.Window), End: end, RegionErrors: map[string]string{}}
	events := make([][]KeyEvent, len(o.Regions))
	errs := make([]error, len(o.Regions))
	pages := make([]int, len(o.Regions))
	fanout.Each(ctx, len(o.Regions), o.Concurrency, func(ctx context.Context, i int) {
		r := regionLookup{api: clientFor(o.Regions[i]), region: o.Regions[i], key: accessKeyID, o: o, start: act.Start, end: end,
			bucket: newTokenBucket(o.Rate, o.Now, o.Sleep)}
		events[i], pages[i], errs[i] = r.run(ctx)
	}, func(i int, err error) { errs[i] = err })
	for i, region := range o.Regions {
		act.Pages += pages[i]
		if errs[i] != nil {
			act.RegionErrors[region] = errs[i].Error()
		}
		act.Events = append(act.Events, events[i]...)
	}
	act.tally()
	return act, nil
}

type regionLookup struct {
	api        LookupEventsAPI
	region     string
	key        string
	o          MeasureOptions
	start, end time.Time
	bucket     *tokenBucket
}

// run reads every page of the region, bounded by MaxPages.
func (r *regionLookup) run(ctx context.Context) ([]KeyEvent, int, error) {
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(r.start), EndTime: aws.Time(r.end), MaxResults: aws.Int32(50),
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(r.key)}}}
	var out []KeyEvent
	for page := 1; ; page++ {
		if page > r.o.MaxPages {
			return out, page - 1, fmt.Errorf("keyrotate: lookup events in %s: more than %d pages", r.region, r.o.MaxPages)
		}
		res, err := r.call(ctx, in)
		if err != nil {
			return out, page - 1, fmt.Errorf("keyrotate: lookup events of %s in %s: %w", r.key, r.region, err)
		}
		for _, e := range res.Events {
			out = append(out, keyEvent(e, r.region))
		}
		if aws.ToString(res.NextToken) == "" {
			return out, page, nil
		}
		in.NextToken = res.NextToken
	}
}

// call makes one paced call, retrying a throttled one.
func (r *regionLookup) call(ctx context.Context, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	for attempt := 0; ; attempt++ {
		if err := r.bucket.wait(ctx); err != nil {
			return nil, err
		}
		res, err := r.api.LookupEvents(ctx, in)
		if err == nil || attempt == 5 || !awserr.HasCode(err, "ThrottlingException", "Throttling", "TooManyRequestsException") {
			return res, err
		}
		if err := r.o.Sleep(ctx, time.Duration(attempt+1)*time.Second); err != nil {
			return nil, err
		}
	}
}

// ctRecord is the part of a CloudTrail record that the evidence keeps.
type ctRecord struct {
	SourceIPAddress string `json:"sourceIPAddress"`
	UserAgent       string `json:"userAgent"`
	AWSRegion       string `json:"awsRegion"`
	ErrorCode       string `json:"errorCode"`
}

func keyEvent(e cttypes.Event, region string) KeyEvent {
	k := KeyEvent{Time: aws.ToTime(e.EventTime), Name: aws.ToString(e.EventName), Source: aws.ToString(e.EventSource), Region: region, EventID: aws.ToString(e.EventId)}
	var rec ctRecord
	if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) == nil {
		k.SourceIP, k.UserAgent, k.ErrorCode = rec.SourceIPAddress, rec.UserAgent, rec.ErrorCode
		if rec.AWSRegion != "" {
			k.Region = rec.AWSRegion
		}
	}
	for _, r := range e.Resources {
		k.Resources = append(k.Resources, strings.TrimSpace(aws.ToString(r.ResourceType)+" "+aws.ToString(r.ResourceName)))
	}
	k.Flag = flagOf(k.Name)
	return k
}

// tally sorts the events and counts them.
func (a *Activity) tally() {
	slices.SortStableFunc(a.Events, func(x, y KeyEvent) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return strings.Compare(x.EventID, y.EventID)
	})
	a.EventNames, a.SourceIPs, a.UserAgents, a.Regions = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	a.Flagged = []KeyEvent{}
	if a.Events == nil {
		a.Events = []KeyEvent{}
	}
	for _, e := range a.Events {
		a.EventNames[e.Name]++
		a.SourceIPs[e.SourceIP]++
		a.UserAgents[e.UserAgent]++
		a.Regions[e.Region]++
		if e.ErrorCode != "" {
			a.Errors++
		}
		if e.Flag != "" {
			a.Flagged = append(a.Flagged, e)
		}
	}
	if n := len(a.Events); n > 0 {
		a.FirstUse, a.LastUse = a.Events[0].Time, a.Events[n-1].Time
	}
}

var leakControls = []string{"ISMS-P:2.7.2", "ISMS-P:2.11.3"}

// joinCounts renders counts as "value=n" sorted by value.
func joinCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, ",")
}

// Report returns the activity as findings of CheckLeakedActivity: one for
// the key (FAIL when it made any call in the window: CRITICAL when a call
// is flagged, else HIGH; PASS when none), one FAIL CRITICAL per flagged
// event, and one ERROR per region that could not be read. With no call
// found and some region unread, the key's finding is ERROR, not PASS.
func (a *Activity) Report(account string) *awsguard.Report {
	f := awsguard.Finding{Check: CheckLeakedActivity, Status: awsguard.StatusPass, Severity: awsguard.SeverityInfo, Account: account,
		Region: awsguard.RegionGlobal, Resource: a.KeyID, Controls: leakControls, Remediation: "keyrotate.ContainLeakedKey",
		Title: fmt.Sprintf("Leaked key %s made no call in CloudTrail from %s", a.KeyID, a.Start.UTC().Format(time.RFC3339)),
		Evidence: map[string]string{"events": fmt.Sprint(len(a.Events)), "flagged": fmt.Sprint(len(a.Flagged)), "errors": fmt.Sprint(a.Errors),
			"start": a.Start.UTC().Format(time.RFC3339), "end": a.End.UTC().Format(time.RFC3339)}}
	if len(a.Events) == 0 && len(a.RegionErrors) > 0 {
		// Unread history proves nothing: the key may have been used there.
		f.Status, f.Severity = awsguard.StatusError, awsguard.SeverityHigh
		f.Title = fmt.Sprintf("Leaked key %s: no call found, but CloudTrail could not be read in %d regions", a.KeyID, len(a.RegionErrors))
		f.Evidence["unread_regions"] = strings.Join(slices.Sorted(maps.Keys(a.RegionErrors)), ",")
	}
	if len(a.Events) > 0 {
		f.Status, f.Severity = awsguard.StatusFail, awsguard.SeverityHigh
		if len(a.Flagged) > 0 {
			f.Severity = awsguard.SeverityCritical
		}
		f.Title = fmt.Sprintf("Leaked key %s made %d calls (%d flagged) from %d addresses", a.KeyID, len(a.Events), len(a.Flagged), len(a.SourceIPs))
		f.Evidence["first_use"], f.Evidence["last_use"] = a.FirstUse.UTC().Format(time.RFC3339), a.LastUse.UTC().Format(time.RFC3339)
		f.Evidence["event_names"], f.Evidence["source_ips"] = joinCounts(a.EventNames), joinCounts(a.SourceIPs)
		f.Evidence["user_agents"], f.Evidence["regions"] = joinCounts(a.UserAgents), joinCounts(a.Regions)
	}
	r := awsguard.NewReport(a.End, f)
	for _, e := range a.Flagged {
		res := e.EventID
		if len(e.Resources) > 0 {
			res = e.Resources[0]
		}
		r.Add(awsguard.Finding{Check: CheckLeakedActivity, Status: awsguard.StatusFail, Severity: awsguard.SeverityCritical, Account: account,
			Region: e.Region, Resource: res, Controls: leakControls, Remediation: "keyrotate.ContainLeakedKey",
			Title: fmt.Sprintf("Leaked key %s called %s (%s)", a.KeyID, e.Name, e.Flag),
			Evidence: map[string]string{"event_id": e.EventID, "time": e.Time.UTC().Format(time.RFC3339), "source_ip": e.SourceIP,
				"user_agent": e.UserAgent, "error_code": e.ErrorCode, "resources": strings.Join(e.Resources, ","), "key": a.KeyID}})
	}
	for region, msg := range a.RegionErrors {
		r.Add(awsguard.Finding{Check: CheckLeakedActivity, Status: awsguard.StatusError, Severity: awsguard.SeverityHigh, Account: account,
			Region: region, Resource: a.KeyID, Controls: leakControls, Title: "CloudTrail event history of " + region + " could not be read",
			Evidence: map[string]string{"error": msg}})
	}
	r.Sort()
	return r
}
