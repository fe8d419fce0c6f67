package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// ActivationSink stores activation records without waiting for them to be
// durable (the write-behind store, as the invoker uses).
type ActivationSink interface {
	PutActivations(ctx context.Context, acts []*entity.Activation) error
}

// maxFanOut bounds how many of one fire's rules start at once.
const maxFanOut = 16

// Firer fires triggers: it finds the trigger's rules in the RuleIndex,
// starts each active rule's action through the Activator (not waiting for
// it) and records the trigger activation.
type Firer struct {
	index     *RuleIndex
	activator *Activator
	sink      ActivationSink
	log       *slog.Logger
	// queue, when set, receives accepted fires to run on any controller
	// (see Queue).
	queue message.Publisher
	// sinks sends rules' results to HTTP sinks (see SinkClient).
	sinks cloudevents.Client
	// archives keeps archived triggers' events (see Archive).
	archives store.Store
}

// NewFirer returns a firer over index, starting actions with activator and
// recording trigger activations in sink.
func NewFirer(index *RuleIndex, activator *Activator, sink ActivationSink, log *slog.Logger) *Firer {
	return &Firer{index: index, activator: activator, sink: sink, log: log}
}

// FireRequest asks for one fire of a trigger.
type FireRequest struct {
	Trigger entity.FQN
	// Subject is the namespace firing; its actions run on its behalf and
	// the trigger activation is recorded in it. KeyExpires bounds the
	// activation keys of its provide-api-key actions (Request.KeyExpires);
	// the caller's key itself stays off the triggers queue.
	Subject    string
	KeyExpires time.Time `json:",omitzero"`
	// Payload is the event; it wins over the trigger's parameters.
	Payload       entity.Params
	TransactionID string
	// ActivationID, when set, is the fire's activation id (its rules'
	// activation ids derive from it): a source that may fire one event
	// twice (a feed's outbox after a crash) gives each event its own
	// stable id, so the event's records stay one each.
	ActivationID string `json:",omitempty"`

	// Filters (issue 17, see filtering.go). Event is the fire's CloudEvents
	// attributes (nil: none known), which rule filters see as event.*.
	Event *entity.EventAttributes `json:",omitempty"`
	// FiltersDecided marks a fire whose rules' filters were decided when it
	// was accepted: FilterPassed lists the rules ("ns/name") whose filter
	// passed, FilterErrors those whose filter failed, with the error; a
	// rule with a filter in neither did not match (a rule linked since
	// the fire was accepted included). Kept this small so that a fire of
	// a trigger with many filtered rules stays a small message.
	FiltersDecided bool              `json:",omitempty"`
	FilterPassed   []string          `json:",omitempty"`
	FilterErrors   map[string]string `json:",omitempty"`

	// hold, set by FireNow, holds the rules' invocations (see hold).
	hold *hold
}

// RuleResult is what one rule did with a fire, as OpenWhisk logs it in the
// trigger activation: the action's activation id, or an error.
type RuleResult struct {
	StatusCode   int    `json:"statusCode"`
	Success      bool   `json:"success"`
	ActivationID string `json:"activationId,omitempty"`
	Error        string `json:"error,omitempty"`
	Rule         string `json:"rule"`
	Action       string `json:"action"`
	// Filtered marks a rule whose filter did not match (issue 17). When
	// several rules are filtered out for the same reason, one log line
	// stands for them (see groupLine): Count says how many, Rules lists
	// them (the first maxListed).
	Filtered bool     `json:"filtered,omitempty"`
	Count    int      `json:"count,omitempty"`
	Rules    []string `json:"rules,omitempty"`
	reason   string   // why it was filtered out
}

// FireResult is the outcome of a fire.
type FireResult struct {
	// Activation is the trigger activation record.
	Activation *entity.Activation
	// Rules are the results per rule, in rule name order.
	Rules []RuleResult
}

// Fire fires a trigger. It returns nil and no error when the trigger has no
// active rule (nothing runs and nothing is recorded, as in OpenWhisk), and
// an error wrapping store.ErrNotFound when there is no such trigger, a
// *throttle.Error when req.Subject is over its fires per minute. The
// actions are started, not awaited; once accepted, a fire completes even
// when ctx ends.
func (f *Firer) Fire(ctx context.Context, req FireRequest) (*FireResult, error) {
	res, _, err := f.fire(ctx, req, nil)
	return res, err
}

// fire is Fire, or FireNow when now is set.
func (f *Firer) fire(ctx context.Context, req FireRequest, now DurableSink) (*FireResult, func(context.Context) error, error) {
	ctx, span := f.controller().startSpan(ctx, "routing.Fire", trace.SpanKindProducer)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attrTrigger.String(req.Trigger.String()), attrNamespace.String(req.Subject))
	}
	if th := f.activator.ctrl.throttle; th != nil {
		if err := th.CheckFire(ctx, req.Subject); err != nil {
			return nil, nil, fmt.Errorf("fire trigger %s: %w", req.Trigger, err)
		}
	}
	entry, ok := f.index.Lookup(req.Trigger)
	if !ok {
		return nil, nil, fmt.Errorf("fire trigger %s: %w", req.Trigger, store.ErrNotFound)
	}
	if entry.Active == 0 {
		return nil, nil, nil
	}
	start := time.Now()
	id := req.ActivationID
	if id == "" {
		id = entity.NewActivationID()
	}
	if entry.Filtered > 0 {
		if matched := f.decideFilters(ctx, &req, entry); matched == 0 {
			res, err := f.recordFilteredOut(ctx, req, entry, id, start)
			if err == nil && entry.Archive != nil {
				// Archived all the same, so that a replay with other
				// filters can start it (see archive.go).
				q := queuedFire{ActivationID: id, Start: start.UnixMilli(), Request: req}
				if aerr := f.archive(ctx, entry, &q); aerr != nil {
					f.log.Error("archive a fire no filter passed", "activationId", id, "trigger", req.Trigger.String(), "err", aerr)
				}
			}
			return res, nil, err
		}
	}
	if now != nil {
		res, keep := f.runNow(ctx, req, entry, id, start, now)
		return res, keep, nil
	}
	if f.queue != nil {
		res, err := f.enqueue(ctx, req, id, start)
		return res, nil, err
	}
	act, results := f.run(context.WithoutCancel(ctx), req, entry, id, start)
	if err := f.sink.PutActivations(ctx, []*entity.Activation{act}); err != nil {
		f.log.Error("store trigger activation", "activationId", id, "namespace", req.Subject, "trigger", req.Trigger.String(), "err", err)
	}
	return &FireResult{Activation: act, Rules: results}, nil, nil
}

// run starts the active rules' actions of a fire and returns the trigger
// activation and the rules' results. Each rule's activation id derives from
// the fire's, so a fire run twice starts each action under the same id.
func (f *Firer) run(ctx context.Context, req FireRequest, entry *TriggerEntry, id string, start time.Time) (*entity.Activation, []RuleResult) {
	args := entry.Parameters.Merge(req.Payload)
	results := make([]RuleResult, len(entry.Rules))
	pass := f.filterPass(ctx, req, entry, args)
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxFanOut)
	for i, r := range entry.Rules {
		if !r.Active {
			results[i] = inactiveResult(r)
			continue
		}
		if reason := pass(i, r); reason != "" {
			results[i] = filteredResult(r, reason)
			continue
		}
		if entry.Active == 1 {
			results[i] = f.activate(ctx, req, r, args, id, start)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = f.activate(ctx, req, r, args, id, start)
		}()
	}
	wg.Wait()
	return f.triggerActivation(req, entry, id, start, results), results
}

// activate starts one rule's action with the trigger activation as cause.
func (f *Firer) activate(ctx context.Context, req FireRequest, r IndexedRule, args entity.Params, cause string, accepted time.Time) RuleResult {
	res := RuleResult{Rule: refString(r.Rule), Action: refString(r.Action)}
	ctx, span := f.controller().startSpan(ctx, "routing.rule", trace.SpanKindInternal)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attrRule.String(res.Rule), attrAction.String(res.Action))
	}
	delivery := f.firstAttempt(req, r, cause)
	actID, _, err := f.activator.Activate(ctx, Request{
		Action: r.Action, Subject: req.Subject, KeyExpires: req.KeyExpires, Payload: args,
		Cause: cause, TransactionID: req.TransactionID, Accepted: accepted,
		ActivationID: RuleActivationID(cause, r.Rule), Delivery: delivery, hold: req.hold,
	})
	var throttled *throttle.Error
	var forbidden *ForbiddenError
	switch {
	case err == nil:
		res.StatusCode, res.Success, res.ActivationID = entity.StatusSuccess, true, actID
	case errors.Is(err, store.ErrNotFound):
		res.StatusCode, res.Error = entity.StatusApplicationError, "The requested resource does not exist."
	case errors.As(err, &throttled):
		// OpenWhisk's rules invoke through its API, where a 429 is an
		// application error carrying the refusal's message.
		res.StatusCode, res.Error = entity.StatusApplicationError, throttled.Error()
	case errors.As(err, &forbidden):
		// Likewise a 403: the action's package is no longer shared.
		res.StatusCode, res.Error = entity.StatusApplicationError, forbidden.Error()
	case errors.Is(err, ErrNoInvoker):
		res.StatusCode, res.Error = entity.StatusWhiskError, "No invokers available."
	default:
		res.StatusCode, res.Error = entity.StatusWhiskError, "Internal server error"
		f.log.Error("trigger-fired action failed to start", "activationId", actID, "cause", cause, "action", r.Action.String(), "err", err)
	}
	if delivery != nil && err != nil {
		if derr := f.startFailed(ctx, delivery, res, actID); derr != nil {
			f.log.Error("schedule the retry of a rule's activation that failed to start", "activationId", actID, "rule", res.Rule, "err", derr)
		}
	}
	return res
}

func inactiveResult(r IndexedRule) RuleResult {
	rule, action := refString(r.Rule), refString(r.Action)
	return RuleResult{
		StatusCode: entity.StatusApplicationError, Rule: rule, Action: action,
		Error: fmt.Sprintf("Rule '%s' is inactive, action '%s' was not activated.", rule, action),
	}
}

// triggerActivation shapes the record of a fire as OpenWhisk does: the
// payload as a successful result, one log line per rule, no end time.
func (f *Firer) triggerActivation(req FireRequest, e *TriggerEntry, id string, start time.Time, results []RuleResult) *entity.Activation {
	return f.triggerRecord(req, e, id, start, ruleLogs(results)) // ruleLogs: filtering.go
}

// triggerRecord is the trigger activation of a fire with these log lines.
// A fire of an event (a CloudEvent, a feed's) is annotated "cloudevent"
// with the event's id, source, type, subject and time.
func (f *Firer) triggerRecord(req FireRequest, e *TriggerEntry, id string, start time.Time, logs []string) *entity.Activation {
	annotations := entity.Params{}
	if ev := req.Event; ev != nil {
		annotations = annotations.Set("cloudevent", eventAnnotation{ID: ev.ID, Source: ev.Source, Type: ev.Type, Subject: ev.Subject, Time: ev.Time})
	}
	return &entity.Activation{
		ActivationID: id,
		Namespace:    req.Subject,
		Name:         req.Trigger.Name,
		Version:      e.Version,
		Subject:      req.Subject,
		Start:        start.UnixMilli(),
		Response:     entity.NewResponse(entity.StatusSuccess, req.Payload.Object()),
		Logs:         logs,
		Annotations:  annotations,
	}
}

// eventAnnotation is the "cloudevent" annotation of a trigger activation.
type eventAnnotation struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Type    string `json:"type"`
	Subject string `json:"subject,omitempty"`
	Time    string `json:"time,omitempty"`
}

// refString renders a name as OpenWhisk's logs do: "ns[/pkg]/name".
func refString(f entity.FQN) string { return entity.RefOf(f).String() }

// RuleActivationID is the activation id of rule's action in the fire whose
// activation id is cause.
func RuleActivationID(cause string, rule entity.FQN) string {
	h := sha256.New()
	h.Write([]byte(cause))
	h.Write([]byte{0})
	h.Write([]byte(rule.String()))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
