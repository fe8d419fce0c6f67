// Package hookfeed holds what the webhook feeds (connectors/github,
// connectors/slack) share: a provider's running hooks by the unguessable
// id in their URL, and the delivery ids a hook fired recently, which travel
// in the feed's cursor so that a redelivery is not fired twice, not even
// after a restart.
package hookfeed

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
)

// Set is a provider's running hooks by id. The zero value is ready.
type Set[H any] struct {
	mu sync.RWMutex
	m  map[string]*H
}

// Add registers h under id; an error when a hook already runs there.
func (s *Set[H]) Add(id string, h *H) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.m[id]; dup {
		return fmt.Errorf("a hook already runs at id %s", id)
	}
	if s.m == nil {
		s.m = map[string]*H{}
	}
	s.m[id] = h
	return nil
}

// Run adds h at id and returns the running feed: its Stop removes h, so
// that the hook's URL answers 404 until the feed starts again.
func (s *Set[H]) Run(id string, h *H) (feeds.Feed, error) {
	if err := s.Add(id, h); err != nil {
		return nil, err
	}
	return running[H]{s: s, id: id, h: h}, nil
}

type running[H any] struct {
	s  *Set[H]
	id string
	h  *H
}

func (r running[H]) Stop(context.Context) error {
	r.s.Remove(r.id, r.h)
	return nil
}

// Remove unregisters h, if it is still the hook at id.
func (s *Set[H]) Remove(id string, h *H) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[id] == h {
		delete(s.m, id)
	}
}

// Lookup returns the hook at id, or nil.
func (s *Set[H]) Lookup(id string) *H {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.m[id]
}

// Deliveries fires a hook's events through its sink, at most once per
// delivery id among the last max ids. It serialises the hook's deliveries.
type Deliveries struct {
	sink feeds.Sink
	max  int

	mu     sync.Mutex
	recent []string // oldest first, at most max
}

// NewDeliveries starts from the recent ids saved in cursor (a feed's
// Registration.Cursor; "" for none). An unreadable cursor is an error and
// the returned Deliveries starts afresh.
func NewDeliveries(sink feeds.Sink, max int, cursor string) (*Deliveries, error) {
	d := &Deliveries{sink: sink, max: max}
	if cursor == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(cursor), &d.recent); err != nil {
		d.recent = nil
		return d, fmt.Errorf("unreadable recent delivery ids: %w", err)
	}
	return d, nil
}

// Deliver hands payload to the sink (which persists it) unless id was
// delivered before: then duplicate is true and nothing is delivered. An
// empty id is never a duplicate. The recent ids, id included, are the
// event's cursor.
//
// attrs are the event's CloudEvents attributes (nil: none); see
// feeds.Event.Attributes.
func (d *Deliveries) Deliver(ctx context.Context, id string, payload []byte, attrs *entity.EventAttributes) (duplicate bool, err error) {
	return d.deliver(ctx, id, payload, true, attrs)
}

// DeliverRepeatable is Deliver for a source whose ids come back for new
// events (MQTT reuses packet ids): only a delivery the source marks as a
// redelivery is checked against the recent ids; every delivery is
// recorded among them.
func (d *Deliveries) DeliverRepeatable(ctx context.Context, id string, payload []byte, redelivery bool, attrs *entity.EventAttributes) (duplicate bool, err error) {
	return d.deliver(ctx, id, payload, redelivery, attrs)
}

func (d *Deliveries) deliver(ctx context.Context, id string, payload []byte, check bool, attrs *entity.EventAttributes) (duplicate bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id != "" && check && slices.Contains(d.recent, id) {
		return true, nil
	}
	recent := d.recent
	if id != "" {
		recent = slices.DeleteFunc(slices.Clone(d.recent), func(r string) bool { return r == id })
		recent = append(recent, id)
		if len(recent) > d.max {
			recent = recent[len(recent)-d.max:]
		}
	}
	cursor, err := json.Marshal(recent)
	if err != nil {
		return false, fmt.Errorf("encode recent delivery ids: %w", err)
	}
	if err := d.sink.Deliver(ctx, feeds.Event{Payload: payload, Cursor: string(cursor), Attributes: attrs}); err != nil {
		return false, err
	}
	d.recent = recent
	return false, nil
}

// IDs lists the ids of the running hooks, sorted.
func (s *Set[H]) IDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.m))
	for id := range s.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
