package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// ResultEventType is the CloudEvents type of a rule's activation result
// sent to its sink.
const ResultEventType = "io.wisp.activation.result"

// defaultSinkRetry is how a sink is retried for a rule without a retry
// policy of its own.
var defaultSinkRetry = entity.RetryPolicy{Attempts: 3, Backoff: entity.BackoffPolicy{Initial: 1000, Max: 32000}}

// SinkClient has f send rules' results to HTTP sinks with c, which must
// dial through the egress policy (tenants name the URLs). Without one,
// HTTP sinks fail.
func (f *Firer) SinkClient(c *http.Client) error {
	p, err := cehttp.New(cehttp.WithClient(*c))
	if err != nil {
		return fmt.Errorf("cloudevents sink protocol: %w", err)
	}
	ce, err := cloudevents.NewClient(p, cloudevents.WithTimeNow())
	if err != nil {
		return fmt.Errorf("cloudevents sink client: %w", err)
	}
	f.sinks = ce
	return nil
}

// ResultEvent is the CloudEvent of a successful attempt o of delivery d:
// id the activation id (the same on every repeat, for the receiver's
// dedupe), source the rule, subject the action, data the result, and the
// fire's activation id and trigger as the extensions wispcause and
// wisptrigger.
func ResultEvent(d *Delivery, o *Outcome) (cloudevents.Event, error) {
	e := cloudevents.NewEvent()
	e.SetID(o.ActivationID)
	e.SetSource("/api/v1/namespaces/" + d.Rule.Namespace + "/rules/" + d.Rule.Name)
	e.SetType(ResultEventType)
	e.SetSubject(d.Action.String())
	e.SetTime(time.Now())
	e.SetExtension("wispcause", d.Fire)
	e.SetExtension("wisptrigger", d.Trigger.String())
	result := o.Result
	if len(result) == 0 {
		result = json.RawMessage("{}")
	}
	if err := e.SetData(cloudevents.ApplicationJSON, []byte(result)); err != nil {
		return e, fmt.Errorf("result event of %s: %w", o.ActivationID, err)
	}
	return e, nil
}

// resultAttributes are ResultEvent's attributes, which a trigger sink's
// fire carries for its rules' filters (event.type, event.source, ...).
func resultAttributes(d *Delivery, o *Outcome) *entity.EventAttributes {
	return &entity.EventAttributes{
		ID: o.ActivationID, Source: "/api/v1/namespaces/" + d.Rule.Namespace + "/rules/" + d.Rule.Name,
		Type: ResultEventType, Subject: d.Action.String(), Time: time.Now().UTC().Format(time.RFC3339Nano),
		SpecVersion: cloudevents.VersionV1, DataContentType: cloudevents.ApplicationJSON,
		Extensions: map[string]string{"wispcause": d.Fire, "wisptrigger": d.Trigger.String()},
	}
}

// toSink makes attempt n to deliver the successful outcome o of d to the
// rule's sink. A failed attempt is scheduled again after the backoff of
// the rule's retry policy (or defaultSinkRetry); after the last, the
// dead-letter trigger, if any, gets the event and the failure.
func (f *Firer) toSink(ctx context.Context, d *Delivery, o *Outcome, n int) error {
	err := f.send(ctx, d, o)
	if err == nil {
		return nil
	}
	policy := d.Policy.Retry
	if policy == nil {
		policy = &defaultSinkRetry
	}
	f.log.Warn("deliver a rule's result to its sink", "activationId", o.ActivationID, "rule", d.Rule.String(), "sink", d.Policy.Sink, "attempt", n, "err", err)
	if n < policy.Attempts {
		return f.scheduleSink(ctx, d, o, n+1, time.Now().Add(policy.Delay(n)))
	}
	if d.Policy.DeadLetter == "" {
		return nil
	}
	last := *d
	last.Attempt = n
	return f.deadLetter(ctx, &last, &Outcome{ActivationID: o.ActivationID, StatusCode: o.StatusCode, Status: "sink delivery failed", Error: err.Error()})
}

// send delivers o once: a POST of the CloudEvent (binary mode) to an HTTP
// sink, acknowledged by a 2xx; or a fire of the sink trigger with the
// result as its payload, under an id derived from the activation.
func (f *Firer) send(ctx context.Context, d *Delivery, o *Outcome) error {
	if trigger, ok := d.Policy.SinkTrigger(); ok {
		_, err := f.Fire(ctx, FireRequest{
			Trigger: trigger, Subject: d.Subject, Payload: eventParams(o.Result),
			TransactionID: d.TransactionID, ActivationID: RuleActivationID(o.ActivationID, trigger),
			Event: resultAttributes(d, o),
		})
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("sink trigger %s does not exist", trigger)
		}
		return err
	}
	if f.sinks == nil {
		return errors.New("no HTTP client for sinks")
	}
	e, err := ResultEvent(d, o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res := f.sinks.Send(cloudevents.ContextWithTarget(ctx, d.Policy.Sink), e)
	if cloudevents.IsACK(res) {
		return nil
	}
	return fmt.Errorf("sink %s: %w", d.Policy.Sink, res)
}

// scheduleSink queues attempt n of delivering o to the sink, due at due.
func (f *Firer) scheduleSink(ctx context.Context, d *Delivery, o *Outcome, n int, due time.Time) error {
	return f.publishStep(ctx, deliveryStep{Delivery: *d, Outcome: o, Sink: n}, o.ActivationID+".sink."+fmt.Sprint(n), due)
}
