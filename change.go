package awsguard

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
)

// Plan is what a mutating operation does: the ordered actions read from
// live state, what each calls, on which resource and why. A dry run
// returns it without carrying it out; an apply carries it out in order
// ([Plan.Apply]) and records each action's [Outcome]. Packages return it
// directly or embed it in a result of their own (keyrotate.Rotation,
// iamguard.PasswordPolicyChange), so a caller reads every package's plans
// the same way.
//
// "Nothing to do" is a plan without actions whose Reason is one of the
// Reason constants (ReasonAlreadyCompliant, ReasonNotDue,
// ReasonNothingToRemove).
type Plan struct {
	// Operation is the function that made the plan, such as
	// "iamguard.EnforceMFA".
	Operation string `json:"operation"`
	// Resource is what the operation is about, such as "group/dev".
	Resource string `json:"resource"`
	DryRun   bool   `json:"dry_run"`
	// Actions are the changes, in the order they are (or would be) made.
	Actions []Action `json:"actions"`
	// Applied is true when at least one action was carried out.
	Applied bool `json:"applied"`
	// Reason says in a few words why Applied is what it is.
	Reason Reason `json:"reason"`
	// Warnings lists what went wrong without stopping the operation.
	Warnings []string `json:"warnings,omitempty"`
}

// Action is one change of a [Plan].
type Action struct {
	// Kind names the action within its package, such as "create-key" or
	// "attach-group-policy"; each package lists its kinds.
	Kind string `json:"kind"`
	// Call is the API action it makes, such as "iam:AttachGroupPolicy"
	// (several separated by commas when one action makes more than one
	// call), or "" when it calls nothing (a caller's delivery function).
	Call string `json:"call,omitempty"`
	// Resource is the resource changed, such as "group/dev" or an access
	// key ID; empty while it does not exist yet.
	Resource string `json:"resource"`
	// Detail says in words what the action does, such as "attach
	// ReadOnlyAccess to group dev".
	Detail string `json:"detail,omitempty"`
	// Why says why the plan holds it, such as "the group lacks the policy".
	Why string `json:"why,omitempty"`
	// Weakening is true when the action makes a security setting less
	// strict. Apply refuses a plan holding one unless allowed explicitly.
	Weakening bool `json:"weakening,omitempty"`
	// Outcome is what became of the action.
	Outcome Outcome `json:"outcome"`
}

// String renders the action in one line: its Detail, or "Call Resource".
func (a Action) String() string {
	if a.Detail != "" {
		return a.Detail
	}
	s := a.Kind
	if a.Call != "" {
		s = a.Call
	}
	if a.Resource != "" {
		s += " " + a.Resource
	}
	return s
}

// Outcome is what became of an [Action].
type Outcome string

// The outcomes of an action.
const (
	// OutcomePlanned: not carried out (a dry run, or an apply that stopped
	// before it).
	OutcomePlanned Outcome = "planned"
	// OutcomeDone: carried out.
	OutcomeDone Outcome = "done"
	// OutcomeSkipped: reached, but found unnecessary or unsafe at the time
	// and left alone; the plan's Warnings say why.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeFailed: attempted and failed; the error is a *StepError.
	OutcomeFailed Outcome = "failed"
	// OutcomeRolledBack: carried out, then undone after a later failure.
	OutcomeRolledBack Outcome = "rolled-back"
)

// Reason says in a few words why a plan was or was not applied.
type Reason string

// The reasons a plan gives. The first three mean "nothing to do".
const (
	// ReasonAlreadyCompliant: the live state already is as wanted.
	ReasonAlreadyCompliant Reason = "already compliant"
	// ReasonNotDue: the operation is not due yet (a key younger than the
	// rotation age, a grace period not over).
	ReasonNotDue Reason = "not due"
	// ReasonNothingToRemove: a removal found nothing of its own to remove.
	ReasonNothingToRemove Reason = "nothing to remove"
	// ReasonDryRun: the plan was made and nothing was changed.
	ReasonDryRun Reason = "dry run"
	// ReasonApplied: the plan was carried out.
	ReasonApplied Reason = "applied"
	// ReasonFailed: an action failed; the error is a *StepError.
	ReasonFailed Reason = "failed"
	// ReasonRefused: the plan was refused before any action, because it
	// would weaken a security setting (*WeakeningError) or the live state
	// is one the operation will not act on.
	ReasonRefused Reason = "refused"
)

// NothingToDo reports whether the plan has no action.
func (p *Plan) NothingToDo() bool { return len(p.Actions) == 0 }

// Add appends a planned action.
func (p *Plan) Add(a Action) {
	if a.Outcome == "" {
		a.Outcome = OutcomePlanned
	}
	p.Actions = append(p.Actions, a)
}

// Weakening returns the actions marked Weakening.
func (p *Plan) Weakening() []Action {
	var out []Action
	for _, a := range p.Actions {
		if a.Weakening {
			out = append(out, a)
		}
	}
	return out
}

// Describe returns one line in words per action carried out (or, when none
// was, per action planned): what a person reads to know what happened.
func (p *Plan) Describe() []string {
	var done, all []string
	for _, a := range p.Actions {
		all = append(all, a.String())
		if a.Outcome == OutcomeDone {
			done = append(done, a.String())
		}
	}
	if len(done) > 0 {
		return done
	}
	return all
}

// Progress is one event of a long workflow: which step it is at, on which
// resource, and how many of its steps are done. Operations send it to the
// optional Progress callback of their Options.
type Progress struct {
	Operation string `json:"operation"`
	Step      string `json:"step"`
	Resource  string `json:"resource,omitempty"`
	Done      int    `json:"done"`
	Total     int    `json:"total"`
}

// String renders the event as "operation: step resource (done/total)".
func (e Progress) String() string {
	var b strings.Builder
	b.WriteString(e.Operation + ": " + e.Step)
	if e.Resource != "" {
		b.WriteString(" " + e.Resource)
	}
	b.WriteString(" (" + strconv.Itoa(e.Done) + "/" + strconv.Itoa(e.Total) + ")")
	return b.String()
}

// ApplyOptions tune [Plan.Apply].
type ApplyOptions struct {
	// AllowWeaken lets a plan holding Weakening actions be applied.
	AllowWeaken bool
	// Logger receives one record per action, with the keys operation,
	// resource, dry_run and step; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event as each action starts and one
	// when the last is done.
	Progress func(Progress)
	// Rollback, if set, is called once when an action fails, with the
	// failed action and its error. It undoes what it can (marking the
	// actions it undid OutcomeRolledBack through the plan it closes over)
	// and returns what it undid and what the caller must still do by hand.
	Rollback func(ctx context.Context, failed Action, err error) (rolledBack []string, toDo string)
	// ToDo is the StepError's ToDo when there is no Rollback, such as "run
	// the operation again: it carries out only what is left".
	ToDo string
}

// Apply carries out the plan: the one execution loop every package uses.
//
// A plan holding Weakening actions is refused first, with a
// *WeakeningError and Reason ReasonRefused, unless AllowWeaken; this holds
// for a dry run too, so that a dry run never promises what an apply will
// refuse. An empty plan keeps the Reason its maker set (or gets
// ReasonAlreadyCompliant) and calls nothing; a dry run gets ReasonDryRun
// and calls nothing. Otherwise each action is passed to do in order; the
// context is checked before each. An action do leaves OutcomePlanned
// becomes OutcomeDone (do may set OutcomeSkipped itself). The first
// failure marks the action OutcomeFailed, runs Rollback, sets
// ReasonFailed and returns a *StepError naming the step, what was done and
// kept, what was rolled back and what is left to do.
func (p *Plan) Apply(ctx context.Context, do func(context.Context, *Action) error, o ApplyOptions) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("operation", p.Operation, "resource", p.Resource, "dry_run", p.DryRun)
	for i := range p.Actions {
		if p.Actions[i].Outcome == "" {
			p.Actions[i].Outcome = OutcomePlanned
		}
	}
	if w := p.Weakening(); len(w) > 0 && !o.AllowWeaken {
		p.Reason = ReasonRefused
		log.WarnContext(ctx, "refused: weakening", "actions", len(w))
		return &WeakeningError{Operation: p.Operation, Actions: w}
	}
	switch {
	case len(p.Actions) == 0:
		if p.Reason == "" {
			p.Reason = ReasonAlreadyCompliant
		}
		log.InfoContext(ctx, "nothing to do", "reason", string(p.Reason))
		return nil
	case p.DryRun:
		p.Reason = ReasonDryRun
		for _, a := range p.Actions {
			log.InfoContext(ctx, "would do", "step", a.Kind, "action", a.String())
		}
		return nil
	}
	total := len(p.Actions)
	for i := range p.Actions {
		a := &p.Actions[i]
		if o.Progress != nil {
			o.Progress(Progress{Operation: p.Operation, Step: a.Kind, Resource: a.Resource, Done: i, Total: total})
		}
		err := ctx.Err()
		if err == nil {
			err = do(ctx, a)
		}
		if err != nil {
			a.Outcome = OutcomeFailed
			p.Reason = ReasonFailed
			log.ErrorContext(ctx, "step failed", "step", a.Kind, "action", a.String(), "error", err)
			se := &StepError{Operation: p.Operation, Step: a.Kind, Resource: a.Resource, Err: err, ToDo: o.ToDo}
			if o.Rollback != nil {
				se.RolledBack, se.ToDo = o.Rollback(ctx, *a, err)
			}
			for _, d := range p.Actions[:i] {
				if d.Outcome == OutcomeDone {
					se.Done = append(se.Done, d.String())
				}
			}
			return se
		}
		if a.Outcome == OutcomePlanned {
			a.Outcome = OutcomeDone
		}
		if a.Outcome == OutcomeDone {
			p.Applied = true
		}
		log.InfoContext(ctx, string(a.Outcome), "step", a.Kind, "action", a.String())
	}
	if o.Progress != nil {
		last := p.Actions[total-1]
		o.Progress(Progress{Operation: p.Operation, Step: last.Kind, Resource: last.Resource, Done: total, Total: total})
	}
	p.Reason = ReasonApplied
	return nil
}
