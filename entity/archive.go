package entity

import (
	"bytes"
	"encoding/json"
	"time"
)

// Bounds of a trigger's archive.
const (
	MaxArchiveDays = 90
	// MaxArchiveEvents is the most events one trigger's archive keeps; the
	// oldest go first.
	MaxArchiveEvents = 10_000
)

// ArchivePolicy keeps a trigger's fired events for replay, for Days days
// (and at most MaxArchiveEvents of them). In the trigger's JSON:
// "archive": {"days": 7}.
type ArchivePolicy struct {
	Days int `json:"days"`
}

// ArchivedEvent is one fired event as a trigger's archive keeps it: the
// fire's activation id (the cause of a replay's activations), when it was
// accepted, who fired it and the payload.
type ArchivedEvent struct {
	ActivationID string `json:"activationId"`
	Start        int64  `json:"start"`
	Subject      string `json:"subject"`
	Payload      Params `json:"payload"`
	// Event is the fire's CloudEvents attributes, for the rules' filters
	// at replay; nil when the fire had none.
	Event *EventAttributes `json:"event,omitempty"`
}

// applyArchive validates and applies the archive field of a trigger put:
// absent keeps it, null or {"days": 0} removes it.
func applyArchive(t *Trigger, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return nil
	case bytes.Equal(raw, []byte("null")):
		t.Archive = nil
		return nil
	}
	var in struct {
		Days *int `json:"days"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Invalid("archive", "must be an object {\"days\": n}: %v", err)
	}
	switch {
	case in.Days == nil:
		return Invalid("archive.days", "is missing")
	case *in.Days == 0:
		t.Archive = nil
	case *in.Days < 0 || *in.Days > MaxArchiveDays:
		return Invalid("archive.days", "must be between 1 and %d, not %d", MaxArchiveDays, *in.Days)
	default:
		t.Archive = &ArchivePolicy{Days: *in.Days}
	}
	return nil
}

// replayTimeLayouts are the forms a replay's since and until take.
var replayTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

// ParseReplayTime reads a replay bound: RFC 3339 ("2026-12-01T00:00:00Z"),
// the same without seconds ("2026-12-01T00:00Z"), or a date (UTC); ""
// is the zero time.
func ParseReplayTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range replayTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Invalid(field, "%q is not a time such as 2026-12-01T00:00Z or 2026-12-01", s)
}
