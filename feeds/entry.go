package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/tracing"
)

// record is a registration as stored. It keeps no key of the trigger's
// owner: the actions a fire starts that are annotated provide-api-key get
// activation keys from the invoker (package actionkey). Params are never
// logged or answered by READ unredacted.
type record struct {
	Registration
}

// outboxEvent is one delivered event waiting to be fired.
type outboxEvent struct {
	// Trigger is the registration key, namespace/trigger.
	Trigger string          `json:"trigger"`
	Seq     uint64          `json:"seq"`
	Payload json.RawMessage `json:"payload"`
	// Cursor is the source position after this event ("" keeps the
	// previous one): the newest pending event's cursor wins over the
	// registration's at a restart.
	Cursor  string `json:"cursor,omitempty"`
	Created int64  `json:"created"`
	// Trace is the trace context of the delivery (traceparent), so that
	// the fire, however late, joins the event's trace.
	Trace map[string]string `json:"trace,omitempty"`
	// Event is the event's CloudEvents attributes as the connector gave
	// them (issue 17; see events.go).
	Event *entity.EventAttributes `json:"event,omitempty"`

	// stored is the outcome of the event's write to the outbox, which
	// runs while the worker may already fire it; nil for an event read
	// back from the outbox.
	stored *storing
}

// storing is the outcome of one outbox write: done is closed once err is
// set. It is never waited for with entry.mu held while a delivery may be
// under way (deliver takes the lock before it closes done).
type storing struct {
	done chan struct{}
	err  error
}

// awaitStored waits until ev's outbox write has ended and returns its
// error: nil when ev is in the outbox.
func (ev outboxEvent) awaitStored() error {
	if ev.stored == nil {
		return nil
	}
	<-ev.stored.done
	return ev.stored.err
}

// key orders a trigger's events by sequence in the store.
func (ev outboxEvent) key() string { return fmt.Sprintf("%s/%020d", ev.Trigger, ev.Seq) }

// entry is one registered trigger: its registration, running feed and
// outbox worker.
type entry struct {
	m        *Manager
	fqn      entity.FQN
	key      string
	provider Provider // nil when the provider is not in this server
	// providerName is the registration's provider, the metrics' label.
	providerName string

	// op serialises lifecycle operations on this trigger (start, stop,
	// update, delete). It is held while a Feed starts or stops, so Sink
	// methods never take it.
	op   sync.Mutex
	feed Feed  // guarded by op
	sink *sink // guarded by op

	// delivering serialises Sink.Deliver, so that the events and cursors
	// of one feed keep their order.
	delivering sync.Mutex

	// mu guards the fields below. It is held during a store write of the
	// registration, never while calling a provider, firing or writing an
	// event.
	mu      sync.Mutex
	doc     record
	rev     string
	queue   []outboxEvent
	nextSeq uint64
	cursor  string // the newest delivered cursor (persisted in its event)
	// inflight counts the events taken off queue whose fire is not yet
	// durable (at the finisher): they are still in the outbox.
	inflight int
	removed  bool
	// unregistered is set once the provider's Unregister ran.
	unregistered bool
	// finish is set by Sink.Done; the worker acts once the queue drains.
	finish *bool

	wake    chan struct{} // buffered(1): an event is queued or finish set
	stop    chan struct{} // closed to stop the worker
	stopped chan struct{} // closed when the worker has exited
	working bool          // the worker was started; guarded by op
}

func (m *Manager) newEntry(fqn entity.FQN, p Provider, doc record, rev string, pending []outboxEvent) *entry {
	e := &entry{
		m: m, fqn: fqn, key: registrationKey(fqn), provider: p, providerName: doc.Provider, doc: doc, rev: rev,
		queue: pending, nextSeq: 1, cursor: doc.Cursor,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	for _, ev := range pending {
		e.nextSeq = ev.Seq + 1
		if ev.Cursor != "" {
			e.cursor = ev.Cursor
		}
	}
	return e
}

// sink is the Sink of one started Feed.
type sink struct {
	e       *entry
	stopped atomic.Bool
}

var _ Sink = (*sink)(nil)

func (s *sink) Deliver(ctx context.Context, ev Event) error {
	if s.stopped.Load() {
		return fmt.Errorf("deliver to the feed of %s: the feed is stopped", s.e.fqn)
	}
	return s.e.deliver(ctx, ev)
}

func (s *sink) Report(err error) {
	if s.stopped.Load() {
		return
	}
	if err != nil {
		s.e.setFailed(err)
		return
	}
	s.e.setHealthy()
}

func (s *sink) Done(deleteTrigger bool) {
	if s.stopped.Load() {
		return
	}
	e := s.e
	e.mu.Lock()
	e.finish = &deleteTrigger
	e.mu.Unlock()
	e.signal()
}

// deliver persists ev in the outbox and returns once it is durable, the
// source's cue to acknowledge it. The event is queued for the worker
// before the write, so its rules start while the outbox commits; the
// event leaves the outbox (and its cursor reaches the registration) only
// once both its fire and its write are durable. When the write fails, the
// error tells the source to deliver ev again: an event not fired yet is
// taken off the queue, one fired already (the action may have run) is
// made durable as a fire and fires again on the redelivery, at least once
// as always. A payload over the limits is refused (see refuse) and taken.
func (e *entry) deliver(ctx context.Context, ev Event) (err error) {
	ctx, span := e.span(ctx, "feeds.deliver", trace.SpanKindConsumer)
	defer span.End()
	e.delivering.Lock()
	defer e.delivering.Unlock()
	if ev.Payload == nil && ev.Cursor != "" {
		return e.checkpoint(ctx, ev.Cursor)
	}
	obs := e.m.cfg.Observer
	obs.FeedEventReceived(e.providerName, e.fqn)
	refused := false
	defer func() {
		if err != nil || refused {
			obs.FeedEventFailed(e.providerName, e.fqn)
		}
	}()
	if reason := e.m.overLimits(ev.Payload); reason != "" {
		refused = true
		return e.refuse(ctx, ev, reason)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev.Payload, &obj); err != nil || obj == nil {
		return fmt.Errorf("deliver to the feed of %s: the payload is not a JSON object", e.fqn)
	}
	e.mu.Lock()
	if e.removed {
		e.mu.Unlock()
		return fmt.Errorf("deliver to the feed of %s: the feed is deleted", e.fqn)
	}
	out := outboxEvent{
		Trigger: e.key, Seq: e.nextSeq, Payload: ev.Payload, Cursor: ev.Cursor, Created: time.Now().UnixMilli(), Trace: traceOf(ctx), Event: ev.Attributes,
		stored: &storing{done: make(chan struct{})},
	}
	e.nextSeq++
	e.queue = append(e.queue, out)
	e.signal()
	e.mu.Unlock()
	// The woken worker waits in this P's run queue; yielding runs it now
	// instead of after the write's syscalls hand the P over (on 2 vCPUs:
	// 30 µs from here to the fire instead of 140 µs).
	runtime.Gosched()
	_, err = store.PutDoc(ctx, e.m.store, SystemNamespace, store.FeedEvents, out.key(), "", out)
	e.mu.Lock()
	if err != nil {
		if i := slices.IndexFunc(e.queue, func(q outboxEvent) bool { return q.Seq == out.Seq }); i >= 0 {
			e.queue = slices.Delete(e.queue, i, i+1)
		}
	} else if ev.Cursor != "" {
		e.cursor = ev.Cursor
	}
	e.mu.Unlock()
	out.stored.err = err
	close(out.stored.done)
	if err != nil {
		return fmt.Errorf("deliver to the feed of %s: store the event: %w", e.fqn, err)
	}
	return nil
}

// refuse takes an event whose payload is over the limits without firing
// it: the source may acknowledge it (one bad message must not stall a
// feed whose source redelivers what is not acknowledged), and the refusal
// is logged and recorded as the registration's LastError, which READ and
// the CLI show. The event's cursor is kept.
func (e *entry) refuse(ctx context.Context, ev Event, reason string) error {
	e.m.log.Warn("feed event refused", "trigger", e.fqn.String(), "bytes", len(ev.Payload), "reason", reason)
	msg := "event refused: " + reason
	e.update(func(doc *record) bool {
		changed := doc.LastError != msg
		doc.LastError = msg
		return changed
	})
	if ev.Cursor != "" {
		return e.checkpoint(ctx, ev.Cursor)
	}
	return nil
}

// checkpoint records a source position with no event (a feed that starts
// at "now" pins it): saved at once when nothing is pending, else when the
// queue drains, as event cursors are.
func (e *entry) checkpoint(ctx context.Context, cursor string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return fmt.Errorf("checkpoint the feed of %s: the feed is deleted", e.fqn)
	}
	e.cursor = cursor
	if len(e.queue) > 0 || e.inflight > 0 {
		return nil
	}
	e.doc.Cursor = cursor
	return e.saveLocked(ctx)
}

func (e *entry) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// saveLocked writes the registration; e.mu is held.
func (e *entry) saveLocked(ctx context.Context) error {
	e.doc.Updated = time.Now().UnixMilli()
	rev, err := e.m.putRecord(ctx, e.key, e.rev, e.doc)
	if err != nil {
		return fmt.Errorf("save the feed registration of %s: %w", e.fqn, err)
	}
	e.rev = rev
	return nil
}

// update changes the registration with fn and saves it when fn reports a
// change.
func (e *entry) update(fn func(doc *record) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed || !fn(&e.doc) {
		return
	}
	if err := e.saveLocked(context.WithoutCancel(e.m.runCtx)); err != nil {
		e.m.log.Error("feed state not saved", "trigger", e.fqn.String(), "err", err)
	}
}

func (e *entry) setFailed(err error) {
	msg := err.Error()
	e.update(func(doc *record) bool {
		if doc.Status == StatusPaused || doc.Status == StatusFinished {
			return false
		}
		changed := doc.Status != StatusFailed || doc.LastError != msg
		doc.Status, doc.LastError = StatusFailed, msg
		return changed
	})
}

func (e *entry) setHealthy() {
	e.update(func(doc *record) bool {
		if doc.Status != StatusFailed {
			return false
		}
		doc.Status = StatusActive
		return true
	})
}

// setFireError records why firing failed; the status stays (the source is
// fine), READ shows it.
func (e *entry) setFireError(err error) {
	msg := "fire: " + err.Error()
	e.update(func(doc *record) bool {
		changed := doc.LastError != msg
		doc.LastError = msg
		return changed
	})
}

// snapshot is the registration handed to Provider.Start: the cursor is
// the newest delivered one.
func (e *entry) snapshot() Registration {
	e.mu.Lock()
	defer e.mu.Unlock()
	reg := e.doc.Registration
	reg.Cursor = e.cursor
	reg.Params = cloneParams(reg.Params)
	return reg
}

// startFeed starts the provider's feed; op is held.
func (e *entry) startFeed() error {
	if e.feed != nil {
		return nil
	}
	if e.provider == nil {
		return fmt.Errorf("provider %q is not available in this server", e.doc.Provider)
	}
	s := &sink{e: e}
	f, err := e.provider.Start(e.m.runCtx, e.snapshot(), s)
	if err != nil {
		s.stopped.Store(true)
		return err
	}
	e.feed, e.sink = f, s
	return nil
}

// startIfWanted starts a loaded feed unless it was paused, deleted or
// stopped meanwhile.
func (e *entry) startIfWanted() error {
	e.op.Lock()
	defer e.op.Unlock()
	e.mu.Lock()
	wanted := !e.removed && (e.doc.Status == StatusActive || e.doc.Status == StatusFailed)
	e.mu.Unlock()
	if !wanted || e.m.runCtx.Err() != nil {
		return nil
	}
	if err := e.startFeed(); err != nil {
		return err
	}
	e.setHealthy()
	return nil
}

// stopFeed stops the running feed, if any; op is held.
func (e *entry) stopFeed(ctx context.Context) error {
	if e.feed == nil {
		return nil
	}
	err := e.feed.Stop(ctx)
	e.sink.stopped.Store(true)
	e.feed, e.sink = nil, nil
	if err != nil {
		return fmt.Errorf("stop the feed of %s: %w", e.fqn, err)
	}
	return nil
}

func (e *entry) startWorker() {
	e.working = true
	go e.work()
}

// stopWorker stops the outbox worker and waits for it; op is held.
func (e *entry) stopWorker() {
	if !e.working {
		return
	}
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	<-e.stopped
}

// work fires the queued events in order, then acts on Sink.Done once the
// queue is empty. A fired event goes to the finisher (finishAll), which
// makes each fire durable and removes its event from the outbox, in order,
// while the worker fires the next: the commits of one event's fire do not
// hold up the next event's start.
func (e *entry) work() {
	finishing := make(chan firedEvent, maxFinishing)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		e.finishAll(finishing)
	}()
	defer func() {
		close(finishing)
		<-finished
		close(e.stopped)
	}()
	for {
		select {
		case <-e.stop:
			return
		default:
		}
		e.mu.Lock()
		var ev *outboxEvent
		if len(e.queue) > 0 {
			ev = &e.queue[0]
		}
		finish := e.finish
		if ev == nil {
			e.finish = nil
		}
		e.mu.Unlock()
		if ev == nil {
			if finish != nil {
				e.m.finish(e, *finish)
			}
			select {
			case <-e.wake:
				continue
			case <-e.stop:
				return
			}
		}
		f, ok := e.fire(*ev)
		if !ok {
			return
		}
		if f == nil {
			continue // dropped with the trigger
		}
		e.mu.Lock()
		if len(e.queue) > 0 && e.queue[0].Seq == f.ev.Seq {
			e.queue = e.queue[1:]
		}
		e.inflight++
		e.mu.Unlock()
		finishing <- *f
	}
}

// maxFinishing bounds the fired events of one feed waiting for their fire
// to be durable: beyond, the worker waits for the finisher.
const maxFinishing = 64

// firedEvent is an event whose rules have started, for the finisher.
type firedEvent struct {
	ev outboxEvent
	// keep makes the fire durable (see NowFirer); nil: it is already.
	keep func(context.Context) error
	// failed marks an event no fire can take, removed unfired.
	failed bool
}

// finishAll finishes the fired events in order until in is closed. The
// fires waiting together are made durable at once (their records share a
// commit); each event leaves the outbox only after those before it. When
// the worker is stopped while a fire cannot be made durable, that event
// and those behind it go back to the head of the queue (they are still in
// the outbox, fired again by the next worker or the next start).
func (e *entry) finishAll(in <-chan firedEvent) {
	for f := range in {
		batch := []firedEvent{f}
	gather:
		for len(batch) < maxFinishing {
			select {
			case g, ok := <-in:
				if !ok {
					break gather
				}
				batch = append(batch, g)
			default:
				break gather
			}
		}
		e.keepAll(batch)
		for i, f := range batch {
			if e.finishOne(f) {
				continue
			}
			back := make([]outboxEvent, 0, len(batch)-i)
			for _, f := range batch[i:] {
				back = append(back, f.ev)
			}
			for f := range in {
				back = append(back, f.ev)
			}
			e.mu.Lock()
			e.queue = append(back, e.queue...)
			e.inflight -= len(back)
			e.mu.Unlock()
			return
		}
	}
}

// keepAll makes the fires of batch durable at once; those that made it
// need no keep any more (finishOne retries the others).
func (e *entry) keepAll(batch []firedEvent) {
	if len(batch) < 2 {
		return
	}
	var wg sync.WaitGroup
	for i := range batch {
		if batch[i].keep == nil {
			continue
		}
		wg.Go(func() {
			if batch[i].keep(context.WithoutCancel(e.m.runCtx)) == nil {
				batch[i].keep = nil
			}
		})
	}
	wg.Wait()
}

// finishOne makes f's fire durable, retrying until it is (true) or the
// worker is stopped (false), then removes its event from the outbox.
func (e *entry) finishOne(f firedEvent) bool {
	if f.keep != nil {
		// Not cancelled by a stop: a keep under way ends (one commit).
		ctx, span := e.span(tracing.Extract(context.WithoutCancel(e.m.runCtx), f.ev.Trace), "feeds.keep", trace.SpanKindInternal)
		var b *backoff.ExponentialBackOff
		for {
			err := f.keep(ctx)
			if err == nil {
				break
			}
			e.m.log.Warn("a feed's fire is not durable yet; retrying", "trigger", e.fqn.String(), "seq", f.ev.Seq, "err", err)
			e.setFireError(err)
			if b == nil {
				b = e.m.backoff()
			}
			t := time.NewTimer(b.NextBackOff())
			select {
			case <-t.C:
			case <-e.stop:
				t.Stop()
				span.End()
				return false
			}
		}
		span.End()
	}
	if !f.failed {
		e.m.cfg.Observer.FeedEventFired(e.providerName, e.fqn, time.Since(time.UnixMilli(f.ev.Created)))
	}
	e.fired(f.ev, f.ev.awaitStored() == nil)
	return true
}

// fire fires ev until it succeeds or the worker is stopped (ok false). It
// returns the fired event for the finisher, or nil when ev was dropped
// with its trigger (see triggerGone).
func (e *entry) fire(ev outboxEvent) (f *firedEvent, ok bool) {
	ctx, span := e.span(tracing.Extract(e.m.runCtx, ev.Trace), "feeds.fire", trace.SpanKindProducer)
	defer span.End()
	var b *backoff.ExponentialBackOff
	for {
		keep, err := e.fireOnce(ctx, ev)
		if err == nil {
			return &firedEvent{ev: ev, keep: keep}, true
		}
		if errors.Is(err, store.ErrNotFound) {
			e.triggerGone() // counts ev among the dropped
			return nil, true
		}
		if _, invalid := entity.AsFieldError(err); invalid {
			// A stored payload no fire can take (written before the
			// limits of deliver): retrying would stall the feed for good.
			e.m.log.Error("feed event cannot be fired; removed from the outbox", "trigger", e.fqn.String(), "seq", ev.Seq, "err", err)
			e.setFireError(err)
			e.m.cfg.Observer.FeedEventFailed(e.providerName, e.fqn)
			return &firedEvent{ev: ev, failed: true}, true
		}
		e.m.log.Warn("firing a feed's trigger failed; retrying", "trigger", e.fqn.String(), "seq", ev.Seq, "err", err)
		e.setFireError(err)
		if b == nil {
			b = e.m.backoff()
		}
		t := time.NewTimer(b.NextBackOff())
		select {
		case <-t.C:
		case <-e.stop:
			t.Stop()
			return nil, false
		}
	}
}

// fireOnce fires ev once. With a NowFirer the rules start at once and the
// returned keep makes the fire durable (the event stays in the outbox
// until it has); otherwise the fire is durable (queued) when it returns.
func (e *entry) fireOnce(ctx context.Context, ev outboxEvent) (keep func(context.Context) error, err error) {
	payload, err := entity.ParamsFromObject("payload", ev.Payload)
	if err != nil {
		return nil, err
	}
	attrs, id := e.stampEvent(ev)
	req := routing.FireRequest{
		Trigger: e.fqn, Subject: e.fqn.Namespace, Payload: payload,
		TransactionID: entity.NewActivationID(), ActivationID: id, Event: attrs,
	}
	if now, ok := e.m.firer.(NowFirer); ok {
		return now.FireNow(ctx, req)
	}
	_, err = e.m.firer.Fire(ctx, req)
	return nil, err
}

// activationID is the id of ev's fire, the same each time ev is fired: an
// event fired again after a crash (the fire was queued, the outbox entry
// not yet removed) overwrites its records instead of adding new ones.
func (ev outboxEvent) activationID() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00", ev.Trigger, ev.Seq, ev.Created)
	h.Write(ev.Payload)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// fired removes ev, whose fire is durable, from the outbox (it left the
// queue when it was fired) unless its write failed (stored false: it is
// not there); when no event is queued or finishing, the registration takes
// the newest cursor first, so that a restart never goes back before ev.
func (e *entry) fired(ev outboxEvent, stored bool) {
	ctx := context.WithoutCancel(e.m.runCtx)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inflight--
	if len(e.queue) == 0 && e.inflight == 0 && e.cursor != e.doc.Cursor && !e.removed {
		e.doc.Cursor = e.cursor
		if err := e.saveLocked(ctx); err != nil {
			e.m.log.Error("feed cursor not saved; the event stays in the outbox", "trigger", e.fqn.String(), "err", err)
			return
		}
	}
	if stored {
		e.m.deleteEvent(ctx, ev)
	}
}

// triggerGone handles a fire of a trigger that no longer exists (deleted
// without DELETE): the pending events are dropped, the feed stops and the
// registration stays, failed, until DELETE or a new CREATE.
func (e *entry) triggerGone() {
	ctx := context.WithoutCancel(e.m.runCtx)
	e.mu.Lock()
	dropped := e.queue
	e.queue = nil
	e.doc.Status = StatusFailed
	e.doc.LastError = fmt.Sprintf("trigger %s does not exist any more; the feed is stopped (delete it, or create the trigger and the feed again)", e.fqn)
	if !e.removed {
		if err := e.saveLocked(ctx); err != nil {
			e.m.log.Error("feed state not saved", "trigger", e.fqn.String(), "err", err)
		}
	}
	e.mu.Unlock()
	for _, ev := range dropped {
		e.m.cfg.Observer.FeedEventFailed(e.providerName, e.fqn)
		if ev.awaitStored() == nil {
			e.m.deleteEvent(ctx, ev)
		}
	}
	e.m.log.Warn("feed stopped: its trigger is gone", "trigger", e.fqn.String(), "dropped", len(dropped))
	e.m.background(func() {
		e.op.Lock()
		defer e.op.Unlock()
		if err := e.stopFeed(ctx); err != nil {
			e.m.log.Error("stop feed", "trigger", e.fqn.String(), "err", err)
		}
	})
}

// finish acts on Sink.Done once the events are fired: the feed stops and
// the registration is finished, or (deleteTrigger) removed with its
// trigger. It runs in the background: the worker must not wait for op.
func (m *Manager) finish(e *entry, deleteTrigger bool) {
	m.background(func() {
		ctx := context.WithoutCancel(m.runCtx)
		e.op.Lock()
		defer e.op.Unlock()
		if err := e.stopFeed(ctx); err != nil {
			m.log.Error("stop finished feed", "trigger", e.fqn.String(), "err", err)
		}
		if !deleteTrigger {
			e.update(func(doc *record) bool {
				doc.Status = StatusFinished
				return true
			})
			m.log.Info("feed finished", "trigger", e.fqn.String())
			return
		}
		if m.runCtx.Err() != nil {
			return // closing: the next start finishes it
		}
		if _, err := m.triggers.DeleteTrigger(ctx, e.fqn); err != nil && !errors.Is(err, store.ErrNotFound) {
			m.log.Error("delete trigger after fire", "trigger", e.fqn.String(), "err", err)
			e.setFailed(fmt.Errorf("delete the trigger after fire: %w", err))
			return
		}
		if _, err := m.remove(ctx, e); err != nil {
			m.log.Error("remove finished feed", "trigger", e.fqn.String(), "err", err)
		}
		m.log.Info("feed finished; trigger deleted", "trigger", e.fqn.String())
	})
}

// remove stops e, undoes what its provider set up at the source
// (Registerer) and deletes its registration and pending events; op is
// held. unregErr says why the source could not be cleaned up: it does not
// keep the registration.
func (m *Manager) remove(ctx context.Context, e *entry) (unregErr, err error) {
	if err := e.stopFeed(ctx); err != nil {
		m.log.Error("stop feed", "trigger", e.fqn.String(), "err", err)
	}
	e.stopWorker()
	unregErr = m.unregister(ctx, e)
	// A delivery under way ends first (its event is then in the queue,
	// written, or out of it, failed); those after it find e removed.
	e.delivering.Lock()
	defer e.delivering.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.queue {
		if ev.awaitStored() == nil { // at once: no delivery is under way
			m.deleteEvent(ctx, ev)
		}
	}
	e.queue = nil
	if err := m.store.Delete(ctx, SystemNamespace, store.Feeds, e.key, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		return unregErr, fmt.Errorf("delete the feed registration of %s: %w", e.fqn, err)
	}
	e.removed = true
	m.mu.Lock()
	if m.entries[e.key] == e {
		delete(m.entries, e.key)
	}
	m.mu.Unlock()
	return unregErr, nil
}

// unregister calls the provider's Unregister for e's registration, once;
// a failure is logged and returned.
func (m *Manager) unregister(ctx context.Context, e *entry) error {
	r, ok := e.provider.(Registerer)
	e.mu.Lock()
	reg := e.doc.Registration
	done := e.unregistered
	e.unregistered = true
	e.mu.Unlock()
	if !ok || done {
		return nil
	}
	if err := r.Unregister(ctx, reg); err != nil {
		m.log.Warn("feed source not cleaned up", "trigger", e.fqn.String(), "err", err)
		return err
	}
	return nil
}

// background runs fn in a goroutine that Close waits for.
func (m *Manager) background(fn func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		fn()
	}()
}

func (m *Manager) backoff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = m.cfg.RetryMin, m.cfg.RetryMax
	return b
}

func cloneParams(p map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
