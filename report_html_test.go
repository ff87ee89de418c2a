package awsguard_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awsguard/awsguard"
)

// htmlSample is a report with every status and severity, long ARNs and
// titles, and hostile text in evidence, title and resource.
func htmlSample() *awsguard.Report {
	fs := sample()
	fs = append(fs,
		awsguard.Finding{
			Check: "iam.user.access_key_unused", Status: awsguard.StatusFail, Severity: awsguard.SeverityMedium,
			Account: "123456789012", Region: awsguard.RegionGlobal,
			Resource: "arn:aws:iam::123456789012:user/engineering/platform/a-very-long-service-account-name-for-ci",
			Title:    "User a-very-long-service-account-name-for-ci has an active access key never used since its creation 120 days ago",
			Evidence: map[string]string{"access_key_1_last_used": "never", "access_key_1_idle_days": "120", "unused_key_age": "90 days",
				"note": `</script><script>alert("x")</script><img src=x onerror=alert(1)>`},
			Controls: []string{"ISMS-P:2.5.1", "CIS:1.12"},
		},
		awsguard.Finding{
			Check: "iam.root.mfa", Status: awsguard.StatusPass, Severity: awsguard.SeverityCritical,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:root",
			Title: "The root user has MFA", Evidence: map[string]string{"account_mfa_enabled": "1"},
			Controls: []string{"ISMS-P:2.5.3", "CIS:1.5"},
		},
		awsguard.Finding{
			Check: "iam.user.access_key_rotation", Status: awsguard.StatusNotApplicable, Severity: awsguard.SeverityMedium,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:user/bob",
			Title: "User bob has no active access key", Evidence: map[string]string{"active_keys": "0"},
			Controls: []string{"ISMS-P:2.7.2", "CIS:1.14"}, Remediation: "keyrotate.RotateAccessKey",
		},
		awsguard.Finding{
			Check: "ec2.sg.open_ssh", Status: awsguard.StatusError, Severity: awsguard.SeverityInfo,
			Account: "123456789012", Region: "ap-northeast-2", Resource: "sg-0456", Title: "<b>bold</b> & friends",
		},
	)
	return awsguard.NewReport(generated, fs...)
}

func TestWriteHTMLEscapesAndIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := htmlSample().WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{`<script>alert`, `<img src=x`, `<b>bold</b>`, `</script><script>`} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	for _, want := range []string{`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, `&lt;b&gt;bold&lt;/b&gt; &amp; friends`,
		"iam.user.console_mfa", "Console user alice has no MFA device", "ISMS-P:2.5.3", "iamguard.EnforceMFA",
		"<svg", "Content-Security-Policy", "never used since its creation"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// One script, inline; nothing loaded from elsewhere.
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("page has %d script elements, want the one inline", n)
	}
	if m := regexp.MustCompile(`(?i)<[a-z]+[^>]*\s(src|href)\s*=|@import|url\(|https?://`).FindString(page); m != "" {
		t.Errorf("page refers to something outside itself: %q", m)
	}
}

func TestWriteHTMLEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := awsguard.NewReport(generated).WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No findings.") {
		t.Error("an empty report does not say it has no findings")
	}
}

// chromiumEnv, set to 1 (CI sets it), makes a missing chromium a failure.
const chromiumEnv = "AWSGUARD_REQUIRE_CHROMIUM"

// TestWriteHTMLRendersInChromium renders the page in headless Chromium at
// a laptop's width and checks the screenshot is a real picture. With
// AWSGUARD_HTML_SCREENSHOT=FILE it keeps the screenshot there, to look at.
func TestWriteHTMLRendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv(chromiumEnv) == "1" {
			t.Fatalf("chromium is not installed (%s=1): apt-get install -y chromium", chromiumEnv)
		}
		t.Skip("chromium is not installed: apt-get install -y chromium")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := htmlSample().WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	if keep := os.Getenv("AWSGUARD_HTML_SCREENSHOT"); keep != "" {
		shot = keep
	}
	const w, h = 1280, 2000
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", w, h),
		"file://"+page)
	cmd.Dir = dir
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("chromium did not finish in 90s:\n%s", out)
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	if n := colours(img); n < 8 {
		t.Errorf("screenshot has %d colours: the page did not render", n)
	}
}

// colours counts the distinct colours of img, up to 1000.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
