package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"
)

const msKey = "AKIAEXAMPLELEAKED123"

var msT0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// fakeClock advances only when slept on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// fakeTrail serves pages of events for one region: page i answers with
// pages[i] and a token unless it is the last; calls listed in throttle
// (1-based) fail with ThrottlingException; err, if set, fails every call.
type fakeTrail struct {
	t        *testing.T
	clock    *fakeClock
	pages    [][]cttypes.Event
	throttle map[int]bool
	err      error
	endless  bool

	mu    sync.Mutex
	calls []time.Time
}

func (f *fakeTrail) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, f.clock.Now())
	n := len(f.calls)
	f.mu.Unlock()
	if len(in.LookupAttributes) != 1 || in.LookupAttributes[0].AttributeKey != cttypes.LookupAttributeKeyAccessKeyId || aws.ToString(in.LookupAttributes[0].AttributeValue) != msKey {
		f.t.Errorf("lookup attributes %+v", in.LookupAttributes)
	}
	switch {
	case f.err != nil:
		return nil, f.err
	case f.throttle[n]:
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	case f.endless:
		return &cloudtrail.LookupEventsOutput{NextToken: aws.String("more")}, nil
	}
	i := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "page-%d", &i)
	}
	out := &cloudtrail.LookupEventsOutput{Events: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(fmt.Sprintf("page-%d", i+1))
	}
	return out, nil
}

func msEvent(id, name, ip string, at time.Duration, errCode string, resources ...string) cttypes.Event {
	rec := fmt.Sprintf(`{"sourceIPAddress":%q,"userAgent":"aws-cli/2.15","awsRegion":"us-east-1","errorCode":%q}`, ip, errCode)
	e := cttypes.Event{EventId: aws.String(id), EventName: aws.String(name), EventSource: aws.String("iam.amazonaws.com"),
		EventTime: aws.Time(msT0.Add(-at)), CloudTrailEvent: aws.String(rec), AccessKeyId: aws.String(msKey)}
	for _, r := range resources {
		typ, n, _ := strings.Cut(r, " ")
		e.Resources = append(e.Resources, cttypes.Resource{ResourceType: aws.String(typ), ResourceName: aws.String(n)})
	}
	return e
}

// The canned attack: reconnaissance, then persistence and escalation.
var msAttack = [][]cttypes.Event{
	{msEvent("e1", "GetCallerIdentity", "203.0.113.7", 50*time.Hour, ""), msEvent("e2", "ListUsers", "203.0.113.7", 49*time.Hour, "")},
	{}, // an empty page with a token: keep reading
	{msEvent("e3", "CreateUser", "203.0.113.7", 48*time.Hour, "", "AWS::IAM::User backdoor"),
		msEvent("e4", "AttachUserPolicy", "203.0.113.7", 47*time.Hour, "", "AWS::IAM::User backdoor")},
	{msEvent("e5", "CreateAccessKey", "198.51.100.9", 46*time.Hour, "AccessDenied"), msEvent("e6", "PutBucketPolicy", "198.51.100.9", 45*time.Hour, "", "AWS::S3::Bucket data")},
}

func msOptions(c *fakeClock, regions ...string) func(*keyrotate.MeasureOptions) {
	return func(o *keyrotate.MeasureOptions) {
		o.Regions, o.Now, o.Sleep, o.Concurrency = regions, c.Now, c.Sleep, 1
	}
}

// Every page of every region is read (empty pages with a token too),
// throttled calls are retried, persistence and escalation are flagged,
// and a region that fails is named without stopping the others.
func TestMeasureKeyActivity(t *testing.T) {
	clock := &fakeClock{now: msT0}
	east := &fakeTrail{t: t, clock: clock, pages: msAttack, throttle: map[int]bool{2: true}}
	west := &fakeTrail{t: t, clock: clock, pages: [][]cttypes.Event{{msEvent("w1", "RunInstances", "203.0.113.7", 44*time.Hour, "", "AWS::EC2::Instance i-1")}}}
	broken := &fakeTrail{t: t, clock: clock, err: errors.New("access denied to cloudtrail")}
	trails := map[string]*fakeTrail{"us-east-1": east, "us-west-2": west, "eu-west-1": broken}
	clientFor := func(r string) keyrotate.LookupEventsAPI { return trails[r] }
	act, err := keyrotate.MeasureKeyActivity(context.Background(), clientFor, msKey, msOptions(clock, "us-east-1", "us-west-2", "eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	var names, flagged []string
	for _, e := range act.Events {
		names = append(names, e.Name)
	}
	for _, e := range act.Flagged {
		flagged = append(flagged, e.Name+":"+e.Flag)
	}
	if diff := cmp.Diff([]string{"GetCallerIdentity", "ListUsers", "CreateUser", "AttachUserPolicy", "CreateAccessKey", "PutBucketPolicy", "RunInstances"}, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantFlagged := []string{"CreateUser:persistence", "AttachUserPolicy:privilege-escalation", "CreateAccessKey:persistence", "PutBucketPolicy:privilege-escalation", "RunInstances:persistence"}
	if diff := cmp.Diff(wantFlagged, flagged); diff != "" {
		t.Errorf("flagged (-want +got):\n%s", diff)
	}
	if act.Errors != 1 || act.SourceIPs["203.0.113.7"] != 5 || act.SourceIPs["198.51.100.9"] != 2 || act.UserAgents["aws-cli/2.15"] != 7 ||
		!act.FirstUse.Equal(msT0.Add(-50*time.Hour)) || !act.LastUse.Equal(msT0.Add(-44*time.Hour)) || act.Regions["us-east-1"] != 7 {
		t.Errorf("tally: %+v", act)
	}
	if !act.Start.Equal(msT0.Add(-keyrotate.MaxLookupWindow)) {
		t.Errorf("start %v", act.Start)
	}
	if len(east.calls) != 5 || act.Pages != 5 || !strings.Contains(act.RegionErrors["eu-west-1"], "access denied") || len(act.RegionErrors) != 1 {
		t.Errorf("east calls %d, pages %d, region errors %v", len(east.calls), act.Pages, act.RegionErrors)
	}
	rep := act.Report("123456789012")
	var got []string
	for _, f := range rep.Findings {
		if f.Check != keyrotate.CheckLeakedActivity {
			t.Errorf("check %s", f.Check)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Status, f.Severity, f.Region, f.Resource))
	}
	want := []string{
		"FAIL CRITICAL global " + msKey,
		"FAIL CRITICAL us-east-1 AWS::IAM::User backdoor", "FAIL CRITICAL us-east-1 AWS::IAM::User backdoor",
		"FAIL CRITICAL us-east-1 AWS::S3::Bucket data", "FAIL CRITICAL us-east-1 e5",
		"ERROR HIGH eu-west-1 " + msKey,
		"FAIL CRITICAL us-east-1 AWS::EC2::Instance i-1",
	}
	if diff := cmp.Diff(sortedCopy(want), sortedCopy(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// LookupEvents is paced to 2 calls a second per region: no second of
// the fake clock sees more than 2 calls.
func TestMeasureRateLimit(t *testing.T) {
	clock := &fakeClock{now: msT0}
	pages := make([][]cttypes.Event, 12)
	trail := &fakeTrail{t: t, clock: clock, pages: pages}
	act, err := keyrotate.MeasureKeyActivity(context.Background(), func(string) keyrotate.LookupEventsAPI { return trail }, msKey, msOptions(clock, "us-east-1"))
	if err != nil || act.Pages != 12 || len(act.Events) != 0 {
		t.Fatalf("%+v, %v", act, err)
	}
	for i := 2; i < len(trail.calls); i++ {
		if d := trail.calls[i].Sub(trail.calls[i-2]); d < time.Second {
			t.Errorf("calls %d and %d %v apart: more than 2 a second", i-2, i, d)
		}
	}
	if el := clock.Now().Sub(msT0); el < 4*time.Second || el > 6*time.Second {
		t.Errorf("12 calls took %v of the clock, want about 5 s", el)
	}
	rep := act.Report("123456789012")
	if len(rep.Findings) != 1 || rep.Findings[0].Status != awsguard.StatusPass {
		t.Errorf("report of no activity: %+v", rep.Findings)
	}
}

// Endless pages are bounded; bad options are refused before any call.
func TestMeasureBoundsAndInput(t *testing.T) {
	clock := &fakeClock{now: msT0}
	trail := &fakeTrail{t: t, clock: clock, endless: true}
	clientFor := func(string) keyrotate.LookupEventsAPI { return trail }
	act, err := keyrotate.MeasureKeyActivity(context.Background(), clientFor, msKey, msOptions(clock, "us-east-1"), func(o *keyrotate.MeasureOptions) { o.MaxPages = 7 })
	if err != nil || act.Pages != 7 || !strings.Contains(act.RegionErrors["us-east-1"], "more than 7 pages") {
		t.Errorf("endless: %+v, %v", act, err)
	}
	trail.calls = nil
	for name, f := range map[string]func(*keyrotate.MeasureOptions){
		"no regions":   func(o *keyrotate.MeasureOptions) { o.Regions = nil },
		"long window":  func(o *keyrotate.MeasureOptions) { o.Window = 91 * 24 * time.Hour },
		"short window": func(o *keyrotate.MeasureOptions) { o.Window = time.Minute },
		"fast rate":    func(o *keyrotate.MeasureOptions) { o.Rate = 5 },
	} {
		if _, err := keyrotate.MeasureKeyActivity(context.Background(), clientFor, msKey, msOptions(clock, "us-east-1"), f); !errors.Is(err, keyrotate.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := keyrotate.MeasureKeyActivity(context.Background(), clientFor, "nope", msOptions(clock, "us-east-1")); !errors.Is(err, keyrotate.ErrInvalidInput) {
		t.Errorf("bad key: %v", err)
	}
	if len(trail.calls) != 0 {
		t.Errorf("refused input made %d calls", len(trail.calls))
	}
}

// No call found where the history could not be read decides nothing: the
// key's finding is ERROR, naming the regions, never PASS.
func TestReportUnreadHistoryIsError(t *testing.T) {
	a := &keyrotate.Activity{KeyID: "AKIAEXAMPLELEAKED123", RegionErrors: map[string]string{"us-east-1": "LookupEvents: 500", "ap-northeast-2": "denied"}}
	r := a.Report("123456789012")
	var key *awsguard.Finding
	for i, f := range r.Findings {
		if f.Resource == a.KeyID && f.Region == awsguard.RegionGlobal {
			key = &r.Findings[i]
		}
	}
	if key == nil || key.Status != awsguard.StatusError || key.Evidence["unread_regions"] != "ap-northeast-2,us-east-1" || len(r.Findings) != 3 {
		t.Errorf("findings: %+v", r.Findings)
	}
	a.RegionErrors = nil
	if f := a.Report("123456789012").Findings[0]; f.Status != awsguard.StatusPass {
		t.Errorf("all read, no call: %s", f.Status)
	}
}
