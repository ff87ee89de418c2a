package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp/totp"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// setup points the standard AWS configuration chain at the emulator.
func setup(t *testing.T) (*awstest.Env, *iam.Client) {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	api := iam.NewFromConfig(env.Config())
	if _, err := api.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	return env, api
}

func runCmd(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "mfa-enroll", run, args...)
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

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestEnrolTwoInvocations(t *testing.T) {
	_, api := setup(t)
	dir := t.TempDir()
	qr, seedFile := filepath.Join(dir, "alice.png"), filepath.Join(dir, "alice.seed")

	// Dry run: a plan, no device, no file.
	r := runCmd(t, "-user", "alice", "-dry-run", "-format", "json", "-qr", qr)
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	var dry result
	if err := json.Unmarshal([]byte(r.Stdout), &dry); err != nil {
		t.Fatalf("%v: %s", err, r.Stdout)
	}
	if !dry.DryRun || len(dry.Steps) != 1 || dry.Applied || devices(t, api) != 0 {
		t.Fatalf("dry run = %+v, devices %d", dry, devices(t, api))
	}
	if _, err := os.Stat(qr); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote the QR file: %v", err)
	}

	// First invocation: the QR code goes to the file, the seed nowhere.
	r = runCmd(t, "-user", "alice", "-qr", qr, "-format", "json")
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	if seedLike.MatchString(r.Stdout+r.Stderr) || strings.Contains(r.Stdout, `"seed"`) {
		t.Errorf("output shows a seed:\n%s\n%s", r.Stdout, r.Stderr)
	}
	var created result
	if err := json.Unmarshal([]byte(r.Stdout), &created); err != nil {
		t.Fatal(err)
	}
	if created.Serial != "arn:aws:iam::123456789012:mfa/alice" || created.QRFile != qr || created.Active || !created.Applied {
		t.Errorf("created = %+v", created)
	}
	if m := mode(t, qr); m != 0o600 {
		t.Errorf("QR file mode %v, want 0600", m)
	}
	pngBytes, _ := os.ReadFile(qr)
	if _, err := png.Decode(bytes.NewReader(pngBytes)); err != nil {
		t.Errorf("QR file is not a PNG: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".mfa-enroll-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Enrolling by hand: -seed replaces the pending device (whose seed is
	// in the QR file only) and writes the new seed to its file, mode 0600;
	// the terminal never sees it.
	r = runCmd(t, "-user", "alice", "-seed", seedFile)
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	raw, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	seed := strings.TrimSpace(string(raw))
	if !seedLike.MatchString(seed) || mode(t, seedFile) != 0o600 || devices(t, api) != 1 {
		t.Fatalf("seed %d characters, mode %v, devices %d", len(seed), mode(t, seedFile), devices(t, api))
	}
	if strings.Contains(r.Stdout+r.Stderr, seed) {
		t.Error("the seed reached stdout or stderr")
	}
	if !strings.Contains(r.Stdout, "next:") || !strings.Contains(r.Stdout, "-code1") || !strings.Contains(r.Stdout, "seed:    in "+seedFile) {
		t.Errorf("text output lacks the next step or the seed file:\n%s", r.Stdout)
	}

	// Second invocation: activate with two consecutive codes.
	now := time.Now()
	c1, _ := totp.GenerateCode(seed, now)
	c2, _ := totp.GenerateCode(seed, now.Add(30*time.Second))
	r = runCmd(t, "-user", "alice", "-code1", c1, "-code2", c2)
	if r.Code != 0 || !strings.Contains(r.Stdout, "iam:EnableMFADevice") || !strings.Contains(r.Stdout, "active:  yes") {
		t.Errorf("activation (code %d):\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mfa, err := api.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{UserName: aws.String("alice")})
	if err != nil || len(mfa.MFADevices) != 1 {
		t.Fatalf("MFA devices %v, %v", mfa, err)
	}

	// Both invocations again: nothing to do, and the QR file is left alone.
	if r = runCmd(t, "-user", "alice", "-code1", c1, "-code2", c2); r.Code != 0 || !strings.Contains(r.Stdout, "already compliant") {
		t.Errorf("re-activation: %d %s\n%s", r.Code, r.Stderr, r.Stdout)
	}
	if r = runCmd(t, "-user", "alice", "-qr", qr); r.Code != 0 || !strings.Contains(r.Stdout, "already active") {
		t.Errorf("re-creation: %d %s\n%s", r.Code, r.Stderr, r.Stdout)
	}
	if again, _ := os.ReadFile(qr); !bytes.Equal(again, pngBytes) {
		t.Error("a re-run changed the QR file")
	}
}

// Failures after the command line was read: exit 1, one line naming the
// flag or the step; nothing created.
func TestRefusals(t *testing.T) {
	_, api := setup(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-user", "al/ice", "-qr", "x.png"}, 2, `-user "al/ice": want an IAM user name`},
		{[]string{"-user", "alice", "-device-name", "a b", "-dry-run"}, 2, `-device-name "a b"`},
		{[]string{"-user", "alice", "-code1", "12345", "-code2", "654321"}, 2, "-code1"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "65432x"}, 2, "-code2"},
		{[]string{"-user", "ghost", "-seed", filepath.Join(t.TempDir(), "s")}, 1, "-user ghost: user not found"},
		{[]string{"-user", "alice", "-qr", "/nonexistent-dir/x.png"}, 1, "-qr /nonexistent-dir/x.png"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "654321"}, 1, "-user alice: no pending virtual MFA device"},
	}
	for _, tt := range tests {
		r := runCmd(t, tt.args...)
		if r.Code != tt.code || !strings.Contains(r.LastLine(), tt.want) || strings.Contains(r.LastLine(), "iamguard.") {
			t.Errorf("%v: code %d, last line %q, want %d naming %q", tt.args, r.Code, r.LastLine(), tt.code, tt.want)
		}
		if tt.code == 1 && strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%v: stderr is not one line: %q", tt.args, r.Stderr)
		}
		if strings.Contains(r.Stderr, "again") {
			t.Errorf("%v: a re-run hint where a re-run cannot help: %s", tt.args, r.Stderr)
		}
	}
	if n := devices(t, api); n != 0 {
		t.Errorf("refused runs created %d devices", n)
	}
	if r := runCmd(t, "-user", "alice", "-code1", "12a456", "-code2", "654321"); !errors.Is(r.Err, iamguard.ErrMFACode) || strings.Contains(r.Stderr, "12a456") {
		t.Errorf("err = %v, want ErrMFACode, the code not shown: %s", r.Err, r.Stderr)
	}
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runCmd(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: mfa-enroll [flags]", "-user", "-qr", "-seed", "-code1", "-dry-run", "-profile", "-print-policy", "Exit codes"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// A bad command line exits 2, prints usage, names the flag, and calls
// nothing.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "-user is required"},
		{[]string{"-user", "alice", "-nope"}, "-nope"},
		{[]string{"-user", "alice", "extra", "-qr", "x"}, `unexpected argument "extra"`},
		{[]string{"-user", "alice"}, "-qr FILE or -seed FILE"},
		{[]string{"-user", "alice", "-show-seed"}, "-show-seed: the seed never reaches the terminal"},
		{[]string{"-user", "alice", "-code1", "123456"}, "-code1 and -code2 go together"},
		{[]string{"-user", "alice", "-code2", "123456"}, "-code1 and -code2 go together"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "654321", "-qr", "x.png"}, "first invocation"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "654321", "-seed", "x"}, "first invocation"},
		{[]string{"-user", "alice", "-qr", "x", "-seed", "x"}, "same file"},
		{[]string{"-user", "alice", "-qr", "x", "-format", "xml"}, `-format "xml"`},
		{[]string{"-user", "alice", "-qr", "x", "-dry-run=maybe"}, "-dry-run"},
		{[]string{"-user", "al/ice", "-qr", "x"}, `-user "al/ice"`},
		{[]string{"-user", "alice", "-device-name", "a/b", "-qr", "x"}, `-device-name "a/b"`},
		{[]string{"-user", "alice", "-code1", "1234567", "-code2", "123456"}, "-code1"},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "abcdef"}, "-code2"},
		{[]string{"-user", "alice", "-qr", "x", "-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-user", "alice", "-qr", "x", "-endpoint-url", "ftp://x"}, `-endpoint-url "ftp://x"`},
		{[]string{"-user", "alice", "-qr", "x", "-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-user", "alice", "-qr", "x", "-attempt-timeout", "0s"}, "-attempt-timeout 0s"},
		{[]string{"-user", "alice", "-qr", "x", "-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runCmd(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "mfa-enroll: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: mfa-enroll") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "MFAOptions") || strings.Contains(last, "iamguard.") {
			t.Errorf("%v: names a Go field or function: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-user", "alice", "-qr", "x"}, []string{"iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice", "iam:ListMFADevices", "iam:ListVirtualMFADevices"}},
		{[]string{"-user", "alice", "-code1", "123456", "-code2", "654321"}, []string{"iam:EnableMFADevice", "iam:ListMFADevices", "iam:ListVirtualMFADevices"}},
		{[]string{"-user", "alice", "-dry-run"}, []string{"iam:ListMFADevices", "iam:ListVirtualMFADevices"}},
	} {
		if got := clitest.Actions(clitest.PrintPolicy(t, "mfa-enroll", run, tc.args...)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// Each invocation runs as a user holding exactly its printed policy, and
// fails without any one of its actions (moto checks actions, not
// resources).
func TestLeastPrivilege(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		env, _ := setup(t)
		// Every run finds a pending device, deletes it and creates one.
		seed := filepath.Join(t.TempDir(), "seed")
		args := []string{"-user", "alice", "-seed", seed, "-format", "json"}
		clitest.LeastPrivilegeAsUser(t, env, "enroller", clitest.PrintPolicy(t, "mfa-enroll", run, args...), func(t *testing.T, admin *iam.Client, allowed bool) bool {
			// A failed run may have deleted it.
			_, _ = admin.CreateVirtualMFADevice(context.Background(), &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
			r := runCmd(t, args...)
			if allowed && (r.Code != 0 || !strings.Contains(r.Stdout, "delete the pending virtual MFA device")) {
				t.Errorf("with the printed policy: code %d, %s%s", r.Code, r.Stderr, r.Stdout)
			}
			return r.Code == 0
		})
	})
	t.Run("activate", func(t *testing.T) {
		env, api := setup(t)
		ctx := context.Background()
		dev, err := api.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
		if err != nil {
			t.Fatal(err)
		}
		seed := string(dev.VirtualMFADevice.Base32StringSeed)
		now := time.Now()
		c1, _ := totp.GenerateCode(seed, now)
		c2, _ := totp.GenerateCode(seed, now.Add(30*time.Second))
		args := []string{"-user", "alice", "-code1", c1, "-code2", c2, "-format", "json"}
		clitest.LeastPrivilegeAsUser(t, env, "enroller", clitest.PrintPolicy(t, "mfa-enroll", run, args...), func(t *testing.T, admin *iam.Client, allowed bool) bool {
			r := runCmd(t, args...)
			if r.Code == 0 {
				// Pending again, for the next run to activate.
				if _, err := admin.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: dev.VirtualMFADevice.SerialNumber}); err != nil {
					t.Fatal(err)
				}
			} else if allowed {
				t.Errorf("with the printed policy: code %d, %s", r.Code, r.Stderr)
			}
			return r.Code == 0
		})
	})
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runCmd(t, "-user", "alice", "-dry-run", "-timeout", "1s")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "gave up after -timeout 1s: no answer from "+url) {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

func TestRefusedCredentials(t *testing.T) {
	env, _ := setup(t)
	env.EnforceAuth()
	env.SetEnv("AKIAIOSFODNN7BOGUSKY", "not-a-secret-that-exists")
	r := runCmd(t, "-user", "alice", "-dry-run")
	if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, cli.CredentialsRefused) || !strings.Contains(r.Stderr, "ListMFADevices") {
		t.Errorf("code %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, "not-a-secret") {
		t.Error("the secret reached stderr")
	}
}
