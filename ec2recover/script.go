package ec2recover

import (
	"fmt"
	"regexp"
	"strings"
)

// LoginUsers are the users the injection script looks for, in order, in
// the instance's /etc/passwd when no login user is given: the default
// users of Amazon Linux, Ubuntu, Debian, CentOS, Rocky, Fedora and
// Bitnami images.
var LoginUsers = []string{"ec2-user", "ubuntu", "admin", "centos", "rocky", "fedora", "bitnami"}

// ScriptParams are the inputs of the key injection script.
type ScriptParams struct {
	// VolumeID is the root volume attached to the helper; its NVMe serial
	// is the ID without its dash (vol0123...). Empty with Live.
	VolumeID string
	// Device is the device name the volume was attached under on the
	// helper ("/dev/sdf"); a Xen helper shows it as /dev/xvdf or /dev/sdf.
	Device string
	// MountDir is where the volume is mounted.
	MountDir string
	// Live makes the script work on the running system's own root (the
	// SSM strategy): nothing is found or mounted.
	Live bool
	// PublicKey is the authorized_keys line to add.
	PublicKey string
	// LoginUser, if set, is the user to give the key; else the first of
	// LoginUsers present in /etc/passwd.
	LoginUser string
	// Replace replaces authorized_keys instead of appending to it.
	Replace bool
}

// ResultPrefix starts the report lines the script prints: "ok ..." with
// key=value fields, or "fail step=STEP msg=...".
const ResultPrefix = "ec2recover-result:"

var loginUserRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// Script returns the bash script that adds the public key. The Go side
// checks its inputs, so every value is quoted literally.
func Script(p ScriptParams) string {
	b01 := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	var h strings.Builder
	h.WriteString("#!/bin/bash\n# ec2recover: add an SSH public key to the login user's authorized_keys\n")
	fmt.Fprintf(&h, "VOLUME_ID=%s\nDEVICE=%s\nMOUNT_DIR=%s\nLIVE=%s\nPUBKEY=%s\nLOGIN_USER=%s\nREPLACE=%s\nCANDIDATE_USERS=%s\n",
		shellQuote(p.VolumeID), shellQuote(p.Device), shellQuote(p.MountDir), b01(p.Live),
		shellQuote(p.PublicKey), shellQuote(p.LoginUser), b01(p.Replace), shellQuote(strings.Join(LoginUsers, " ")))
	return h.String() + scriptBody
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// scriptBody is the script after its parameters. EC2RECOVER_SYS and
// EC2RECOVER_DEV (default /sys and /dev) let the tests stand in for the
// kernel's views.
const scriptBody = `set -u
umask 077
SYS=${EC2RECOVER_SYS:-/sys}
DEV=${EC2RECOVER_DEV:-/dev}
MOUNTED=0
fail() { echo "ec2recover-result: fail step=$1 msg=$2"; exit 1; }
cleanup() {
  if [ "$MOUNTED" = 1 ]; then
    sync
    umount "$MOUNT_DIR" >/dev/null 2>&1 || umount -l "$MOUNT_DIR" >/dev/null 2>&1
    rmdir "$MOUNT_DIR" >/dev/null 2>&1
  fi
}
trap cleanup EXIT

find_device() {
  local serial="${VOLUME_ID//-/}" d s base
  for d in "$SYS"/block/nvme*n1; do
    [ -e "$d/device/serial" ] || continue
    s=$(tr -d ' \n' < "$d/device/serial")
    if [ "$s" = "$serial" ]; then echo "$DEV/$(basename "$d")"; return 0; fi
  done
  base="${DEVICE##*/}"
  for d in "$DEV/xvd${base#sd}" "$DEV/$base"; do
    if [ -e "$d" ]; then echo "$d"; return 0; fi
  done
  return 1
}

ROOT=""
FSTYPE=live
DEVPATH=""
if [ "$LIVE" != 1 ]; then
  DEVPATH=$(find_device) || fail find-device "volume $VOLUME_ID is not attached (no NVMe serial ${VOLUME_ID//-/}, no $DEVICE)"
  mkdir -p "$MOUNT_DIR" || fail mount "cannot create $MOUNT_DIR"
  FOUND=""
  for part in "$DEVPATH" "$DEVPATH"p[0-9]* "$DEVPATH"[0-9]*; do
    [ -e "$part" ] || continue
    # No cache (-c /dev/null): a device name used before may still be
    # cached with the file system it held then.
    t=$(blkid -c /dev/null -o value -s TYPE "$part" 2>/dev/null) || continue
    case "$t" in
      xfs) opts="-o nouuid" ;;
      ext2|ext3|ext4) opts="" ;;
      *) continue ;;
    esac
    # shellcheck disable=SC2086
    mount $opts "$part" "$MOUNT_DIR" >/dev/null 2>&1 || continue
    MOUNTED=1
    if [ -f "$MOUNT_DIR/etc/passwd" ]; then FOUND="$part"; FSTYPE="$t"; break; fi
    umount "$MOUNT_DIR" >/dev/null 2>&1
    MOUNTED=0
  done
  [ -n "$FOUND" ] || fail mount "no ext4 or xfs filesystem with /etc/passwd on $DEVPATH"
  DEVPATH="$FOUND"
  ROOT="$MOUNT_DIR"
fi

PASSWD="$ROOT/etc/passwd"
[ -f "$PASSWD" ] || fail user "no $PASSWD"
user_entry() { awk -F: -v u="$1" '$1 == u { print $3 ":" $4 ":" $6; exit }' "$PASSWD"; }
USER_NAME="$LOGIN_USER"
ENTRY=""
if [ -n "$USER_NAME" ]; then
  ENTRY=$(user_entry "$USER_NAME")
  [ -n "$ENTRY" ] || fail user "login user $USER_NAME is not in /etc/passwd"
else
  for u in $CANDIDATE_USERS; do
    ENTRY=$(user_entry "$u")
    if [ -n "$ENTRY" ]; then USER_NAME="$u"; break; fi
  done
  [ -n "$ENTRY" ] || fail user "none of $CANDIDATE_USERS is in /etc/passwd: give the login user"
fi
UID_N=${ENTRY%%:*}; rest=${ENTRY#*:}; GID_N=${rest%%:*}; HOME_DIR=${rest#*:}
case "$HOME_DIR" in /*) ;; *) fail user "home of $USER_NAME is not an absolute path" ;; esac
case "$HOME_DIR" in *..*) fail user "home of $USER_NAME holds .." ;; esac

H="$ROOT$HOME_DIR"
for p in "$H" "$H/.ssh" "$H/.ssh/authorized_keys"; do
  [ -L "$p" ] && fail symlink "$p is a symbolic link: refusing to follow it"
done
if [ ! -d "$H" ]; then
  mkdir -p "$H" || fail home "cannot create $HOME_DIR"
  chown "$UID_N:$GID_N" "$H" || fail home "cannot chown $HOME_DIR"
  chmod 700 "$H"
fi
mkdir -p "$H/.ssh" || fail ssh-dir "cannot create $HOME_DIR/.ssh"
chown "$UID_N:$GID_N" "$H/.ssh" || fail ssh-dir "cannot chown $HOME_DIR/.ssh"
chmod 700 "$H/.ssh" || fail ssh-dir "cannot chmod $HOME_DIR/.ssh"
AK="$H/.ssh/authorized_keys"
if [ "$REPLACE" = 1 ]; then
  printf '%s\n' "$PUBKEY" > "$AK" || fail write "cannot write authorized_keys"
  ACTION=replaced
elif [ -f "$AK" ] && grep -qxF -- "$PUBKEY" "$AK"; then
  ACTION=present
else
  if [ -s "$AK" ] && [ -n "$(tail -c 1 "$AK")" ]; then printf '\n' >> "$AK"; fi
  printf '%s\n' "$PUBKEY" >> "$AK" || fail write "cannot append to authorized_keys"
  ACTION=appended
fi
chown "$UID_N:$GID_N" "$AK" || fail write "cannot chown authorized_keys"
chmod 600 "$AK" || fail write "cannot chmod authorized_keys"
SELINUX=none
if [ -f "$ROOT/etc/selinux/config" ] && grep -Eq '^SELINUX=(enforcing|permissive)' "$ROOT/etc/selinux/config"; then
  SELINUX=unrestored
  if command -v chcon >/dev/null 2>&1 && chcon -R -t ssh_home_t "$H/.ssh" >/dev/null 2>&1; then SELINUX=restored; fi
  if [ "$LIVE" = 1 ] && command -v restorecon >/dev/null 2>&1 && restorecon -R "$H/.ssh" >/dev/null 2>&1; then SELINUX=restored; fi
fi
sync
echo "ec2recover-result: ok user=$USER_NAME uid=$UID_N gid=$GID_N home=$HOME_DIR action=$ACTION fs=$FSTYPE device=$DEVPATH selinux=$SELINUX"
`

// ScriptResult is what the script reported.
type ScriptResult struct {
	OK     bool
	Fields map[string]string
	// Step and Message say where a failed script stopped.
	Step, Message string
}

// ParseScriptOutput reads the script's report line from its output. found
// is false when no report line is in it (an empty output, as some Run
// Command answers carry).
func ParseScriptOutput(out string) (r ScriptResult, found bool) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, ResultPrefix)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if tail, ok := strings.CutPrefix(rest, "fail "); ok {
			r = ScriptResult{}
			step, msg, _ := strings.Cut(tail, " msg=")
			r.Step = strings.TrimPrefix(step, "step=")
			r.Message = msg
			return r, true
		}
		if tail, ok := strings.CutPrefix(rest, "ok"); ok {
			r = ScriptResult{OK: true, Fields: map[string]string{}}
			for _, f := range strings.Fields(tail) {
				if k, v, ok := strings.Cut(f, "="); ok {
					r.Fields[k] = v
				}
			}
			return r, true
		}
	}
	return ScriptResult{}, false
}
