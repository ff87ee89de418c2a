package ec2recover_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/awsguard/awsguard/ec2recover"
)

// loopOK skips the test (fails it with AWSGUARD_REQUIRE_LOOP=1) unless
// root can attach loop devices and make ext4 and XFS file systems.
func loopOK(t *testing.T) {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "not root"
	default:
		for _, tool := range []string{"bash", "losetup", "mount", "umount", "blkid", "mkfs.ext4", "mkfs.xfs"} {
			if _, err := exec.LookPath(tool); err != nil {
				why = tool + " not found"
				break
			}
		}
	}
	if why == "" {
		if out, err := exec.Command("losetup", "-f").CombinedOutput(); err != nil {
			why = "losetup -f: " + strings.TrimSpace(string(out))
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("AWSGUARD_REQUIRE_LOOP") == "1" {
		t.Fatalf("loop device tests required (AWSGUARD_REQUIRE_LOOP=1): %s", why)
	}
	t.Skipf("loop device tests skipped: %s", why)
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// mounted reports whether dir is a mount point.
func mounted(dir string) bool {
	b, _ := os.ReadFile("/proc/self/mounts")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

// loopImage makes a sparse image of size MiB with file system fs and
// attaches it as a loop device, detached (and unmounted) at cleanup.
func loopImage(t *testing.T, path, fs string, mib int) string {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	must(t, f.Truncate(int64(mib)<<20))
	must(t, f.Close())
	sh(t, "mkfs."+fs, "-q", path)
	return attachLoop(t, path)
}

func attachLoop(t *testing.T, path string) string {
	t.Helper()
	dev := sh(t, "losetup", "-f", "--show", path)
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	return dev
}

// mountAt mounts dev at dir (created), unmounted at cleanup if still.
func mountAt(t *testing.T, dev, dir string, opts ...string) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	sh(t, "mount", append(opts, dev, dir)...)
	t.Cleanup(func() {
		if mounted(dir) {
			_ = exec.Command("umount", dir).Run()
		}
	})
}

const oldKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3r0mLlIsPUnS+bRUTM7OsqT6IBapk+8m2UXrAOdsTS the-lost-key"

// linuxRoot puts a Linux-like root on the file system mounted at dir:
// /etc/passwd with root and ec2-user (1000:1000), and ec2-user's home
// with an authorized_keys holding the lost key.
func linuxRoot(t *testing.T, dir string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte(
		"root:x:0:0:root:/root:/bin/bash\nec2-user:x:1000:1000:EC2 Default User:/home/ec2-user:/bin/bash\n"), 0o644))
	ssh := filepath.Join(dir, "home", "ec2-user", ".ssh")
	must(t, os.MkdirAll(ssh, 0o700))
	must(t, os.WriteFile(filepath.Join(ssh, "authorized_keys"), []byte(oldKey+"\n"), 0o600))
	for _, p := range []string{filepath.Dir(ssh), ssh, filepath.Join(ssh, "authorized_keys")} {
		must(t, os.Chown(p, 1000, 1000))
	}
}

// The injection script run for real on loop devices: an ext4 root found
// by its Xen device name, and an XFS root found by its NVMe serial while
// a twin with the same UUID (the helper's own root, from the same image)
// is mounted. Only the device discovery is stood in for (a /dev and /sys
// view mapping the volume to the loop device); mount, blkid, umount,
// chown and chmod are the system's.
func TestScriptOnLoopImages(t *testing.T) {
	loopOK(t)
	for _, tc := range []struct{ fs, naming string }{{"ext4", "xen"}, {"xfs", "nvme"}} {
		t.Run(tc.fs, func(t *testing.T) {
			d := t.TempDir()
			mib := 64
			if tc.fs == "xfs" {
				mib = 300 // mkfs.xfs's smallest
			}
			img := filepath.Join(d, "root.img")
			dev := loopImage(t, img, tc.fs, mib)
			seed := filepath.Join(d, "seed")
			mountAt(t, dev, seed)
			linuxRoot(t, seed)
			sh(t, "umount", seed)

			sys, devDir := filepath.Join(d, "sys"), filepath.Join(d, "dev")
			must(t, os.MkdirAll(devDir, 0o755))
			if tc.naming == "nvme" {
				serial := filepath.Join(sys, "block", "nvme1n1", "device")
				must(t, os.MkdirAll(serial, 0o755))
				must(t, os.WriteFile(filepath.Join(serial, "serial"), []byte(strings.ReplaceAll(testVolume, "-", "")+"\n"), 0o644))
				must(t, os.Symlink(dev, filepath.Join(devDir, "nvme1n1")))
			} else {
				must(t, os.MkdirAll(sys, 0o755))
				must(t, os.Symlink(dev, filepath.Join(devDir, "xvdf")))
			}
			if tc.fs == "xfs" {
				twin := filepath.Join(d, "twin.img")
				sh(t, "cp", "--sparse=always", img, twin)
				mountAt(t, attachLoop(t, twin), filepath.Join(d, "helper-root"))
				probe := filepath.Join(d, "probe")
				must(t, os.MkdirAll(probe, 0o755))
				if exec.Command("mount", dev, probe).Run() == nil {
					_ = exec.Command("umount", probe).Run()
					t.Fatal("the twin does not block a mount without nouuid: the test proves nothing")
				}
			}

			newKey := testKey
			mnt := filepath.Join(d, "mnt", "recovery")
			cmd := exec.Command("bash", "-c", ec2recover.Script(ec2recover.ScriptParams{
				VolumeID: testVolume, Device: ec2recover.HelperDevice, MountDir: mnt, PublicKey: newKey}))
			cmd.Env = append(os.Environ(), "EC2RECOVER_SYS="+sys, "EC2RECOVER_DEV="+devDir)
			out, err := cmd.CombinedOutput()
			t.Cleanup(func() {
				if mounted(mnt) {
					_ = exec.Command("umount", mnt).Run()
				}
			})
			if err != nil {
				t.Fatalf("script: %v\n%s", err, out)
			}
			res, found := ec2recover.ParseScriptOutput(string(out))
			if !found || !res.OK {
				t.Fatalf("script report: %+v\n%s", res, out)
			}
			want := map[string]string{"user": "ec2-user", "uid": "1000", "gid": "1000", "action": "appended", "fs": tc.fs, "device": filepath.Join(devDir, map[string]string{"xen": "xvdf", "nvme": "nvme1n1"}[tc.naming])}
			for k, v := range want {
				if res.Fields[k] != v {
					t.Errorf("report %s=%q, want %q (%s)", k, res.Fields[k], v, out)
				}
			}
			if mounted(mnt) {
				t.Errorf("the script left %s mounted", mnt)
			}
			check := filepath.Join(d, "check")
			opts := []string{"-o", "ro"}
			if tc.fs == "xfs" {
				opts = []string{"-o", "ro,nouuid"}
			}
			mountAt(t, dev, check, opts...)
			checkInjected(t, check, newKey)
			sh(t, "umount", check)
		})
	}
}

func checkInjected(t *testing.T, root, newKey string) {
	t.Helper()
	ssh := filepath.Join(root, "home", "ec2-user", ".ssh")
	ak := filepath.Join(ssh, "authorized_keys")
	b, err := os.ReadFile(ak)
	must(t, err)
	if got, want := string(b), oldKey+"\n"+newKey+"\n"; got != want {
		t.Errorf("authorized_keys = %q, want the old key kept and the new one appended: %q", got, want)
	}
	for p, mode := range map[string]os.FileMode{ssh: 0o700, ak: 0o600} {
		st, err := os.Lstat(p)
		must(t, err)
		sys := st.Sys().(*syscall.Stat_t)
		if st.Mode().Perm() != mode || sys.Uid != 1000 || sys.Gid != 1000 {
			t.Errorf("%s: mode %o owner %d:%d, want %o 1000:1000", p, st.Mode().Perm(), sys.Uid, sys.Gid, mode)
		}
	}
}
