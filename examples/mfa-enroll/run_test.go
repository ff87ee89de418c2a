package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp/totp"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// setup points the standard AWS configuration chain at the emulator.
func setup(t *testing.T) *iam.Client {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	api := iam.NewFromConfig(env.Config())
	if _, err := api.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	return api
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

var seedLike = regexp.MustCompile(`[A-Z2-7]{32,}`)

func devices(t *testing.T, api *iam.Client) int {
	t.Helper()
	out, err := api.ListVirtualMFADevices(context.Background(), &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAny})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.VirtualMFADevices)
}

func TestEnrolTwoInvocations(t *testing.T) {
	api := setup(t)
	qr := filepath.Join(t.TempDir(), "alice.png")

	// Dry run: a plan, no device, no file.
	out, _, err := runCmd(t, "-user", "alice", "-dry-run", "-format", "json", "-qr", qr)
	if err != nil {
		t.Fatal(err)
	}
	var dry result
	if err := json.Unmarshal([]byte(out), &dry); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !dry.DryRun || len(dry.Steps) != 1 || dry.Applied || devices(t, api) != 0 {
		t.Fatalf("dry run = %+v, devices %d", dry, devices(t, api))
	}
	if _, err := os.Stat(qr); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote the QR file: %v", err)
	}

	// First invocation: the QR code goes to the file, the seed nowhere.
	out, errOut, err := runCmd(t, "-user", "alice", "-qr", qr, "-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if seedLike.MatchString(out+errOut) || strings.Contains(out, `"seed"`) {
		t.Errorf("output shows a seed:\n%s\n%s", out, errOut)
	}
	var created result
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	if created.Serial != "arn:aws:iam::123456789012:mfa/alice" || created.QRFile != qr || created.Active || !created.Applied {
		t.Errorf("created = %+v", created)
	}
	fi, err := os.Stat(qr)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("QR file mode %v, want 0600", fi.Mode().Perm())
	}
	pngBytes, _ := os.ReadFile(qr)
	if _, err := png.Decode(bytes.NewReader(pngBytes)); err != nil {
		t.Errorf("QR file is not a PNG: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(qr), ".mfa-enroll-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Enrolling by hand: -show-seed replaces the pending device (whose
	// seed is in the file only) and prints the new seed, with a warning.
	out, errOut, err = runCmd(t, "-user", "alice", "-show-seed")
	if err != nil {
		t.Fatal(err)
	}
	seed := seedLike.FindString(out)
	if seed == "" || !strings.Contains(errOut, "warning") || devices(t, api) != 1 {
		t.Fatalf("seed %q, stderr %q, devices %d", seed, errOut, devices(t, api))
	}
	if !strings.Contains(out, "next:") || !strings.Contains(out, "-code1") {
		t.Errorf("text output lacks the next step:\n%s", out)
	}

	// Second invocation: activate with two consecutive codes.
	now := time.Now()
	c1, _ := totp.GenerateCode(seed, now)
	c2, _ := totp.GenerateCode(seed, now.Add(30*time.Second))
	out, _, err = runCmd(t, "-user", "alice", "-code1", c1, "-code2", c2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "iam:EnableMFADevice") || !strings.Contains(out, "active:  yes") {
		t.Errorf("activation output:\n%s", out)
	}
	mfa, err := api.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{UserName: aws.String("alice")})
	if err != nil || len(mfa.MFADevices) != 1 {
		t.Fatalf("MFA devices %v, %v", mfa, err)
	}

	// Both invocations again: nothing to do, and the QR file is left alone.
	out, _, err = runCmd(t, "-user", "alice", "-code1", c1, "-code2", c2)
	if err != nil || !strings.Contains(out, "already compliant") {
		t.Errorf("re-activation: %v\n%s", err, out)
	}
	out, _, err = runCmd(t, "-user", "alice", "-qr", qr)
	if err != nil || !strings.Contains(out, "already active") {
		t.Errorf("re-creation: %v\n%s", err, out)
	}
	if again, _ := os.ReadFile(qr); !bytes.Equal(again, pngBytes) {
		t.Error("a re-run changed the QR file")
	}
}

func TestRefusals(t *testing.T) {
	api := setup(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "-user is required"},
		{[]string{"-user", "alice"}, "-qr FILE or -show-seed"},
		{[]string{"-user", "alice", "-code1", "123456"}, "-code1 and -code2 go together"},
		{[]string{"-user", "alice", "-format", "xml", "-show-seed"}, "-format"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "654321", "-show-seed"}, "first invocation"},
		{[]string{"-user", "alice", "-nope"}, "flag provided but not defined"},
		{[]string{"-user", "al/ice", "-show-seed"}, "invalid user"},
		{[]string{"-user", "ghost", "-show-seed"}, "user not found"},
		{[]string{"-user", "alice", "-qr", "/nonexistent-dir/x.png"}, "QR file"},
		{[]string{"-user", "alice", "-code1", "12345", "-code2", "654321"}, "six digits"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "654321"}, "not found"},
	}
	for _, tt := range tests {
		_, _, err := runCmd(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tt.args, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error is not one line: %q", tt.args, err)
		}
	}
	if n := devices(t, api); n != 0 {
		t.Errorf("refused runs created %d devices", n)
	}
	_, _, err := runCmd(t, "-user", "alice", "-code1", "12a456", "-code2", "654321")
	if !errors.Is(err, iamguard.ErrMFACode) {
		t.Errorf("err = %v, want ErrMFACode", err)
	}
}
