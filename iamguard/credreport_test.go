package iamguard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

func auditMustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseCredentialReport(t *testing.T) {
	content := auditReportCSV(
		auditReportRow{user: "<root_account>", created: "2015-01-01T00:00:00+00:00", mfa: "true", k1Active: "true", k1Rotated: "2016-01-01T00:00:00+00:00", k1Used: "no_information"},
		auditReportRow{user: "alice", created: "2026-01-01T00:00:00+00:00", password: "true", mfa: "false",
			k1Active: "true", k1Rotated: "2026-02-01T00:00:00+00:00", k1Used: "2026-11-01T12:00:00+00:00",
			k2Active: "false", k2Rotated: "2026-03-01T00:00:00+00:00"},
	)
	got, err := iamguard.ParseCredentialReport(content, auditReportTime)
	if err != nil {
		t.Fatal(err)
	}
	want := &iamguard.CredentialReport{
		GeneratedAt: auditReportTime,
		Root: &iamguard.CredentialReportRow{
			User: "<root_account>", ARN: "arn:aws:iam::" + auditAccount + ":root",
			UserCreationTime: auditMustTime("2015-01-01T00:00:00Z"), MFAActive: true,
			AccessKeys: [2]iamguard.ReportAccessKey{{Active: true, LastRotated: auditMustTime("2016-01-01T00:00:00Z"), LastUsedRegion: "N/A", LastUsedService: "N/A"}, {LastUsedRegion: "N/A", LastUsedService: "N/A"}},
		},
		Users: []iamguard.CredentialReportRow{{
			User: "alice", ARN: "arn:aws:iam::" + auditAccount + ":user/alice",
			UserCreationTime: auditMustTime("2026-01-01T00:00:00Z"), PasswordEnabled: true,
			AccessKeys: [2]iamguard.ReportAccessKey{
				{Active: true, LastRotated: auditMustTime("2026-02-01T00:00:00Z"), LastUsed: auditMustTime("2026-11-01T12:00:00Z"), LastUsedRegion: "N/A", LastUsedService: "N/A"},
				{LastRotated: auditMustTime("2026-03-01T00:00:00Z"), LastUsedRegion: "N/A", LastUsedService: "N/A"},
			},
		}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(iamguard.CredentialReportRow{}, "Raw")); diff != "" {
		t.Errorf("ParseCredentialReport (-want +got):\n%s", diff)
	}
	if got.Users[0].Raw["password_last_used"] != "no_information" {
		t.Errorf("Raw keeps values as read: got %q", got.Users[0].Raw["password_last_used"])
	}
}

// Columns are read by header name: reordered and extra columns do not matter.
func TestParseCredentialReportColumnsByName(t *testing.T) {
	content := "extra,access_key_2_last_used_date,mfa_active,access_key_2_last_rotated,access_key_2_active,access_key_1_last_used_date,access_key_1_last_rotated,access_key_1_active,password_enabled,user_creation_time,arn,user\n" +
		"x,N/A,true,N/A,false,no_information,2026-01-01T00:00:00+00:00,true,true,2025-01-01T00:00:00+00:00,arn:aws:iam::1:user/bob,bob\n"
	got, err := iamguard.ParseCredentialReport([]byte(content), auditReportTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 1 {
		t.Fatalf("users = %d", len(got.Users))
	}
	u := got.Users[0]
	if u.User != "bob" || !u.MFAActive || !u.PasswordEnabled || !u.AccessKeys[0].Active || !u.AccessKeys[0].LastRotated.Equal(auditMustTime("2026-01-01T00:00:00Z")) || !u.AccessKeys[0].LastUsed.IsZero() {
		t.Errorf("row = %+v", u)
	}
}

func TestParseCredentialReportErrors(t *testing.T) {
	good := auditReportCSV(auditReportRow{user: "a"})
	tests := []struct {
		name, content, wantIn string
	}{
		{"empty", "", "empty"},
		{"missing column", strings.Replace(string(good), "mfa_active", "mfa", 1), `"mfa_active" missing`},
		// Without the last-used dates every key would look never used.
		{"missing key 1 last used", strings.Replace(string(good), "access_key_1_last_used_date", "access_key_1_last_used", 1), `"access_key_1_last_used_date" missing`},
		{"missing key 2 last used", strings.Replace(string(good), "access_key_2_last_used_date", "access_key_2_last_used", 1), `"access_key_2_last_used_date" missing`},
		{"bad date", strings.Replace(string(good), "2020-01-01T00:00:00+00:00", "yesterday", 1), "user_creation_time"},
		{"bad bool", auditReportHeader + "\n" + auditReportRow{user: "a", mfa: "maybe"}.csv(), "mfa_active"},
		{"short row", auditReportHeader + "\na,b\n", "wrong number of fields"},
		{"two roots", string(auditReportCSV(auditReportRow{user: "<root_account>"}, auditReportRow{user: "<root_account>"})), "second"},
		{"duplicate column", "user,user\n", "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iamguard.ParseCredentialReport([]byte(tt.content), auditReportTime)
			if !errors.Is(err, iamguard.ErrMalformedCredentialReport) {
				t.Fatalf("err = %v, want ErrMalformedCredentialReport", err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantIn)
			}
		})
	}
}

func FuzzParseCredentialReport(f *testing.F) {
	f.Add(auditReportCSV())
	f.Add(auditReportCSV(auditReportRow{user: "<root_account>", mfa: "true"}, auditReportRow{user: "a", password: "true", k1Active: "true", k1Rotated: "2026-01-01T00:00:00+00:00"}))
	f.Add([]byte("user,arn\n\"a\nb\",c\n"))
	f.Add([]byte(""))
	f.Add([]byte(auditReportHeader + "\n" + strings.Repeat(",", 21) + "\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		rep, err := iamguard.ParseCredentialReport(content, auditReportTime)
		if err != nil {
			if !errors.Is(err, iamguard.ErrMalformedCredentialReport) {
				t.Fatalf("error does not wrap ErrMalformedCredentialReport: %v", err)
			}
			return
		}
		for _, r := range rep.Users {
			if r.User == iamguard.RootUser || r.User == "" {
				t.Fatalf("bad user row %q", r.User)
			}
			if len(r.Raw) == 0 {
				t.Fatal("row without raw values")
			}
		}
		if rep.Root != nil && rep.Root.User != iamguard.RootUser {
			t.Fatalf("root row %q", rep.Root.User)
		}
	})
}

func auditFastPoll(o *iamguard.CredentialReportOptions) {
	o.PollMinDelay, o.PollMaxDelay = time.Microsecond, 4*time.Microsecond
}

func auditAPIErr(code string) error {
	switch code {
	case "ReportInProgress":
		return &types.CredentialReportNotReadyException{Message: aws.String("not ready")}
	case "ReportNotPresent":
		return &types.CredentialReportNotPresentException{Message: aws.String("not present")}
	case "ReportExpired":
		return &types.CredentialReportExpiredException{Message: aws.String("expired")}
	}
	return &smithy.GenericAPIError{Code: code, Message: "denied"}
}

// The report is polled through its states and the errors GetCredentialReport
// gives meanwhile.
func TestFetchCredentialReportStates(t *testing.T) {
	content := auditReportCSV(auditReportRow{user: "a"})
	tests := []struct {
		name      string
		states    []types.ReportStateType
		getErrs   []string // errors of the successive Get calls before success
		wantCalls []string
	}{
		{"complete at once", []types.ReportStateType{"COMPLETE"}, nil,
			[]string{"GenerateCredentialReport", "GetCredentialReport"}},
		{"started, in progress, complete", []types.ReportStateType{"STARTED", "INPROGRESS", "COMPLETE"}, nil,
			[]string{"GenerateCredentialReport", "GenerateCredentialReport", "GenerateCredentialReport", "GetCredentialReport"}},
		{"get not ready, then expired, then not present", []types.ReportStateType{"COMPLETE"}, []string{"ReportInProgress", "ReportExpired", "ReportNotPresent"},
			[]string{"GenerateCredentialReport", "GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &auditFake{}
			gens, gets := 0, 0
			f.generate = func() (*iam.GenerateCredentialReportOutput, error) {
				s := tt.states[min(gens, len(tt.states)-1)]
				gens++
				return &iam.GenerateCredentialReportOutput{State: s}, nil
			}
			f.get = func() (*iam.GetCredentialReportOutput, error) {
				gets++
				if gets <= len(tt.getErrs) {
					return nil, auditAPIErr(tt.getErrs[gets-1])
				}
				return &iam.GetCredentialReportOutput{Content: content, GeneratedTime: aws.Time(auditReportTime)}, nil
			}
			rep, err := iamguard.FetchCredentialReport(context.Background(), f, auditFastPoll)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Users) != 1 || !rep.GeneratedAt.Equal(auditReportTime) {
				t.Errorf("report = %+v", rep)
			}
			if diff := cmp.Diff(tt.wantCalls, f.Calls()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetchCredentialReportBounded(t *testing.T) {
	inProgress := func(f *auditFake) {
		f.generate = func() (*iam.GenerateCredentialReportOutput, error) {
			return &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeInprogress}, nil
		}
	}
	t.Run("report wait", func(t *testing.T) {
		f := &auditFake{}
		inProgress(f)
		// 500 ms: long enough under load for the first answer (INPROGRESS)
		// to arrive before the wait ends.
		_, err := iamguard.FetchCredentialReport(context.Background(), f, auditFastPoll, func(o *iamguard.CredentialReportOptions) { o.ReportWait = 500 * time.Millisecond })
		if !errors.Is(err, iamguard.ErrCredentialReportTimeout) || !strings.Contains(err.Error(), "INPROGRESS") {
			t.Fatalf("err = %v, want ErrCredentialReportTimeout naming the last state", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		f := &auditFake{}
		inProgress(f)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := iamguard.FetchCredentialReport(ctx, f, auditFastPoll)
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, iamguard.ErrCredentialReportTimeout) {
			t.Fatalf("err = %v, want the context's error", err)
		}
	})
	t.Run("other error", func(t *testing.T) {
		f := &auditFake{}
		auditCompleteReport(f, nil)
		f.get = func() (*iam.GetCredentialReportOutput, error) { return nil, auditAPIErr("AccessDenied") }
		_, err := iamguard.FetchCredentialReport(context.Background(), f, auditFastPoll)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Fatalf("err = %v, want the AccessDenied API error wrapped", err)
		}
		if len(f.Calls()) != 2 {
			t.Errorf("calls = %v, want no retry of a non-retryable error", f.Calls())
		}
	})
	t.Run("invalid options", func(t *testing.T) {
		f := &auditFake{}
		_, err := iamguard.FetchCredentialReport(context.Background(), f, func(o *iamguard.CredentialReportOptions) { o.PollMinDelay = -1 })
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != "CredentialReportOptions.PollMinDelay" || !errors.Is(err, awsguard.ErrInvalidInput) || len(f.Calls()) != 0 {
			t.Fatalf("err = %v, calls = %v", err, f.Calls())
		}
	})
}
