package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// request is one invocation of a feed action.
type request struct {
	event   string
	trigger entity.FQN
	authKey string
	params  map[string]json.RawMessage // the user's
}

// handler is the builtin handler of /whisk.system/<provider>/<feed>.
func (m *Manager) handler(p Provider, feed string) builtin.Func {
	return func(ctx context.Context, call builtin.Call) (json.RawMessage, error) {
		req, err := parseRequest(call)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		started, closed := m.started, m.closed
		m.mu.Unlock()
		if !started || closed {
			return nil, builtin.Errorf("feeds are not running on this server")
		}
		holder, err := m.owner(ctx, registrationKey(req.trigger))
		if err != nil {
			return nil, err
		}
		if holder != "" {
			return m.cfg.Cluster.Forward.Forward(ctx, holder, HandlerName(p.Name(), feed), call)
		}
		var answer any
		switch req.event {
		case Create:
			answer, err = m.create(ctx, p, feed, req)
		case Read:
			answer, err = m.read(req)
		case Update:
			answer, err = m.updateFeed(ctx, req)
		case Pause:
			answer, err = m.pause(ctx, req)
		case Unpause:
			answer, err = m.unpause(req)
		case Delete:
			answer, err = m.delete(ctx, req)
		}
		if err != nil {
			return nil, err
		}
		return json.Marshal(answer)
	}
}

func parseRequest(call builtin.Call) (*request, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(call.Params, &params); err != nil {
		return nil, builtin.Errorf("parameters: not a JSON object")
	}
	str := func(key string) (string, error) {
		raw, ok := params[key]
		delete(params, key)
		if !ok {
			return "", nil
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", builtin.Errorf("%s: must be a string", key)
		}
		return strings.TrimSpace(s), nil
	}
	event, err := str("lifecycleEvent")
	if err != nil {
		return nil, err
	}
	triggerName, err := str("triggerName")
	if err != nil {
		return nil, err
	}
	authKey, err := str("authKey")
	if err != nil {
		return nil, err
	}
	event = strings.ToUpper(event)
	switch event {
	case Create, Read, Update, Pause, Unpause, Delete:
	case "":
		return nil, builtin.Errorf("lifecycleEvent: missing; one of CREATE, READ, UPDATE, PAUSE, UNPAUSE, DELETE")
	default:
		return nil, builtin.Errorf("lifecycleEvent: %q is not one of CREATE, READ, UPDATE, PAUSE, UNPAUSE, DELETE", event)
	}
	trigger, err := parseTriggerName(triggerName, call.Namespace)
	if err != nil {
		return nil, err
	}
	return &request{event: event, trigger: trigger, authKey: authKey, params: params}, nil
}

// parseTriggerName reads "/ns/T", "ns/T" or "T" ("_" and no namespace mean
// the caller's) and checks the trigger is the caller's.
func parseTriggerName(s, caller string) (entity.FQN, error) {
	if s == "" {
		return entity.FQN{}, builtin.Errorf("triggerName: missing; the trigger to wire, /namespace/name")
	}
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	var f entity.FQN
	switch len(parts) {
	case 1:
		f = entity.FQN{Namespace: caller, Name: parts[0]}
	case 2:
		f = entity.FQN{Namespace: parts[0], Name: parts[1]}
	default:
		return entity.FQN{}, builtin.Errorf("triggerName: %q is not a trigger name of the form /namespace/name", s)
	}
	if f.Namespace == entity.DefaultNamespace {
		f.Namespace = caller
	}
	if err := f.Validate("triggerName"); err != nil {
		return entity.FQN{}, builtin.Errorf("triggerName: %q is not a valid trigger name", s)
	}
	if f.Namespace != caller {
		return entity.FQN{}, builtin.Errorf("triggerName: trigger %s is not in your namespace %s", f, caller)
	}
	return f, nil
}

// ack is the answer of CREATE, UPDATE, PAUSE, UNPAUSE and DELETE.
type ack struct {
	OK      bool   `json:"ok"`
	Trigger string `json:"trigger"`
	Feed    string `json:"feed,omitempty"`
	Status  string `json:"status,omitempty"`
	// Endpoint is the URL that the source posts to (Endpointer).
	Endpoint string `json:"endpoint,omitempty"`
	// Warning says what DELETE could not undo at the source.
	Warning string `json:"warning,omitempty"`
}

func (e *entry) ack() ack {
	e.mu.Lock()
	defer e.mu.Unlock()
	return ack{OK: true, Trigger: e.fqn.String(), Feed: feedName(e.doc.Registration), Status: e.doc.Status, Endpoint: e.endpointLocked()}
}

// endpointLocked is the feed's Endpoint, if its provider has one; e.mu is
// held.
func (e *entry) endpointLocked() string {
	if ep, ok := e.provider.(Endpointer); ok {
		return ep.Endpoint(e.doc.Registration)
	}
	return ""
}

func feedName(r Registration) string {
	return "/" + SystemNamespace + "/" + r.Provider + "/" + r.Feed
}

func (m *Manager) create(ctx context.Context, p Provider, feed string, req *request) (any, error) {
	if _, err := m.store.Get(ctx, req.trigger.Namespace, store.Triggers, req.trigger.Name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, builtin.Errorf("triggerName: trigger %s does not exist; create it first", req.trigger)
		}
		return nil, fmt.Errorf("read trigger %s: %w", req.trigger, err)
	}
	if err := p.Validate(ctx, feed, req.params); err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	doc := record{Registration: Registration{
		Trigger: req.trigger.String(), Provider: p.Name(), Feed: feed, Params: req.params,
		Status: StatusActive, Created: now, Updated: now,
	}}
	e, err := m.claim(ctx, req.trigger, p, doc)
	if err != nil {
		return nil, err
	}
	defer e.op.Unlock()
	if r, ok := p.(Registerer); ok {
		state, err := r.Register(ctx, doc.Registration)
		if err != nil {
			m.unclaim(e)
			return nil, err
		}
		doc.State = state
		e.mu.Lock()
		e.doc.State = state
		e.mu.Unlock()
	}
	rev, err := m.putRecord(ctx, e.key, "", doc)
	if err != nil {
		_ = m.unregister(context.WithoutCancel(ctx), e)
		m.unclaim(e)
		return nil, fmt.Errorf("store the feed registration of %s: %w", req.trigger, err)
	}
	e.mu.Lock()
	e.rev = rev
	e.mu.Unlock()
	e.startWorker()
	if err := e.startFeed(); err != nil {
		if _, rerr := m.remove(context.WithoutCancel(ctx), e); rerr != nil {
			m.log.Error("undo a failed feed CREATE", "trigger", req.trigger.String(), "err", rerr)
		}
		return nil, err
	}
	m.log.Info("feed created", "trigger", req.trigger.String(), "feed", feedName(doc.Registration))
	return e.ack(), nil
}

// claim inserts a new entry for trigger, with op held, replacing a
// finished or failed registration; a live one is an error.
func (m *Manager) claim(ctx context.Context, trigger entity.FQN, p Provider, doc record) (*entry, error) {
	key := registrationKey(trigger)
	for {
		m.mu.Lock()
		old := m.entries[key]
		if old == nil {
			e := m.newEntry(trigger, p, doc, "", nil)
			e.op.Lock()
			m.entries[key] = e
			m.mu.Unlock()
			return e, nil
		}
		m.mu.Unlock()
		old.op.Lock()
		old.mu.Lock()
		status, removed, name := old.doc.Status, old.removed, feedName(old.doc.Registration)
		old.mu.Unlock()
		if !removed && status != StatusFinished && status != StatusFailed {
			old.op.Unlock()
			return nil, builtin.Errorf("triggerName: trigger %s already has a feed (%s); delete it first, or send UPDATE", trigger, name)
		}
		_, err := m.remove(ctx, old)
		old.op.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// unclaim drops an entry whose registration was never stored; op is held.
func (m *Manager) unclaim(e *entry) {
	e.mu.Lock()
	e.removed = true
	e.mu.Unlock()
	m.mu.Lock()
	if m.entries[e.key] == e {
		delete(m.entries, e.key)
	}
	m.mu.Unlock()
}

// live returns the trigger's entry with op held, or an error naming the
// trigger when it has no feed.
func (m *Manager) live(req *request) (*entry, error) {
	e := m.lookup(registrationKey(req.trigger))
	if e != nil {
		e.op.Lock()
		e.mu.Lock()
		removed := e.removed
		e.mu.Unlock()
		if !removed {
			return e, nil
		}
		e.op.Unlock()
	}
	return nil, builtin.Errorf("triggerName: trigger %s has no feed", req.trigger)
}

// ReadAnswer is what READ answers: the registration with its secrets
// redacted, and how many events wait to be fired.
type ReadAnswer struct {
	Trigger   string                     `json:"trigger"`
	Feed      string                     `json:"feed"`
	Status    string                     `json:"status"`
	LastError string                     `json:"lastError,omitempty"`
	Endpoint  string                     `json:"endpoint,omitempty"`
	Config    map[string]json.RawMessage `json:"config"`
	Pending   int                        `json:"pending"`
	Created   int64                      `json:"created"`
	Updated   int64                      `json:"updated"`
}

func (m *Manager) read(req *request) (any, error) {
	e, err := m.live(req)
	if err != nil {
		return nil, err
	}
	defer e.op.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	return ReadAnswer{
		Trigger: e.fqn.String(), Feed: feedName(e.doc.Registration), Status: e.doc.Status,
		LastError: e.doc.LastError, Endpoint: e.endpointLocked(), Config: Redacted(m.declaredParams(e.doc.Registration), e.doc.Params), Pending: len(e.queue) + e.inflight,
		Created: e.doc.Created, Updated: e.doc.Updated,
	}, nil
}

// updateFeed merges the new parameters over the registered ones,
// validates them and restarts the feed; when the new feed does not start,
// the old parameters come back.
func (m *Manager) updateFeed(ctx context.Context, req *request) (any, error) {
	e, err := m.live(req)
	if err != nil {
		return nil, err
	}
	defer e.op.Unlock()
	if len(req.params) == 0 {
		return nil, builtin.Errorf("parameters: UPDATE needs at least one parameter to change")
	}
	if e.provider == nil {
		return nil, builtin.Errorf("triggerName: the provider of %s is not available in this server", req.trigger)
	}
	e.mu.Lock()
	old := e.doc
	e.mu.Unlock()
	merged := cloneParams(old.Params)
	for k, v := range req.params {
		merged[k] = v
	}
	if err := e.provider.Validate(ctx, old.Feed, merged); err != nil {
		return nil, err
	}
	state := old.State
	if r, ok := e.provider.(Registerer); ok {
		reg := old.Registration
		reg.Params = merged
		if state, err = r.Register(ctx, reg); err != nil {
			return nil, err
		}
	}
	if err := e.stopFeed(ctx); err != nil {
		return nil, err
	}
	if err := e.save(ctx, func(doc *record) {
		doc.Params, doc.State = merged, state
		if doc.Status != StatusPaused {
			doc.Status, doc.LastError = StatusActive, ""
		}
	}); err != nil {
		return nil, err
	}
	if old.Status == StatusPaused {
		return e.ack(), nil
	}
	if startErr := e.startFeed(); startErr != nil {
		err := e.save(ctx, func(doc *record) { doc.Params = old.Params })
		if err == nil {
			err = e.startFeed()
		}
		if err != nil {
			e.setFailed(err)
		}
		return nil, startErr
	}
	return e.ack(), nil
}

func (m *Manager) pause(ctx context.Context, req *request) (any, error) {
	e, err := m.live(req)
	if err != nil {
		return nil, err
	}
	defer e.op.Unlock()
	if err := e.stopFeed(ctx); err != nil {
		return nil, err
	}
	if err := e.save(ctx, func(doc *record) {
		if doc.Status != StatusFinished {
			doc.Status = StatusPaused
		}
	}); err != nil {
		return nil, err
	}
	return e.ack(), nil
}

func (m *Manager) unpause(req *request) (any, error) {
	e, err := m.live(req)
	if err != nil {
		return nil, err
	}
	defer e.op.Unlock()
	e.mu.Lock()
	status := e.doc.Status
	e.mu.Unlock()
	switch status {
	case StatusFinished:
		return nil, builtin.Errorf("triggerName: the feed of %s has finished; create it again", req.trigger)
	case StatusPaused:
	default:
		return e.ack(), nil // running already
	}
	if err := e.startFeed(); err != nil {
		return nil, err
	}
	if err := e.save(context.WithoutCancel(e.m.runCtx), func(doc *record) { doc.Status, doc.LastError = StatusActive, "" }); err != nil {
		return nil, err
	}
	return e.ack(), nil
}

// delete stops and removes a trigger's feed; a trigger with no feed is
// not an error (wsk calls DELETE before deleting any feed trigger).
func (m *Manager) delete(ctx context.Context, req *request) (any, error) {
	e := m.lookup(registrationKey(req.trigger))
	if e == nil {
		return ack{OK: true, Trigger: req.trigger.String()}, nil
	}
	e.op.Lock()
	defer e.op.Unlock()
	a := e.ack()
	e.mu.Lock()
	reg := e.doc.Registration
	e.mu.Unlock()
	unregErr, err := m.remove(context.WithoutCancel(ctx), e)
	if err != nil {
		return nil, err
	}
	if f, ok := e.provider.(Forgetter); ok {
		// The registration is gone; what the source keeps for it (a broker
		// session, a webhook) goes too, best effort.
		if err := f.Forget(context.WithoutCancel(ctx), reg); err != nil {
			m.log.Warn("feed deleted; its source kept state", "trigger", req.trigger.String(), "err", err)
		}
	}
	m.release(context.WithoutCancel(ctx), e.key)
	a.Status = "deleted"
	if unregErr != nil {
		a.Warning = "the source was not cleaned up: " + unregErr.Error()
	}
	m.log.Info("feed deleted", "trigger", req.trigger.String())
	return a, nil
}

// save changes the registration with fn and stores it.
func (e *entry) save(ctx context.Context, fn func(doc *record)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	prev := e.doc
	prev.Params = cloneParams(e.doc.Params)
	fn(&e.doc)
	if err := e.saveLocked(ctx); err != nil {
		e.doc = prev
		return err
	}
	return nil
}
