package ec2recover_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/awsguard/awsguard/ec2recover"
)

const (
	testVolume = "vol-0123456789abcdef0"
	testKey    = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOKQ3S2y1n5kEtq2vvT9fJv0q3YwLk1xYbDq4i8bV5rQ ec2recover-test"
)

// guest is a directory tree standing in for the helper: /sys and /dev
// views, a mount point holding the instance's root, and shims of mount,
// umount and blkid on PATH that log their arguments.
type guest struct {
	t                    *testing.T
	dir, sys, dev, mount string
	shims, log           string
}

func newGuest(t *testing.T) *guest {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	d := t.TempDir()
	g := &guest{t: t, dir: d, sys: filepath.Join(d, "sys"), dev: filepath.Join(d, "dev"), mount: filepath.Join(d, "mnt", "root"),
		shims: filepath.Join(d, "shims"), log: filepath.Join(d, "shim.log")}
	for _, p := range []string{g.sys, g.dev, g.mount, g.shims} {
		must(t, os.MkdirAll(p, 0o755))
	}
	shim := func(name, body string) {
		must(t, os.WriteFile(filepath.Join(g.shims, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755))
	}
	shim("mount", `echo "mount $*" >> "$SHIM_LOG"`)
	shim("umount", `echo "umount $*" >> "$SHIM_LOG"`)
	// blkid answers SHIM_FSTYPE for the device named SHIM_FSDEV only.
	shim("blkid", `for a; do last=$a; done; [ "$last" = "$SHIM_FSDEV" ] || exit 2; echo "$SHIM_FSTYPE"`)
	if os.Geteuid() != 0 {
		shim("chown", `echo "chown $*" >> "$SHIM_LOG"`)
	}
	return g
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// nvme shows the volume as /dev/nvme1n1 with partition p1.
func (g *guest) nvme() string {
	d := filepath.Join(g.sys, "block", "nvme1n1", "device")
	must(g.t, os.MkdirAll(d, 0o755))
	must(g.t, os.WriteFile(filepath.Join(d, "serial"), []byte(strings.ReplaceAll(testVolume, "-", "")+"  \n"), 0o644))
	// Another NVMe disk (the helper's own root) with another serial.
	o := filepath.Join(g.sys, "block", "nvme0n1", "device")
	must(g.t, os.MkdirAll(o, 0o755))
	must(g.t, os.WriteFile(filepath.Join(o, "serial"), []byte("vol0fffffffffffffff0\n"), 0o644))
	for _, n := range []string{"nvme0n1", "nvme0n1p1", "nvme1n1", "nvme1n1p1"} {
		must(g.t, os.WriteFile(filepath.Join(g.dev, n), nil, 0o644))
	}
	return filepath.Join(g.dev, "nvme1n1p1")
}

// xen shows the volume as /dev/xvdf with partition 1.
func (g *guest) xen() string {
	for _, n := range []string{"xvda", "xvda1", "xvdf", "xvdf1"} {
		must(g.t, os.WriteFile(filepath.Join(g.dev, n), nil, 0o644))
	}
	return filepath.Join(g.dev, "xvdf1")
}

func (g *guest) file(rel, content string, mode os.FileMode) {
	p := filepath.Join(g.mount, rel)
	must(g.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(g.t, os.WriteFile(p, []byte(content), mode))
}

func passwd(users ...string) string {
	s := "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
	for i, u := range users {
		s += fmt.Sprintf("%s:x:%d:%d::/home/%s:/bin/bash\n", u, 1000+i, 2000+i, u)
	}
	return s
}

func (g *guest) run(p ec2recover.ScriptParams, fsDev, fsType string) (string, error) {
	g.t.Helper()
	if p.VolumeID == "" && !p.Live {
		p.VolumeID = testVolume
	}
	if p.Device == "" {
		p.Device = ec2recover.HelperDevice
	}
	if p.PublicKey == "" {
		p.PublicKey = testKey
	}
	p.MountDir = g.mount
	cmd := exec.Command("bash", "-c", ec2recover.Script(p))
	cmd.Env = append(os.Environ(), "PATH="+g.shims+":"+os.Getenv("PATH"), "EC2RECOVER_SYS="+g.sys, "EC2RECOVER_DEV="+g.dev,
		"SHIM_LOG="+g.log, "SHIM_FSDEV="+fsDev, "SHIM_FSTYPE="+fsType)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (g *guest) shimLog() string {
	b, _ := os.ReadFile(g.log)
	return string(b)
}

func (g *guest) checkKeyFile(user string, uid, gid int, want string) {
	g.t.Helper()
	home := filepath.Join(g.mount, "home", user)
	ak := filepath.Join(home, ".ssh", "authorized_keys")
	b, err := os.ReadFile(ak)
	if err != nil {
		g.t.Fatalf("authorized_keys: %v", err)
	}
	if string(b) != want {
		g.t.Errorf("authorized_keys = %q, want %q", b, want)
	}
	for p, mode := range map[string]os.FileMode{filepath.Dir(ak): 0o700, ak: 0o600} {
		st, err := os.Lstat(p)
		if err != nil {
			g.t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			g.t.Errorf("%s mode %o, want %o", p, st.Mode().Perm(), mode)
		}
		if os.Geteuid() == 0 {
			s := st.Sys().(*syscall.Stat_t)
			if int(s.Uid) != uid || int(s.Gid) != gid {
				g.t.Errorf("%s owned by %d:%d, want %d:%d", p, s.Uid, s.Gid, uid, gid)
			}
		} else if !strings.Contains(g.shimLog(), fmt.Sprintf("chown %d:%d %s", uid, gid, p)) {
			g.t.Errorf("no chown %d:%d of %s in %s", uid, gid, p, g.shimLog())
		}
	}
}

func TestScriptExt4NVMe(t *testing.T) {
	g := newGuest(t)
	dev := g.nvme()
	g.file("etc/passwd", passwd("ec2-user"), 0o644)
	must(t, os.MkdirAll(filepath.Join(g.mount, "home", "ec2-user"), 0o700))
	out, err := g.run(ec2recover.ScriptParams{}, dev, "ext4")
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	res, found := ec2recover.ParseScriptOutput(out)
	if !found || !res.OK || res.Fields["user"] != "ec2-user" || res.Fields["fs"] != "ext4" || res.Fields["device"] != dev || res.Fields["action"] != "appended" {
		t.Errorf("result %+v from %q", res, out)
	}
	log := g.shimLog()
	if !strings.Contains(log, "mount "+dev+" "+g.mount) || strings.Contains(log, "nouuid") {
		t.Errorf("ext4 mounted as %q, want no nouuid", log)
	}
	if !strings.Contains(log, "umount "+g.mount) {
		t.Errorf("not unmounted: %q", log)
	}
	g.checkKeyFile("ec2-user", 1000, 2000, testKey+"\n")
}

func TestScriptXFSXen(t *testing.T) {
	g := newGuest(t)
	dev := g.xen()
	g.file("etc/passwd", passwd("ubuntu"), 0o644)
	out, err := g.run(ec2recover.ScriptParams{}, dev, "xfs")
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	if res, _ := ec2recover.ParseScriptOutput(out); res.Fields["user"] != "ubuntu" || res.Fields["fs"] != "xfs" {
		t.Errorf("result %+v", res)
	}
	if log := g.shimLog(); !strings.Contains(log, "mount -o nouuid "+dev+" "+g.mount) {
		t.Errorf("xfs mounted as %q, want -o nouuid", log)
	}
	// The home directory was missing: made, owned by the user, 0700.
	st, err := os.Stat(filepath.Join(g.mount, "home", "ubuntu"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("home: %v %v", st, err)
	}
	g.checkKeyFile("ubuntu", 1000, 2000, testKey+"\n")
}

// Each login user is found when it is the only one in /etc/passwd, and
// the first of the list wins when there are several.
func TestScriptLoginUsers(t *testing.T) {
	for _, u := range ec2recover.LoginUsers {
		t.Run(u, func(t *testing.T) {
			g := newGuest(t)
			dev := g.nvme()
			g.file("etc/passwd", passwd("someone", u), 0o644)
			out, err := g.run(ec2recover.ScriptParams{}, dev, "ext4")
			if err != nil {
				t.Fatalf("script: %v\n%s", err, out)
			}
			if res, _ := ec2recover.ParseScriptOutput(out); res.Fields["user"] != u {
				t.Errorf("user %q, want %q (%s)", res.Fields["user"], u, out)
			}
			g.checkKeyFile(u, 1001, 2001, testKey+"\n")
		})
	}
	g := newGuest(t)
	dev := g.nvme()
	g.file("etc/passwd", passwd("bitnami", "ubuntu", "ec2-user"), 0o644)
	out, _ := g.run(ec2recover.ScriptParams{}, dev, "ext4")
	if res, _ := ec2recover.ParseScriptOutput(out); res.Fields["user"] != "ec2-user" {
		t.Errorf("user %q, want ec2-user first", res.Fields["user"])
	}
	// A given login user wins.
	g.file("etc/passwd", passwd("ec2-user", "deploy"), 0o644)
	out, _ = g.run(ec2recover.ScriptParams{LoginUser: "deploy"}, dev, "ext4")
	if res, _ := ec2recover.ParseScriptOutput(out); res.Fields["user"] != "deploy" {
		t.Errorf("user %q, want deploy: %s", res.Fields["user"], out)
	}
	g.checkKeyFile("deploy", 1001, 2001, testKey+"\n")
}

// Existing keys stay; the key is appended once, after a missing final
// newline; Replace replaces.
func TestScriptExistingKeys(t *testing.T) {
	g := newGuest(t)
	dev := g.nvme()
	g.file("etc/passwd", passwd("ec2-user"), 0o644)
	old := "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC old@laptop"
	g.file("home/ec2-user/.ssh/authorized_keys", old, 0o644)
	out, err := g.run(ec2recover.ScriptParams{}, dev, "ext4")
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	g.checkKeyFile("ec2-user", 1000, 2000, old+"\n"+testKey+"\n")
	out, err = g.run(ec2recover.ScriptParams{}, dev, "ext4")
	if res, _ := ec2recover.ParseScriptOutput(out); err != nil || res.Fields["action"] != "present" {
		t.Errorf("second run: %v %+v", err, res)
	}
	g.checkKeyFile("ec2-user", 1000, 2000, old+"\n"+testKey+"\n")
	out, err = g.run(ec2recover.ScriptParams{Replace: true}, dev, "ext4")
	if res, _ := ec2recover.ParseScriptOutput(out); err != nil || res.Fields["action"] != "replaced" {
		t.Errorf("replace: %v %+v", err, res)
	}
	g.checkKeyFile("ec2-user", 1000, 2000, testKey+"\n")
}

// Failures name their step, exit non-zero and leave nothing mounted.
func TestScriptFailures(t *testing.T) {
	for _, tc := range []struct {
		name, step string
		setup      func(g *guest) (dev string)
		p          ec2recover.ScriptParams
	}{
		{"volume not attached", "find-device", func(g *guest) string { return "" }, ec2recover.ScriptParams{}},
		{"no linux filesystem", "mount", func(g *guest) string { g.nvme(); return "none" }, ec2recover.ScriptParams{}},
		{"no known user", "user", func(g *guest) string { g.file("etc/passwd", passwd("alice"), 0o644); return g.nvme() }, ec2recover.ScriptParams{}},
		{"given user missing", "user", func(g *guest) string { g.file("etc/passwd", passwd("ec2-user"), 0o644); return g.nvme() }, ec2recover.ScriptParams{LoginUser: "deploy"}},
		{"symlinked .ssh", "symlink", func(g *guest) string {
			g.file("etc/passwd", passwd("ec2-user"), 0o644)
			must(g.t, os.MkdirAll(filepath.Join(g.mount, "home", "ec2-user"), 0o700))
			must(g.t, os.Symlink("/root/.ssh", filepath.Join(g.mount, "home", "ec2-user", ".ssh")))
			return g.nvme()
		}, ec2recover.ScriptParams{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuest(t)
			dev := tc.setup(g)
			out, err := g.run(tc.p, dev, "ext4")
			if err == nil {
				t.Fatalf("script succeeded: %s", out)
			}
			res, found := ec2recover.ParseScriptOutput(out)
			if !found || res.OK || res.Step != tc.step {
				t.Errorf("result %+v, want failure at %s: %s", res, tc.step, out)
			}
			mounts, umounts := 0, 0
			for _, l := range strings.Split(g.shimLog(), "\n") {
				switch {
				case strings.HasPrefix(l, "mount "):
					mounts++
				case strings.HasPrefix(l, "umount "):
					umounts++
				}
			}
			if mounts > umounts {
				t.Errorf("left mounted: %q", g.shimLog())
			}
		})
	}
}

func TestParseScriptOutput(t *testing.T) {
	if _, found := ec2recover.ParseScriptOutput(""); found {
		t.Error("found a result in empty output")
	}
	r, found := ec2recover.ParseScriptOutput("noise\nec2recover-result: fail step=mount msg=no ext4 or xfs\n")
	if !found || r.OK || r.Step != "mount" || r.Message != "no ext4 or xfs" {
		t.Errorf("%+v", r)
	}
}
