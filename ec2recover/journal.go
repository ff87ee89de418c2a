package ec2recover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Record is what a recovery journals after every step: enough to resume
// or roll back a run that failed or was cut short, from another process.
// It holds no secret (the public key only).
type Record struct {
	// Version of the record's format; 1.
	Version    int      `json:"version"`
	ID         string   `json:"id"`
	InstanceID string   `json:"instance_id"`
	Strategy   Strategy `json:"strategy"`
	// Phase is PhaseInProgress, PhaseDone or PhaseRolledBack.
	Phase string `json:"phase"`
	// PriorState is the instance's state before the recovery ("running"
	// or "stopped"): where a rollback returns it, and a success leaves it.
	PriorState       string `json:"prior_state"`
	AvailabilityZone string `json:"availability_zone"`
	// RootVolumeID and RootDeviceName are the root volume and the device
	// it goes back to, read from the instance (never guessed).
	RootVolumeID   string `json:"root_volume_id"`
	RootDeviceName string `json:"root_device_name"`
	PublicKey      string `json:"public_key"`
	LoginUser      string `json:"login_user,omitempty"`
	ReplaceKeys    bool   `json:"replace_keys,omitempty"`
	KeepSnapshot   bool   `json:"keep_snapshot,omitempty"`
	// What the recovery created, as soon as it is known.
	SnapshotID string `json:"snapshot_id,omitempty"`
	// SnapshotAttempted is set before CreateSnapshot is called: a
	// snapshot without a recorded ID is then looked for by its tags.
	SnapshotAttempted     bool   `json:"snapshot_attempted,omitempty"`
	HelperImageID         string `json:"helper_image_id,omitempty"`
	HelperSubnetID        string `json:"helper_subnet_id,omitempty"`
	HelperVPCID           string `json:"helper_vpc_id,omitempty"`
	HelperInstanceType    string `json:"helper_instance_type,omitempty"`
	HelperInstanceID      string `json:"helper_instance_id,omitempty"`
	HelperSecurityGroupID string `json:"helper_security_group_id,omitempty"`
	// HelperProfile is the helper's instance profile; HelperProfileOwned
	// is true when the recovery created it (and its role, of the same
	// name) and so removes it.
	HelperProfile      string `json:"helper_profile,omitempty"`
	HelperProfileOwned bool   `json:"helper_profile_owned,omitempty"`
	// OriginalUserData is the instance's user data before the user-data
	// strategy changed it, base64 as EC2 returns it ("" for none), once
	// UserDataSaved. It may hold secrets: keep the journal private (a
	// FileJournal is written 0600).
	OriginalUserData string `json:"original_user_data,omitempty"`
	UserDataSaved    bool   `json:"user_data_saved,omitempty"`
	// The relaunch: the key pair imported, the image made (ImageAttempted
	// set before CreateImage), the copy launched, the Elastic IP moved,
	// and what was asked.
	KeyPairName           string `json:"key_pair_name,omitempty"`
	ImageID               string `json:"image_id,omitempty"`
	ImageAttempted        bool   `json:"image_attempted,omitempty"`
	CopyInstanceID        string `json:"copy_instance_id,omitempty"`
	SubnetID              string `json:"subnet_id,omitempty"`
	ElasticIP             string `json:"elastic_ip,omitempty"`
	ElasticIPAllocationID string `json:"elastic_ip_allocation_id,omitempty"`
	Reboot                bool   `json:"reboot,omitempty"`
	TerminateOld          bool   `json:"terminate_old,omitempty"`
	KeepImage             bool   `json:"keep_image,omitempty"`
	// Injected is true once the key is in authorized_keys.
	Injected bool `json:"injected,omitempty"`
	// Done lists the steps (Action kinds) carried out, in order.
	Done    []string  `json:"done,omitempty"`
	Updated time.Time `json:"updated"`
}

// The phases of a Record.
const (
	PhaseInProgress = "in-progress"
	PhaseDone       = "done"
	PhaseRolledBack = "rolled-back"
)

func (r *Record) done(kind string) bool { return slices.Contains(r.Done, kind) }

// Journal is where a recovery keeps its Record. Save replaces the stored
// record; Load returns it, or an error matching ErrNoJournal when there
// is none. A recovery saves before its first change and after every step,
// and stops (rolling back) when a save fails.
type Journal interface {
	Save(ctx context.Context, r *Record) error
	Load(ctx context.Context) (*Record, error)
}

// FileJournal keeps the record as JSON in one file, written 0600 through
// a temporary file renamed over it, so that a crash leaves the old record
// or the new one, never half of one.
type FileJournal struct {
	Path string
}

// Save writes r to the file.
func (j FileJournal) Save(_ context.Context, r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("ec2recover: journal: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(j.Path), filepath.Base(j.Path)+".tmp*")
	if err != nil {
		return fmt.Errorf("ec2recover: journal: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("ec2recover: journal: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ec2recover: journal: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ec2recover: journal: %w", err)
	}
	if err := os.Rename(tmp.Name(), j.Path); err != nil {
		return fmt.Errorf("ec2recover: journal: %w", err)
	}
	return nil
}

// Load reads the record from the file.
func (j FileJournal) Load(_ context.Context) (*Record, error) {
	b, err := os.ReadFile(j.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoJournal, j.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("ec2recover: journal: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("ec2recover: journal %s: %w", j.Path, err)
	}
	return &r, nil
}

// MemoryJournal keeps the record in memory: the default when Options has
// no Journal, which still lets a run roll itself back, and a resume in
// the same process.
type MemoryJournal struct {
	mu sync.Mutex
	r  *Record
}

// Save keeps a copy of r.
func (j *MemoryJournal) Save(_ context.Context, r *Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := *r
	c.Done = slices.Clone(r.Done)
	j.r = &c
	return nil
}

// Load returns a copy of the record.
func (j *MemoryJournal) Load(context.Context) (*Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.r == nil {
		return nil, ErrNoJournal
	}
	c := *j.r
	c.Done = slices.Clone(j.r.Done)
	return &c, nil
}
