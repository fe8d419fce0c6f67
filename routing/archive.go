package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/eventfilter"
	"github.com/wispio/wisp/store"
)

// ArchiveCollection holds archived triggers' fired events, in the
// trigger's namespace, one record per event named
// "TRIGGER/<start ms, 13 digits>-<fire activation id>": a trigger's events
// list in the order they were accepted.
const ArchiveCollection store.Collection = "archive"

// Archive has f keep the fired events of triggers with an archive policy
// in st, for Replay.
func (f *Firer) Archive(st store.Store) { f.archives = st }

// DeleteArchive deletes the archived events of trigger from st (a
// trigger deleted, or created anew, starts without them).
func DeleteArchive(ctx context.Context, st store.Store, trigger entity.FQN) error {
	for {
		recs, err := st.List(ctx, trigger.Namespace, ArchiveCollection, store.ListOptions{Prefix: trigger.Name + "/", Limit: 100})
		if err != nil {
			return fmt.Errorf("delete the archive of trigger %s: %w", trigger, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			if err := st.Delete(ctx, trigger.Namespace, ArchiveCollection, rec.Name, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("delete the archive of trigger %s: %w", trigger, err)
			}
		}
	}
}

func archiveName(trigger string, start int64, id string) string {
	return fmt.Sprintf("%s/%013d-%s", trigger, start, id)
}

// archive keeps the event of fire q of entry's trigger, once the fire ran
// and its trigger activation is written (a fire run again stores it once),
// and prunes the archive by age and size.
func (f *Firer) archive(ctx context.Context, entry *TriggerEntry, q *queuedFire) error {
	if f.archives == nil {
		return nil
	}
	doc, err := json.Marshal(entity.ArchivedEvent{ActivationID: q.ActivationID, Start: q.Start, Subject: q.Request.Subject, Payload: q.Request.Payload, Event: q.Request.Event})
	if err != nil {
		return fmt.Errorf("archive fire %s: %w", q.ActivationID, err)
	}
	t := entry.Trigger
	_, err = f.archives.Put(ctx, store.Record{Namespace: t.Namespace, Collection: ArchiveCollection, Name: archiveName(t.Name, q.Start, q.ActivationID), Doc: doc})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("archive fire %s: %w", q.ActivationID, err)
	}
	// Every write drops the few oldest events past the age; one in 16 (by
	// the id's last hex digit) also counts the archive and drops the oldest
	// over entity.MaxArchiveEvents.
	if err := f.prune(ctx, t, entry.Archive, strings.HasSuffix(q.ActivationID, "0")); err != nil {
		f.log.Warn("prune a trigger's archive", "trigger", t.String(), "err", err)
	}
	return nil
}

// prune deletes the oldest archived events of trigger t past the policy's
// age (a few at a time) and, when count is set, those over
// entity.MaxArchiveEvents.
func (f *Firer) prune(ctx context.Context, t entity.FQN, p *entity.ArchivePolicy, count bool) error {
	prefix := t.Name + "/"
	cutoff := time.Now().Add(-time.Duration(p.Days) * 24 * time.Hour).UnixMilli()
	over := 0
	if count {
		n, err := f.archives.Count(ctx, t.Namespace, ArchiveCollection, prefix)
		if err != nil {
			return err
		}
		over = n - entity.MaxArchiveEvents
	}
	recs, err := f.archives.List(ctx, t.Namespace, ArchiveCollection, store.ListOptions{Prefix: prefix, Limit: max(over, 0) + 8})
	if err != nil {
		return err
	}
	for i, rec := range recs {
		if i >= over && archivedStart(rec.Name) >= cutoff {
			break
		}
		if err := f.archives.Delete(ctx, t.Namespace, ArchiveCollection, rec.Name, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// archivedStart reads the start time from an archive record's name.
func archivedStart(name string) int64 {
	_, rest, _ := strings.Cut(name, "/")
	var ms int64
	fmt.Sscanf(rest, "%013d", &ms)
	return ms
}

// ReplayRequest asks to fire a trigger's archived events again.
type ReplayRequest struct {
	Trigger entity.FQN
	// Subject is the namespace replaying; KeyExpires as in FireRequest.
	Subject    string
	KeyExpires time.Time
	// Since and Until bound the events' accept time; a zero Until is now.
	Since, Until time.Time
	// Rule, when set, limits the replay to that rule of the trigger.
	Rule *entity.FQN
	// Limit bounds the events one call replays (0: DefaultReplayLimit; at
	// most MaxReplayLimit); Continue, a ReplayResult's Next, resumes after
	// the last event the previous call replayed.
	Limit         int
	Continue      string
	TransactionID string
}

// DefaultReplayLimit and MaxReplayLimit bound the events one replay call
// fires (each call reads the archive in pages of replayPage events).
const (
	DefaultReplayLimit = 100
	MaxReplayLimit     = 1000
	replayPage         = 50
)

// ValidReplayContinue reports whether s is a replay continuation as
// ReplayResult.Next makes them ("<start ms, 13 digits>-<fire activation
// id>").
func ValidReplayContinue(s string) bool {
	ms, id, ok := strings.Cut(s, "-")
	if !ok || len(ms) != 13 || id == "" || len(id) > 64 {
		return false
	}
	for _, c := range ms {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Replayed is what one replayed activation became: its id (or the error
// that kept it from starting), its rule and its cause, the original fire.
type Replayed struct {
	Cause        string `json:"cause"`
	Rule         string `json:"rule"`
	ActivationID string `json:"activationId,omitempty"`
	Error        string `json:"error,omitempty"`
}

// ReplayResult is the outcome of one replay call.
type ReplayResult struct {
	// Events counts the archived events of the window this call replayed.
	Events      int        `json:"events"`
	Activations []Replayed `json:"activations"`
	// Next, when set, continues the replay (ReplayRequest.Continue): the
	// window holds more events than the call's limit.
	Next string `json:"next,omitempty"`
}

// Replay starts the trigger's active rules (or the one rule asked) again
// for the archived events accepted in the window, oldest first, at most
// req.Limit of them (ReplayResult.Next continues), with the trigger's
// current parameters under the event. Each activation is new, its cause
// the original fire's activation id, annotated replayed: true; no trigger
// activation is written, and the rules' retries and sinks do not apply.
// The rules' filters (as they are now) decide again on each event: a rule
// whose filter does not pass it is left out of the result.
// store.ErrNotFound when there is no such trigger; a *entity.FieldError on
// "rule" when the rule is not the trigger's.
func (f *Firer) Replay(ctx context.Context, req ReplayRequest) (*ReplayResult, error) {
	entry, ok := f.index.Lookup(req.Trigger)
	if !ok {
		return nil, fmt.Errorf("replay trigger %s: %w", req.Trigger, store.ErrNotFound)
	}
	var rules []IndexedRule
	for _, r := range entry.Rules {
		if r.Active && (req.Rule == nil || r.Rule == *req.Rule) {
			rules = append(rules, r)
		}
	}
	if req.Rule != nil && len(rules) == 0 {
		return nil, entity.Invalid("rule", "%s is not an active rule of trigger %s", req.Rule, req.Trigger)
	}
	res := &ReplayResult{Activations: []Replayed{}}
	err := f.eachArchived(ctx, req, func(ev *entity.ArchivedEvent) {
		res.Events++
		res.Activations = append(res.Activations, f.replayEvent(ctx, req, entry, rules, ev)...)
	}, &res.Next)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// replayEvent starts rules whose filters pass on one archived event.
func (f *Firer) replayEvent(ctx context.Context, req ReplayRequest, entry *TriggerEntry, rules []IndexedRule, ev *entity.ArchivedEvent) []Replayed {
	args := entry.Parameters.Merge(ev.Payload)
	var in *eventfilter.Input
	var out []Replayed
	for _, r := range rules {
		if r.Filter != nil {
			if in == nil {
				in = eventfilter.NewInput(args, ev.Event)
			}
			if r.Filter.decide(ctx, in) != "" {
				continue
			}
		}
		id, _, err := f.activator.Activate(ctx, Request{
			Action: r.Action, Subject: req.Subject, KeyExpires: req.KeyExpires, Payload: args,
			Cause: ev.ActivationID, TransactionID: req.TransactionID, Replayed: true,
		})
		rep := Replayed{Cause: ev.ActivationID, Rule: refString(r.Rule)}
		if err != nil {
			rep.Error = err.Error()
		} else {
			rep.ActivationID = id
		}
		out = append(out, rep)
	}
	return out
}

// eachArchived calls fn with the archived events of req's trigger in its
// window, oldest first, at most req.Limit of them, reading the archive a
// page at a time; when the window holds more, *next is set to the
// continuation after the last.
func (f *Firer) eachArchived(ctx context.Context, req ReplayRequest, fn func(*entity.ArchivedEvent), next *string) error {
	if f.archives == nil {
		return nil
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultReplayLimit
	}
	limit = min(limit, MaxReplayLimit)
	prefix := req.Trigger.Name + "/"
	after := prefix + fmt.Sprintf("%013d", req.Since.UnixMilli()) // before every name of that ms
	if req.Continue != "" {
		after = prefix + req.Continue
	}
	until := req.Until.UnixMilli()
	if req.Until.IsZero() {
		until = time.Now().UnixMilli()
	}
	for n := 0; n < limit; {
		want := min(replayPage, limit-n)
		recs, err := f.archives.List(ctx, req.Trigger.Namespace, ArchiveCollection, store.ListOptions{Prefix: prefix, StartAfter: after, Limit: want})
		if err != nil {
			return fmt.Errorf("replay trigger %s: list the archive: %w", req.Trigger, err)
		}
		for _, rec := range recs {
			if archivedStart(rec.Name) > until {
				return nil
			}
			after = rec.Name
			n++
			var ev entity.ArchivedEvent
			if err := json.Unmarshal(rec.Doc, &ev); err != nil {
				f.log.Warn("skip an archived event that does not decode", "trigger", req.Trigger.String(), "name", rec.Name, "err", err)
				continue
			}
			fn(&ev)
		}
		if len(recs) < want {
			return nil // the archive ends
		}
	}
	// The limit is reached: more when the next event is in the window.
	recs, err := f.archives.List(ctx, req.Trigger.Namespace, ArchiveCollection, store.ListOptions{Prefix: prefix, StartAfter: after, Limit: 1})
	if err != nil {
		return fmt.Errorf("replay trigger %s: list the archive: %w", req.Trigger, err)
	}
	if len(recs) == 1 && archivedStart(recs[0].Name) <= until {
		*next = strings.TrimPrefix(after, prefix)
	}
	return nil
}

// archived lists the archived events of req's trigger in its window (at
// most req.Limit).
func (f *Firer) archived(ctx context.Context, req ReplayRequest) ([]entity.ArchivedEvent, error) {
	var out []entity.ArchivedEvent
	var next string
	err := f.eachArchived(ctx, req, func(ev *entity.ArchivedEvent) { out = append(out, *ev) }, &next)
	return out, err
}
