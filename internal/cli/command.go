package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// Defaults of the common flags.
const (
	DefaultTimeout        = 5 * time.Minute
	DefaultAttemptTimeout = 30 * time.Second
)

// FormatHTML and FormatASFF are the report formats beside table, json and
// csv.
const (
	FormatHTML = "html"
	FormatASFF = "asff"
)

// CredentialsRefused is what a program says when AWS refused the
// credentials (see awserr.IsBadCredentials).
const CredentialsRefused = "the credentials were refused: check AWS_PROFILE / -profile and the access key"

// Command is the command line of one example program. New registers the
// flags every program has:
//
//	-profile NAME        shared configuration profile (default: the chain's, AWS_PROFILE)
//	-region NAME         region (default: the chain's, AWS_REGION or the profile's)
//	-endpoint-url URL    send every service to this endpoint (default: the chain's, AWS_ENDPOINT_URL)
//	-timeout D           give up on the whole run after D (default 5m; SetTimeout changes it)
//	-attempt-timeout D   give up on one HTTP attempt after D (default 30s)
//	-print-policy        print the IAM policy the program needs (see Uses) and exit
//
// and, on request, -format (Format) and -dry-run (DryRun). The program adds
// its own flags to Flags, then calls Run, which parses the arguments,
// checks them (Check), prints the policy or runs the body under -timeout,
// and turns its errors into messages that name flags and steps. Main and
// Fail turn Run's error into one line on stderr and the exit code.
type Command struct {
	// Name is the program's name, as typed.
	Name string
	// Summary says what the program does: the usage's first paragraph.
	Summary string
	// Synopsis follows the name in the usage line; default "[flags]".
	Synopsis string
	// Flags holds the program's flags; add yours before Run.
	Flags *flag.FlagSet
	// Args is the number of positional arguments allowed; default 0.
	Args int
	// FlagOf maps an *awsguard.InputError's Field ("Options.MaxAge") to
	// the flag the user typed ("-max-age"): such an error becomes a usage
	// error naming the flag.
	FlagOf map[string]string
	// Check, if set, validates the parsed flags before anything runs; its
	// error is a usage error (exit 2, with usage) unless it is one already
	// or an *ExitError. It may call Uses, for a policy that depends on the
	// flags.
	Check func() error

	profile, region, endpoint string
	timeout, attempt          time.Duration
	printPolicy               bool
	format                    *string
	formats                   []string
	uses                      []reflect.Type
	actions                   []string
	stderr                    io.Writer
	cfgEndpoint               string
}

// New returns the command line of the program name, with the common flags
// registered.
func New(name, summary string) *Command {
	c := &Command{Name: name, Summary: summary, Flags: flag.NewFlagSet(name, flag.ContinueOnError), FlagOf: map[string]string{}}
	fs := c.Flags
	fs.StringVar(&c.profile, "profile", "", "AWS shared configuration `profile` (default: AWS_PROFILE, else the default profile)")
	fs.StringVar(&c.region, "region", "", "AWS `region` (default: AWS_REGION, else the profile's)")
	fs.StringVar(&c.endpoint, "endpoint-url", "", "send every AWS call to this `URL` (default: AWS_ENDPOINT_URL, else AWS's)")
	fs.DurationVar(&c.timeout, "timeout", DefaultTimeout, "give up on the whole run after this `duration`")
	fs.DurationVar(&c.attempt, "attempt-timeout", DefaultAttemptTimeout, "give up on one HTTP attempt after this `duration` (the SDK retries it)")
	fs.BoolVar(&c.printPolicy, "print-policy", false, "print the IAM policy this program needs for the flags given, and exit")
	return c
}

// NewLocal returns the command line of a program that calls no AWS API
// (sqli-probe): of the common flags it registers only -timeout, so that
// its usage offers no -profile, -region, -endpoint-url, -attempt-timeout or
// -print-policy that would mean nothing. Do not call Config or Uses on it.
func NewLocal(name, summary string) *Command {
	c := &Command{Name: name, Summary: summary, Flags: flag.NewFlagSet(name, flag.ContinueOnError), FlagOf: map[string]string{}, attempt: DefaultAttemptTimeout}
	c.Flags.DurationVar(&c.timeout, "timeout", DefaultTimeout, "give up on the whole run after this `duration`")
	return c
}

// SetTimeout changes the default of -timeout; call it before Run.
func (c *Command) SetTimeout(d time.Duration) {
	c.timeout = d
	c.Flags.Lookup("timeout").DefValue = d.String()
}

// Format registers -format with the allowed formats, the first the
// default. Use the Format constants: table for people, json for programs,
// csv, html and asff where a report is printed. "text" is taken as table.
func (c *Command) Format(allowed ...string) *string {
	c.formats = allowed
	c.format = c.Flags.String("format", allowed[0], "output `format`: "+strings.Join(allowed, ", "))
	return c.format
}

// DryRun registers -dry-run, for programs that change anything.
func (c *Command) DryRun() *bool {
	return c.Flags.Bool("dry-run", false, "print what would be done and change nothing")
}

// Uses declares the client interfaces (reflect.TypeFor[iamguard.AuditAPI]())
// the run calls: -print-policy prints the policy they need (see Policy).
func (c *Command) Uses(ifaces ...reflect.Type) { c.uses = append(c.uses, ifaces...) }

// UsesActions declares IAM actions the run needs that no client interface
// shows, such as kms:GenerateDataKey and kms:Decrypt, which Secrets
// Manager asks of the caller for a secret encrypted with a customer managed
// key: -print-policy adds them to those of Uses.
func (c *Command) UsesActions(actions ...string) { c.actions = append(c.actions, actions...) }

// Usage writes the usage text to w.
func (c *Command) Usage(w io.Writer) {
	syn := c.Synopsis
	if syn == "" {
		syn = "[flags]"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Usage: %s %s\n\n", c.Name, syn)
	if c.Summary != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(c.Summary))
	}
	b.WriteString("Flags:\n")
	out := c.Flags.Output()
	c.Flags.SetOutput(&b)
	c.Flags.PrintDefaults()
	c.Flags.SetOutput(out)
	_, _ = w.Write(b.Bytes())
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

// ValidRegion reports whether s has the shape of an AWS region name.
func ValidRegion(s string) bool { return regionRE.MatchString(s) }

// parse parses args and checks the common flags.
func (c *Command) parse(args []string) error {
	c.Flags.SetOutput(io.Discard)
	c.Flags.Usage = func() {}
	if err := c.Flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return &usageError{msg: err.Error()}
	}
	if c.Flags.NArg() > c.Args {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", c.Flags.Arg(c.Args))}
	}
	if c.format != nil {
		if *c.format == "text" && slices.Contains(c.formats, FormatTable) {
			*c.format = FormatTable
		}
		if !slices.Contains(c.formats, *c.format) {
			return &usageError{msg: fmt.Sprintf("-format %q: want one of %s", *c.format, strings.Join(c.formats, ", "))}
		}
	}
	if c.region != "" && !ValidRegion(c.region) {
		return &usageError{msg: fmt.Sprintf("-region %q: want a region name such as us-east-1", c.region)}
	}
	if c.endpoint != "" {
		u, err := url.Parse(c.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &usageError{msg: fmt.Sprintf("-endpoint-url %q: want an http or https URL such as https://iam.amazonaws.com", c.endpoint)}
		}
	}
	if c.timeout <= 0 {
		return &usageError{msg: fmt.Sprintf("-timeout %s: want a positive duration such as 5m", c.timeout)}
	}
	if c.attempt <= 0 {
		return &usageError{msg: fmt.Sprintf("-attempt-timeout %s: want a positive duration such as 30s", c.attempt)}
	}
	if c.Check != nil {
		if err := c.Check(); err != nil {
			var ee *ExitError
			if errors.Is(err, ErrUsage) || errors.As(err, &ee) {
				return err
			}
			return &usageError{msg: err.Error(), err: err}
		}
	}
	return nil
}

// Run parses args, prints usage to stderr for -h (returning flag.ErrHelp)
// and for a usage error (returning an error matching ErrUsage), prints the
// policy for -print-policy, and otherwise calls body with ctx bounded by
// -timeout. The body's error is explained (see Explain).
func (c *Command) Run(ctx context.Context, args []string, stdout, stderr io.Writer, body func(ctx context.Context) error) error {
	c.stderr = stderr
	if err := c.parse(args); err != nil {
		c.Usage(stderr)
		return err
	}
	if c.printPolicy {
		doc, err := Policy(c.uses...)
		if err != nil {
			return err
		}
		if len(c.actions) > 0 {
			st := &doc.Statement.List[0]
			acts := append(slices.Clone(st.Action.Values), c.actions...)
			slices.Sort(acts)
			st.Action = awsguard.StringList(slices.Compact(acts)...)
		}
		return WriteJSON(stdout, doc)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := c.Explain(ctx, body(ctx))
	if errors.Is(err, ErrUsage) {
		c.Usage(stderr)
	}
	return err
}

// Timeout returns the value of -timeout.
func (c *Command) Timeout() time.Duration { return c.timeout }

// Config loads the AWS configuration: the standard chain (environment,
// shared files, SSO, instance roles) with -profile, -region and
// -endpoint-url over it, and an HTTP client that gives up on an attempt
// after -attempt-timeout.
func (c *Command) Config(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(c.attempt)),
	}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return aws.Config{}, &usageError{msg: fmt.Sprintf("-profile %q (or AWS_PROFILE): no such profile in the AWS configuration files", pe.Profile), err: err}
		}
		return aws.Config{}, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if c.endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.endpoint)
	}
	if cfg.BaseEndpoint != nil {
		c.cfgEndpoint = *cfg.BaseEndpoint
	}
	if cfg.Region == "" {
		return aws.Config{}, &usageError{msg: "no AWS region: set -region, AWS_REGION or a profile's region"}
	}
	return cfg, nil
}

// Explain turns err into a message that names the flag or the step and
// says what to do; ctx is the run's (bounded by -timeout). It keeps err
// reachable through errors.Is and errors.As:
//
//   - an *awsguard.InputError whose Field FlagOf maps becomes a usage
//     error naming the flag;
//   - refused credentials (awserr.IsBadCredentials) say CredentialsRefused
//     and the call refused;
//   - a run past -timeout, or an attempt past -attempt-timeout, names the
//     endpoint that did not answer and the flag to raise; an endpoint that
//     cannot be connected to is named too;
//   - usage errors, *ExitError and flag.ErrHelp pass through.
func (c *Command) Explain(ctx context.Context, err error) error {
	var ee *ExitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.Is(err, ErrUsage), errors.As(err, &ee):
		return err
	}
	var ie *awsguard.InputError
	if errors.As(err, &ie) {
		if f, ok := c.FlagOf[ie.Field]; ok {
			return &usageError{msg: fmt.Sprintf("%s %q: want %s", f, ie.Value, ie.Allowed), err: err}
		}
	}
	op := operation(err)
	if awserr.IsBadCredentials(err) {
		return &explained{msg: prefix(op) + CredentialsRefused, err: err}
	}
	endpoint := c.endpointOf(err)
	if ctx.Err() == context.DeadlineExceeded && errors.Is(err, context.DeadlineExceeded) {
		return &explained{msg: fmt.Sprintf("%sgave up after -timeout %s: no answer from %s", prefix(op), c.timeout, endpoint), err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return &explained{msg: fmt.Sprintf("%sno answer from %s within -attempt-timeout %s (the whole run is bounded by -timeout %s)", prefix(op), endpoint, c.attempt, c.timeout), err: err}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &explained{msg: fmt.Sprintf("%scannot connect to %s: %v (check -endpoint-url, AWS_ENDPOINT_URL and -region)", prefix(op), endpoint, oe.Err), err: err}
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return &explained{msg: prefix(op) + "interrupted", err: err}
	}
	return err
}

// operation names the AWS call of err ("IAM GetCredentialReport"), or "".
func operation(err error) string {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return oe.Service() + " " + oe.Operation()
	}
	return ""
}

func prefix(op string) string {
	if op == "" {
		return ""
	}
	return op + ": "
}

// endpointOf names the endpoint err was about: the URL of the request,
// without path and query, else the configured endpoint, else "AWS".
func (c *Command) endpointOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	if c.cfgEndpoint != "" {
		return c.cfgEndpoint
	}
	return "AWS"
}

// usageError is a bad command line: exit 2, with usage.
type usageError struct {
	msg string
	err error
}

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Is(target error) bool {
	return target == ErrUsage
}
func (e *usageError) Unwrap() error { return e.err }

// explained is an error whose message was rewritten for a person; the cause
// stays reachable.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// ExitError ends a program with its own exit code (audit's 3 for failed
// findings). Msg, if not empty, is printed as the one line on stderr.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// hinted is an error with a hint after its message.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() + "; " + e.hint }
func (e *hinted) Unwrap() error { return e.err }

// Hint adds what to do next to err's message ("run it again: it carries
// out only what is left"). Mark only errors that a re-run can help; Hint
// of nil is nil.
func Hint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}

// RerunHint is the hint for a workflow that carries on where it stopped.
const RerunHint = "running it again carries out only what is left"
