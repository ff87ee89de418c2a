package iamguard

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/internal/poll"
)

// RootUser is the user column of the root user's row in the credential
// report.
const RootUser = "<root_account>"

// CredentialReport is a parsed IAM credential report.
type CredentialReport struct {
	// GeneratedAt is when AWS generated the report. AWS serves the same
	// report for up to 4 hours, so it can be that stale.
	GeneratedAt time.Time
	// Root is the root user's row, nil if the report has none.
	Root *CredentialReportRow
	// Users are the IAM users' rows, in report order.
	Users []CredentialReportRow
}

// CredentialReportRow is one row of the credential report. Time fields are
// zero where the report has no date (N/A, no_information, not_supported);
// Raw keeps every value as read.
type CredentialReportRow struct {
	User                 string
	ARN                  string
	UserCreationTime     time.Time
	PasswordEnabled      bool
	PasswordLastUsed     time.Time
	PasswordLastChanged  time.Time
	PasswordNextRotation time.Time
	MFAActive            bool
	AccessKeys           [2]ReportAccessKey
	Certs                [2]ReportCert
	// Raw maps each column's header to its value in this row.
	Raw map[string]string
}

// ReportAccessKey is one access key slot of a credential report row.
type ReportAccessKey struct {
	Active      bool
	LastRotated time.Time
	// LastUsed is zero when the key was never used (or AWS has no
	// information).
	LastUsed        time.Time
	LastUsedRegion  string
	LastUsedService string
}

// ReportCert is one signing certificate slot of a credential report row.
type ReportCert struct {
	Active      bool
	LastRotated time.Time
}

// The credential report columns that ParseCredentialReport requires; the
// others are read when present. The last-used dates are required: without
// them every key would look never used, and keys in daily use would fail
// CheckAccessKeyUnused.
var requiredColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
}

// notADate lists the values the report writes where there is no date (or
// no boolean).
func notADate(v string) bool {
	switch v {
	case "", "N/A", "no_information", "not_supported":
		return true
	}
	return false
}

// ParseCredentialReport parses the CSV content of a credential report.
// Columns are found by their header name, so added or reordered columns do
// not matter; a missing required column, a row with the wrong number of
// fields or a value that is neither a date (RFC 3339) nor one of N/A,
// no_information and not_supported gives an error wrapping
// ErrMalformedCredentialReport. The <root_account> row goes to Root.
func ParseCredentialReport(content []byte, generatedAt time.Time) (*CredentialReport, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: empty", ErrMalformedCredentialReport)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformedCredentialReport, err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%w: column %q appears twice", ErrMalformedCredentialReport, clip(h))
		}
		col[h] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%w: column %q missing", ErrMalformedCredentialReport, c)
		}
	}
	rep := &CredentialReport{GeneratedAt: generatedAt}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedCredentialReport, err)
		}
		row, err := parseRow(header, col, rec)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrMalformedCredentialReport, line, err)
		}
		if row.User == RootUser {
			if rep.Root != nil {
				return nil, fmt.Errorf("%w: line %d: a second %s row", ErrMalformedCredentialReport, line, RootUser)
			}
			rep.Root = &row
			continue
		}
		rep.Users = append(rep.Users, row)
	}
	return rep, nil
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func parseRow(header []string, col map[string]int, rec []string) (CredentialReportRow, error) {
	row := CredentialReportRow{Raw: make(map[string]string, len(header))}
	for i, h := range header {
		row.Raw[h] = rec[i]
	}
	var errs []error
	str := func(name string) string { return row.Raw[name] }
	date := func(name string) time.Time {
		v := row.Raw[name]
		if notADate(v) {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %s: %q is not a date", name, clip(v)))
		}
		return t
	}
	boolean := func(name string) bool {
		switch v := row.Raw[name]; {
		case v == "true":
			return true
		case v == "false" || notADate(v):
			return false
		default:
			errs = append(errs, fmt.Errorf("column %s: %q is not a boolean", name, clip(v)))
			return false
		}
	}
	row.User = str("user")
	row.ARN = str("arn")
	if row.User == "" {
		errs = append(errs, errors.New("column user: empty"))
	}
	row.UserCreationTime = date("user_creation_time")
	row.PasswordEnabled = boolean("password_enabled")
	row.PasswordLastUsed = date("password_last_used")
	row.PasswordLastChanged = date("password_last_changed")
	row.PasswordNextRotation = date("password_next_rotation")
	row.MFAActive = boolean("mfa_active")
	for i := range row.AccessKeys {
		p := fmt.Sprintf("access_key_%d_", i+1)
		row.AccessKeys[i] = ReportAccessKey{
			Active:          boolean(p + "active"),
			LastRotated:     date(p + "last_rotated"),
			LastUsed:        date(p + "last_used_date"),
			LastUsedRegion:  str(p + "last_used_region"),
			LastUsedService: str(p + "last_used_service"),
		}
	}
	for i := range row.Certs {
		p := fmt.Sprintf("cert_%d_", i+1)
		row.Certs[i] = ReportCert{Active: boolean(p + "active"), LastRotated: date(p + "last_rotated")}
	}
	return row, errors.Join(errs...)
}

// FetchCredentialReport asks IAM for a credential report and returns it
// parsed. It calls GenerateCredentialReport until the state is COMPLETE
// (STARTED and INPROGRESS wait), then GetCredentialReport; ReportInProgress,
// ReportNotPresent and ReportExpired from GetCredentialReport mean
// generate-and-wait again. Waits back off (with jitter) from PollMinDelay
// to PollMaxDelay and are bounded by ctx and by ReportWait
// (ErrCredentialReportTimeout). A report younger than 4 hours is served as
// is: its GeneratedAt says how old it is. Options out of range give an
// *awsguard.InputError before any call.
//
// IAM permissions: iam:GenerateCredentialReport, iam:GetCredentialReport.
func FetchCredentialReport(ctx context.Context, api FetchCredentialReportAPI, optFns ...func(*CredentialReportOptions)) (*CredentialReport, error) {
	var o CredentialReportOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.validate("FetchCredentialReport", "CredentialReportOptions"); err != nil {
		return nil, err
	}
	return fetchCredentialReport(ctx, api, &o)
}

// fetchCredentialReport waits for the report with poll.Until, the
// project's one wait loop.
func fetchCredentialReport(ctx context.Context, api FetchCredentialReportAPI, o *CredentialReportOptions) (*CredentialReport, error) {
	log := o.Logger.With("operation", "iamguard.FetchCredentialReport")
	last := "none"
	var rep *CredentialReport
	popts := poll.Options{MaxWait: o.ReportWait, MinDelay: o.PollMinDelay, MaxDelay: o.PollMaxDelay,
		OnWait: func(_ int, d time.Duration) {
			log.DebugContext(ctx, "credential report not ready", "state", last, "wait", d)
		}}
	_, err := poll.Until(ctx, popts, func(ctx context.Context, _ int) (bool, error) {
		gen, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return false, fmt.Errorf("iamguard: generate credential report: %w", err)
		}
		last = string(gen.State)
		if gen.State != types.ReportStateTypeComplete {
			return false, nil
		}
		out, err := api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		if err == nil {
			if out.ReportFormat != "" && out.ReportFormat != types.ReportFormatTypeTextCsv {
				return false, fmt.Errorf("%w: format %q", ErrMalformedCredentialReport, out.ReportFormat)
			}
			rep, err = ParseCredentialReport(out.Content, aws.ToTime(out.GeneratedTime))
			return err == nil, err
		}
		var notReady *types.CredentialReportNotReadyException
		var notPresent *types.CredentialReportNotPresentException
		var expired *types.CredentialReportExpiredException
		switch {
		case errors.As(err, &notReady):
			last = "ReportInProgress"
		case errors.As(err, &notPresent):
			last = "ReportNotPresent"
		case errors.As(err, &expired):
			last = "ReportExpired"
		default:
			return false, fmt.Errorf("iamguard: get credential report: %w", err)
		}
		return false, nil
	})
	switch {
	case err == nil:
		return rep, nil
	case errors.Is(err, poll.ErrTimeout):
		return nil, fmt.Errorf("%w after %v (last state %s)", ErrCredentialReportTimeout, o.ReportWait, last)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("iamguard: credential report (last state %s): %w", last, ctx.Err())
	}
	return nil, err
}
