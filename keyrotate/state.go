package keyrotate

// State names what a run of RotateAccessKey finds on the user: the
// rotation record (TagRotation), the keys, and the caller's InUseKeyID.
// classify decides it; each state has one plan function (plan.go). The
// package documentation's table of interrupted runs lists every state, and
// a test checks the table against this enum.
type State int

// The states of a user's rotation. A is the key the record names old, B
// the key it names new (or, in StateIntentNamed, the key InUseKeyID
// names).
const (
	// StateIdle: no record; nothing is in progress. A fresh rotation.
	StateIdle State = iota
	// StateIntent: "old=A", A Active, InUseKeyID empty or A. The run
	// stopped before it recorded a new key: a key created within the clock
	// skew of the record's time is its orphan and is deleted; then a fresh
	// rotation of A.
	StateIntent
	// StateIntentNamed: "old=A", InUseKeyID names another key B of the
	// user: B's delivery is recorded, then the rotation is finished.
	StateIntentNamed
	// StateOldTouched: the record names no delivered key ("old=A", or
	// "pending" with no key named in use), yet A is no longer Active:
	// refused, listing the keys.
	StateOldTouched
	// StatePending: "old=A new=B pending", B exists, A Active, no
	// InUseKeyID: B may have been delivered; refused, nothing changed.
	StatePending
	// StatePendingRejected: "pending", InUseKeyID = A: B is not in use; it
	// is deleted and A is rotated afresh.
	StatePendingRejected
	// StatePendingConfirmed: "pending", InUseKeyID = B, or A no longer
	// Active (B is the only key that can work): B's delivery is recorded,
	// then the rotation is finished.
	StatePendingConfirmed
	// StatePendingGone: "pending", B no longer exists (its creation was
	// rolled back), A Active: a fresh rotation of A.
	StatePendingGone
	// StateDelivered: "old=A new=B", B Active, InUseKeyID empty or B: the
	// remaining steps are finished without creating another key.
	StateDelivered
	// StateComplete: "old=A new=B", B Active and A gone or Inactive with its
	// deactivation recorded: only the record's removal failed; it is
	// removed (and A deleted with DeleteOld).
	StateComplete
	// StateDeliveredLost: the delivered (or named) key B is gone or
	// Inactive: finishing would leave no working key; refused.
	StateDeliveredLost
	// StateReactivated: the delivery is confirmed but A is Active and
	// carries its deactivation record: someone reactivated it, so someone
	// still uses it; refused.
	StateReactivated
	// StateInUseConflict: InUseKeyID names a key the record contradicts
	// (neither A nor B, or A once B's delivery is recorded); refused.
	StateInUseConflict

	numStates // the number of states; not a state
)

var stateNames = [numStates]string{
	StateIdle:             "idle",
	StateIntent:           "intent",
	StateIntentNamed:      "intent-named",
	StateOldTouched:       "old-touched",
	StatePending:          "pending",
	StatePendingRejected:  "pending-rejected",
	StatePendingConfirmed: "pending-confirmed",
	StatePendingGone:      "pending-gone",
	StateDelivered:        "delivered",
	StateComplete:         "complete",
	StateDeliveredLost:    "delivered-lost",
	StateReactivated:      "reactivated",
	StateInUseConflict:    "in-use-conflict",
}

// States lists every state, in order.
func States() []State {
	s := make([]State, numStates)
	for i := range s {
		s[i] = State(i)
	}
	return s
}

func (s State) String() string {
	if s < 0 || s >= numStates {
		return "unknown"
	}
	return stateNames[s]
}

// MarshalText writes the state's name (JSON shows it as a string).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	*s = numStates
	return nil
}

// situation is what classify finds: the state, the key the rotation
// replaces (A) and the key delivered or pending (B).
type situation struct {
	State State
	Old   string
	New   string
}

// classify names the state of l for a caller that says inUse is the key
// in use ("" if it does not say). It is pure, and never changes inUse: the
// plan functions get both.
func classify(l *live, inUse string) situation {
	rec := l.rec
	if rec == nil {
		return situation{State: StateIdle}
	}
	sit := situation{Old: rec.Old, New: rec.New}
	a, hasA := l.key(rec.Old)
	aActive := hasA && a.active()
	confirmed := rec.New != "" && !rec.Pending
	if rec.New == "" && inUse != "" && inUse != rec.Old {
		if _, ok := l.key(inUse); ok {
			sit.New, confirmed = inUse, true // the caller says the new key is in use
		}
	}
	n, hasN := l.key(sit.New)
	hasN = hasN && sit.New != ""
	switch {
	case hasN && inUse == sit.New:
		confirmed = true // the caller says it is in use
	case hasN && rec.Pending && !aActive && inUse == "":
		// The old key is touched only after delivery; the new key is the
		// only one left that can work.
		confirmed = true
	}
	if hasN && confirmed {
		_, aTagged := l.deactivated[rec.Old]
		switch {
		case inUse != "" && inUse != sit.New:
			sit.State = StateInUseConflict
		case !n.active():
			sit.State = StateDeliveredLost
		case aActive && aTagged:
			sit.State = StateReactivated
		case rec.New == "":
			sit.State = StateIntentNamed
		case rec.Pending:
			sit.State = StatePendingConfirmed
		case l.complete():
			sit.State = StateComplete
		default:
			sit.State = StateDelivered
		}
		return sit
	}
	switch {
	case rec.New != "" && !hasN && confirmed:
		sit.State = StateDeliveredLost
	case !aActive:
		sit.State = StateOldTouched
	case inUse != "" && inUse != rec.Old:
		sit.State = StateInUseConflict
	case hasN && inUse == "":
		sit.State = StatePending
	case hasN:
		sit.State = StatePendingRejected
	case rec.Pending:
		sit.State = StatePendingGone
	default:
		sit.State = StateIntent
	}
	return sit
}
