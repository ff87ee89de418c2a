package iamguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// ActionPlan is what a mutating operation of this package does: the ordered
// steps read from live state. A dry run returns it without carrying it out;
// otherwise the same steps are carried out in order. A plan without steps
// means the state is already as wanted.
type ActionPlan struct {
	// Operation is the function that made the plan, such as "EnforceMFA".
	Operation string `json:"operation"`
	// Resource is what the operation is about, such as "group/dev".
	Resource string `json:"resource"`
	DryRun   bool   `json:"dry_run"`
	// Steps are the changes, in the order they are (or would be) made.
	Steps []PlanStep `json:"steps"`
	// Applied is true when at least one step was carried out.
	Applied bool `json:"applied"`
	// Reason says in a few words why Applied is what it is: "already
	// compliant", "dry run: nothing changed" or "applied 3 steps".
	Reason string `json:"reason"`
}

// NothingToDo reports whether the state already was as wanted.
func (p *ActionPlan) NothingToDo() bool { return len(p.Steps) == 0 }

// PlanStep is one change: an IAM API action on one resource.
type PlanStep struct {
	// Action is the IAM action the step calls, such as "iam:AttachGroupPolicy".
	Action string `json:"action"`
	// Resource is the IAM resource changed, such as "group/dev" or
	// "user/alice".
	Resource string `json:"resource"`
	// Detail names the other party of the change (a policy ARN, a group,
	// a device serial), or is empty.
	Detail string `json:"detail,omitempty"`
	// Done is set once the step was carried out.
	Done bool `json:"done"`

	do func(context.Context) error
}

// String renders the step in one line, such as
// "iam:AttachGroupPolicy group/dev arn:aws:iam::aws:policy/ReadOnlyAccess".
func (s PlanStep) String() string {
	if s.Detail == "" {
		return s.Action + " " + s.Resource
	}
	return s.Action + " " + s.Resource + " " + s.Detail
}

func (p *ActionPlan) add(action, resource, detail string, do func(context.Context) error) {
	p.Steps = append(p.Steps, PlanStep{Action: action, Resource: resource, Detail: detail, do: do})
}

// run carries out the plan unless it is a dry run or empty, and sets
// Applied and Reason. On failure it returns a *PlanStepError.
func (p *ActionPlan) run(ctx context.Context, log *slog.Logger) error {
	log = log.With("operation", p.Operation, "resource", p.Resource, "dry_run", p.DryRun)
	switch {
	case len(p.Steps) == 0:
		p.Reason = "already compliant"
		log.InfoContext(ctx, "nothing to do")
		return nil
	case p.DryRun:
		p.Reason = "dry run: nothing changed"
		for _, s := range p.Steps {
			log.InfoContext(ctx, "would do", "step", s.String())
		}
		return nil
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		err := ctx.Err()
		if err == nil {
			err = s.do(ctx)
		}
		if err != nil {
			done := make([]PlanStep, 0, i)
			for _, d := range p.Steps[:i] {
				d.do = nil
				done = append(done, d)
			}
			step := *s
			step.do = nil
			p.Reason = fmt.Sprintf("failed at step %d of %d", i+1, len(p.Steps))
			log.ErrorContext(ctx, "step failed", "step", s.String(), "error", err)
			return &PlanStepError{Operation: p.Operation, Step: step, Done: done, Err: err}
		}
		s.Done = true
		p.Applied = true
		log.InfoContext(ctx, "done", "step", s.String())
	}
	p.Reason = fmt.Sprintf("applied %d step(s)", len(p.Steps))
	return nil
}

func fixLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

var (
	fixUserNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	fixGroupNameRE  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	fixPolicyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	fixDeviceNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,226}$`)
	fixPathRE       = regexp.MustCompile(`^(/|/[\x21-\x7E]{1,510}/)$`)
	fixPolicyARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\x21-\x7E]+$`)
	fixSerialRE     = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	fixCodeRE       = regexp.MustCompile(`^[0-9]{6}$`)
)

func fixCheck(re *regexp.Regexp, field, value, want string) error {
	if !re.MatchString(value) {
		return &InvalidFieldError{Field: field, Value: value, Want: want}
	}
	return nil
}

func fixCheckUser(field, v string) error {
	return fixCheck(fixUserNameRE, field, v, `an IAM user name: 1 to 64 of letters, digits and +=,.@_-`)
}

func fixCheckGroup(field, v string) error {
	return fixCheck(fixGroupNameRE, field, v, `an IAM group name: 1 to 128 of letters, digits and +=,.@_-`)
}

func fixCheckPolicyName(field, v string) error {
	return fixCheck(fixPolicyNameRE, field, v, `an IAM policy name: 1 to 128 of letters, digits and +=,.@_-`)
}

func fixCheckPath(field, v string) error {
	return fixCheck(fixPathRE, field, v, `an IAM path: "/" or "/name/.../" of printable ASCII, at most 512 characters`)
}

func fixCheckPolicyARN(field, v string) error {
	if len(v) > 2048 {
		return &InvalidFieldError{Field: field, Value: v[:64] + "...", Want: "a managed policy ARN of at most 2048 characters"}
	}
	return fixCheck(fixPolicyARNRE, field, v, `a managed policy ARN, arn:aws:iam::(aws|ACCOUNT):policy/NAME`)
}

// fixCode reports the AWS error code of err, or "".
func fixCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func fixIsNoSuchEntity(err error) bool {
	var nse *types.NoSuchEntityException
	return errors.As(err, &nse) || fixCode(err) == "NoSuchEntity"
}

func fixIsAlreadyExists(err error) bool {
	var ee *types.EntityAlreadyExistsException
	return errors.As(err, &ee) || fixCode(err) == "EntityAlreadyExists"
}
