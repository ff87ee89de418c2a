package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"
)

// demoLeakUser is the user whose key "leaks" in the leaked-key scene.
const demoLeakUser = "build-bot"

// replayLabel says where the scene's activity comes from.
const replayLabel = "replayed from the demo's own log of the calls it made with the key: the emulator has no CloudTrail event history"

// leakReplay is the demo's own log of the calls made with the leaked key,
// served as CloudTrail LookupEvents pages: the emulator does not implement
// LookupEvents, so the measurement reads what the demo itself did.
type leakReplay struct {
	mu     sync.Mutex
	keyID  string
	events []cttypes.Event
}

// leak is the scene's state for one demo run (the fix records, the audit
// reads).
var leak = &leakReplay{}

func (r *leakReplay) record(name, source, resType, resName string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, _ := json.Marshal(map[string]string{"sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15 (the demo's attacker)", "awsRegion": "us-east-1"})
	e := cttypes.Event{EventId: aws.String(fmt.Sprintf("demo-%02d", len(r.events)+1)), EventName: aws.String(name), EventSource: aws.String(source),
		EventTime: aws.Time(time.Now()), CloudTrailEvent: aws.String(string(rec))}
	if resName != "" {
		e.Resources = []cttypes.Resource{{ResourceType: aws.String(resType), ResourceName: aws.String(resName)}}
	}
	r.events = append(r.events, e)
}

// LookupEvents serves the log, newest first as CloudTrail does.
func (r *leakReplay) LookupEvents(_ context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := &cloudtrail.LookupEventsOutput{}
	for i := len(r.events) - 1; i >= 0; i-- {
		out.Events = append(out.Events, r.events[i])
	}
	return out, nil
}

// leakScenario: the seed leaks a key of build-bot and uses it (the demo
// plays the attacker: it looks around and mints itself a second key); the
// audit measures what the key did (iam.key.leaked_activity) and whether
// it is contained; the fix contains it with keyrotate.ContainLeakedKey
// (a dry run only plans it); the teardown deletes the user and both keys.
// Local only.
var leakScenario = scenario{
	name:      "leaked key",
	localOnly: true,
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		if leak.keyID == "" {
			return awsguard.NewReport(e.now()), nil // nothing has leaked yet
		}
		act, err := keyrotate.MeasureKeyActivity(ctx, func(string) keyrotate.LookupEventsAPI { return leak }, leak.keyID, func(o *keyrotate.MeasureOptions) {
			o.Regions, o.Window = []string{"us-east-1"}, 24*time.Hour
		})
		if err != nil {
			return nil, err
		}
		c, err := keyrotate.ContainLeakedKey(ctx, iam.NewFromConfig(e.cfg), leak.keyID, func(o *keyrotate.ContainOptions) { o.DryRun, o.RevokeSessions = true, true })
		if err != nil {
			return nil, err
		}
		r := act.Report(e.account)
		for i := range r.Findings {
			r.Findings[i].Evidence["history"] = replayLabel
			r.Findings[i].Evidence["containment"] = c.State.String() + ", key " + c.KeyStatus
		}
		return r, nil
	},
	seed: func(ctx context.Context, e *demoEnv) error {
		leak = &leakReplay{}
		_, err := leakAndUse(ctx, e)
		return err
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		id := leak.keyID
		c, err := keyrotate.ContainLeakedKey(ctx, iam.NewFromConfig(e.cfg), id, func(o *keyrotate.ContainOptions) { o.RevokeSessions, o.DryRun = true, dryRun })
		if err != nil {
			return nil, err
		}
		lines := []string{fmt.Sprintf("leaked key: %s of %s was pushed to a public repository and used from 203.0.113.7", id, demoLeakUser)}
		lines = append(lines, describe("leaked key "+id, &c.Plan)...)
		for _, k := range c.OtherKeys {
			lines = append(lines, fmt.Sprintf("leaked key: %s, which the leaked key created, is left Active but quarantined with its user: delete it once reviewed", k))
		}
		return append(lines, "leaked key: its activity is "+replayLabel), nil
	},
	teardown: func(ctx context.Context, e *demoEnv) ([]string, error) {
		if leak.keyID == "" {
			return nil, nil
		}
		return removeLeakUser(ctx, iam.NewFromConfig(e.cfg))
	},
}

// leakAndUse creates build-bot with a console password and a key, then plays the attacker with
// the key, logging each call for the replay. It returns the key's ID.
func leakAndUse(ctx context.Context, e *demoEnv) (string, error) {
	api := iam.NewFromConfig(e.cfg)
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(demoLeakUser)}); err != nil {
		return "", err
	}
	// Someone once signed in as the bot: it has a console password too.
	if _, err := api.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(demoLeakUser), Password: aws.String("Build-Bot-2024!")}); err != nil {
		return "", err
	}
	k, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(demoLeakUser)})
	if err != nil {
		return "", err
	}
	id := aws.ToString(k.AccessKey.AccessKeyId)
	leak.keyID = id
	cfg := e.cfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, aws.ToString(k.AccessKey.SecretAccessKey), "")
	attacker := iam.NewFromConfig(cfg)
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return "", err
	}
	leak.record("GetCallerIdentity", "sts.amazonaws.com", "", "")
	if _, err := attacker.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		return "", err
	}
	leak.record("ListUsers", "iam.amazonaws.com", "", "")
	nk, err := attacker.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(demoLeakUser)})
	if err != nil {
		return "", err
	}
	leak.record("CreateAccessKey", "iam.amazonaws.com", "AWS::IAM::AccessKey", aws.ToString(nk.AccessKey.AccessKeyId))
	return id, nil
}

// removeLeakUser deletes build-bot: its keys (after releasing the
// containment by user name once the leaked key is gone), then the user.
func removeLeakUser(ctx context.Context, api *iam.Client) ([]string, error) {
	user := aws.String(demoLeakUser)
	var lines []string
	del, err := keyrotate.DeleteLeakedKey(ctx, api, demoLeakUser, leak.keyID)
	switch {
	case errors.Is(err, keyrotate.ErrNotContained):
		// A dry run only planned the containment: the keys go below.
	case err != nil:
		return nil, err
	default:
		rel, err := keyrotate.ReleaseContainment(ctx, api, leak.keyID, func(o *keyrotate.ReleaseOptions) { o.User = demoLeakUser })
		if err != nil {
			return nil, err
		}
		lines = append(describe("leaked key", &del.Plan), describe("containment of "+demoLeakUser, &rel.Plan)...)
	}
	keys, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		return nil, err
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: k.AccessKeyId}); err != nil {
			return nil, err
		}
		lines = append(lines, "delete key "+aws.ToString(k.AccessKeyId)+" of "+demoLeakUser)
	}
	if _, err := api.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user}); err != nil {
		return nil, err
	}
	lines = append(lines, "delete the console password of "+demoLeakUser)
	if _, err := api.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); err != nil {
		return nil, err
	}
	leak = &leakReplay{}
	return append(lines, "delete user "+demoLeakUser), nil
}
