package observe

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/awsguard/awsguard"
)

// The tags observe puts on everything it creates. Teardown removes only
// resources that carry both.
const (
	// TagManaged is set to "true" on every resource awsguard creates.
	TagManaged = "awsguard:managed"
	// TagPackage is set to "observe", so that Teardown leaves alone what
	// other awsguard packages manage.
	TagPackage = "awsguard:package"
	// PackageName is the value of TagPackage.
	PackageName = "observe"
	// tagSubPrefix starts the topic tag that records a subscription
	// observe made: awsguard:sub:HASH = protocol, where HASH is the first
	// 16 hex digits of SHA-256 of "protocol\x00endpoint" (SNS subscriptions
	// cannot be tagged themselves).
	tagSubPrefix = "awsguard:sub:"
)

// managedTags are the tags of a created resource, as a map.
func managedTags() map[string]string {
	return map[string]string{TagManaged: "true", TagPackage: PackageName}
}

// isManaged reports whether tags mark a resource observe created.
func isManaged(tags map[string]string) bool {
	return tags[TagManaged] == "true" && tags[TagPackage] == PackageName
}

// subscriptionTag is the topic tag key recording a subscription.
func subscriptionTag(protocol, endpoint string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(protocol) + "\x00" + normalEndpoint(protocol, endpoint)))
	return tagSubPrefix + hex.EncodeToString(sum[:8])
}

// normalEndpoint lower-cases e-mail addresses (SNS treats them without
// regard to case).
func normalEndpoint(protocol, endpoint string) string {
	if strings.HasPrefix(strings.ToLower(protocol), "email") {
		return strings.ToLower(endpoint)
	}
	return endpoint
}

// Options tune the Ensure operations. The zero value applies the plan and
// logs nothing.
type Options struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per action; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event as each action starts.
	Progress func(awsguard.Progress)
	// AllowWeaken lets a plan holding a weakening action be applied, such
	// as a log retention shorter than the group has (older events are then
	// deleted). Without it such a plan is refused with an
	// *awsguard.WeakeningError before any change.
	AllowWeaken bool
	// MaxWait bounds a wait for eventual consistency (a new instance
	// profile reaching EC2); default 1 minute.
	MaxWait time.Duration
	// MinDelay is the first pause of such a wait, doubling up to 8 s;
	// default 1 s.
	MinDelay time.Duration
}

func (o Options) minDelay() time.Duration {
	if o.MinDelay > 0 {
		return o.MinDelay
	}
	return time.Second
}

func options(optFns []func(*Options)) Options {
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) apply(op string) awsguard.ApplyOptions {
	return awsguard.ApplyOptions{
		Logger:      o.Logger,
		Progress:    o.Progress,
		AllowWeaken: o.AllowWeaken,
		ToDo:        "run " + op + " again: it reads what is there and carries out only what is left",
	}
}
